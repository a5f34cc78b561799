package io.onceflow.ops.cluster;

import io.onceflow.local.LocalEnvironment;
import io.onceflow.local.PaymentWorkload;
import io.onceflow.ops.OpsTesting;
import io.onceflow.testing.TopicReader;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The payments job on a real standalone cluster (JobManager and TaskManager in their own JVMs)
 * against the project's real local services, operated only through the CLI: cluster up, submit,
 * stop with a savepoint, resume from it, lose the JobManager and resume from the latest retained
 * checkpoint, check an upgrade of the job to itself, cluster down. Every request sent across all of
 * that has exactly one committed result.
 */
class LocalClusterITCase {

    private static final List<String> TOPICS = List.of("payments.requests", "payments.results", "payments.completed", "payments.dlq");

    /** Kept when a test failed, for a look at its logs; deleted otherwise. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    static Path root;
    private static LocalEnvironment services;
    private static PaymentWorkload workload;
    private static final AtomicInteger decodable = new AtomicInteger();
    private static final AtomicInteger undecodable = new AtomicInteger();

    @BeforeAll
    static void startServices() throws Exception {
        services = OpsTesting.localServices(root, TOPICS);
        workload = new PaymentWorkload(7, 200, Instant.now());
        try (Connection connection = services.postgresEndpoint().connect()) {
            workload.seedCustomers(connection);
        }
    }

    @AfterAll
    static void stopServices() throws Exception {
        if (services != null) {
            services.close();
        }
    }

    @Test
    void operatesThePaymentsJobOnAStandaloneCluster() throws Exception {
        Path home = root.resolve("cluster");
        List<String> clusterDir = List.of("--cluster-dir", home.toString());
        OpsTesting.distribution();

        long upStart = System.nanoTime();
        var up = OpsTesting.cli(OpsTesting.concat(List.of("cluster", "up", "--rest-port", "0"), clusterDir));
        long upMillis = Duration.ofNanos(System.nanoTime() - upStart).toMillis();
        assertThat(up.exitCode()).as(up.toString()).isZero();
        LocalCluster cluster = LocalCluster.existing(home);
        try {
            long jm = cluster.pid("jobmanager").orElseThrow();
            long tm = cluster.pid("taskmanager-0").orElseThrow();
            assertThat(jm).isNotEqualTo(tm).isNotEqualTo(ProcessHandle.current().pid());
            assertThat(ProcessHandle.of(jm).orElseThrow().info().commandLine().orElse(""))
                    .contains("StandaloneSessionClusterEntrypoint");
            assertThat(cluster.log("jobmanager")).exists();

            Map<String, String> local = new LinkedHashMap<>();
            local.put("kafka.bootstrap-servers", services.kafka().bootstrapServers());
            local.put("postgres.url", services.postgresEndpoint().jdbcUrl());
            local.put("postgres.user", services.postgresEndpoint().user());
            local.put("postgres.password-env", "");
            local.put("gateway.url", services.gateway().baseUrl());
            local.put("lake.warehouse", root.resolve("lake").toUri().toString());
            List<String> job = OpsTesting.concat(List.of("payments", "--jar", OpsTesting.jobJar().toString()), clusterDir, OpsTesting.sets(local));

            long submitStart = System.nanoTime();
            var submit = OpsTesting.cli(OpsTesting.concat(List.of("submit"), job));
            long submitMillis = Duration.ofNanos(System.nanoTime() - submitStart).toMillis();
            assertThat(submit.exitCode()).as(submit.toString()).isZero();
            String firstJob = submit.lastOutLine();
            FlinkRest rest = cluster.rest();
            assertThat(rest.allTasksRunning(firstJob)).isTrue();
            assertThat(rest.checkpoints(firstJob).completed()).isGreaterThanOrEqualTo(1);
            send(150);

            var status = OpsTesting.cli(OpsTesting.concat(List.of("status"), clusterDir));
            assertThat(status.exitCode()).isZero();
            assertThat(status.out()).contains(firstJob).contains("RUNNING").contains("onceflow-payments");

            long stopStart = System.nanoTime();
            var stop = OpsTesting.cli(OpsTesting.concat(List.of("stop", "payments"), clusterDir));
            long stopMillis = Duration.ofNanos(System.nanoTime() - stopStart).toMillis();
            assertThat(stop.exitCode()).as(stop.toString()).isZero();
            String savepoint = stop.lastOutLine();
            assertThat(Path.of(java.net.URI.create(savepoint)).resolve("_metadata")).exists();
            assertThat(rest.job(firstJob).orElseThrow().state()).isEqualTo("FINISHED");
            send(150);

            var resume = OpsTesting.cli(OpsTesting.concat(List.of("resume", "payments"), clusterDir));
            assertThat(resume.exitCode()).as(resume.toString()).isZero();
            String resumed = resume.lastOutLine();
            assertThat(resume.err()).contains(savepoint).contains("on the cluster already");
            assertThat(rest.allTasksRunning(resumed)).isTrue();
            send(150);
            awaitEveryRequestAnswered();

            // The upgrade check of the job against its own jar: every uid present, every type the same.
            var check = OpsTesting.cli(OpsTesting.concat(List.of("upgrade", "payments", "--check", "--jar", OpsTesting.jobJar().toString()), clusterDir));
            assertThat(check.exitCode()).as(check.toString()).isZero();
            assertThat(check.out()).startsWith("PASSED").doesNotContain("problem");
            assertThat(check.out()).containsPattern("PASSED: savepoint \\S+, \\d+ stateful operators, \\d+ states");

            // The JobManager dies with the job: no HA, so the job is resumed from its retained checkpoint.
            long checkpointBeforeLoss = rest.checkpoints(resumed).latestCompletedId();
            cluster.killJobManager();
            cluster.startJobManager(Duration.ofMinutes(1));
            rest.await("see the TaskManager register again", Duration.ofMinutes(1), rest::taskManagerCount, n -> n >= 1);
            assertThat(rest.jobs()).isEmpty();
            var afterLoss = OpsTesting.cli(OpsTesting.concat(List.of("resume", "payments", "--latest-checkpoint"), clusterDir));
            assertThat(afterLoss.exitCode()).as(afterLoss.toString()).isZero();
            assertThat(afterLoss.err()).containsPattern(resumed + "/chk-\\d+");
            // The new JobManager lists the jar the old one stored in web.upload.dir: no second upload.
            assertThat(afterLoss.err()).contains("on the cluster already").doesNotContain("Uploading");
            long restoredFrom = Long.parseLong(afterLoss.err().replaceAll("(?s).*/chk-(\\d+).*", "$1"));
            assertThat(restoredFrom).isGreaterThanOrEqualTo(checkpointBeforeLoss);
            send(150);
            awaitEveryRequestAnswered();

            // The TaskManager dies: started again under the same resource id, it replaces the
            // lost one at once and the job restores its latest checkpoint by itself.
            String afterLossJob = afterLoss.lastOutLine();
            long checkpointsBefore = rest.checkpoints(afterLossJob).completed();
            cluster.killTaskManager(0);
            cluster.startTaskManager(0);
            rest.await("see the job recover on the restarted TaskManager", Duration.ofMinutes(2),
                    () -> rest.allTasksRunning(afterLossJob) && rest.checkpoints(afterLossJob).completed() > checkpointsBefore,
                    recovered -> recovered);
            send(150);
            awaitEveryRequestAnswered();

            System.out.printf("MEASURED local cluster: cluster up %d ms, submit to running+checkpoint %d ms, stop-with-savepoint %d ms%n",
                    upMillis, submitMillis, stopMillis);
        } finally {
            var down = OpsTesting.cli(OpsTesting.concat(List.of("cluster", "down"), clusterDir));
            assertThat(down.exitCode()).as(down.toString()).isZero();
        }
        assertThat(cluster.runningRoles()).isEmpty();
        try (var pids = Files.list(home.resolve("run"))) {
            assertThat(pids.toList()).isEmpty();
        }
        assertThat(ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains("-Donceflow.cluster=" + home)))
                .isEmpty();
    }

    private static void send(int count) {
        try (var producer = new KafkaProducer<byte[], byte[]>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, services.kafka().bootstrapServers(),
                        ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < count; i++) {
                PaymentWorkload.Generated record = workload.next();
                (record.request() == null ? undecodable : decodable).incrementAndGet();
                producer.send(new ProducerRecord<>("payments.requests", record.key(), record.value()));
            }
            producer.flush();
        }
    }

    /** One committed result per decodable request and one dead letter per undecodable one, no more. */
    private static void awaitEveryRequestAnswered() {
        String bootstrap = services.kafka().bootstrapServers();
        Waits.until("see every request answered exactly once", Duration.ofMinutes(2),
                () -> List.of(TopicReader.readCommitted(bootstrap, "payments.results").size(),
                        TopicReader.readCommitted(bootstrap, "payments.dlq").size()),
                counts -> counts.get(0) >= decodable.get() && counts.get(1) >= undecodable.get());
        assertThat(TopicReader.readCommitted(bootstrap, "payments.results")).hasSize(decodable.get());
        assertThat(TopicReader.readCommitted(bootstrap, "payments.dlq")).hasSize(undecodable.get());
    }

}
