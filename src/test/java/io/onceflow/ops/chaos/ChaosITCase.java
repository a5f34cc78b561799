package io.onceflow.ops.chaos;

import io.onceflow.analytics.AnalyticsConfig;
import io.onceflow.lake.LakeCatalog;
import io.onceflow.lake.LakeReader;
import io.onceflow.lake.LakeTables;
import io.onceflow.local.AnalyticsWorkload;
import io.onceflow.local.LocalEnvironment;
import io.onceflow.local.PaymentWorkload;
import io.onceflow.ops.OpsTesting;
import io.onceflow.ops.cluster.FlinkRest;
import io.onceflow.ops.cluster.LocalCluster;
import io.onceflow.ops.cluster.Waits;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.records.DeadLetter;
import io.onceflow.records.SingleObjectCodec;
import io.onceflow.testing.TopicReader;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Both jobs on a real standalone cluster (JobManager and two TaskManagers in their own JVMs,
 * RocksDB, checkpoints on local disk) against the real broker, PostgreSQL and gateway simulator,
 * operated through the CLI, while a producer sends payment requests and analytics events at a
 * steady rate and a seeded schedule, at random moments: kills a TaskManager with SIGKILL (and
 * starts it again, as a supervisor would), kills the JobManager and resumes both jobs from their
 * latest retained checkpoints, restarts PostgreSQL, restarts the Kafka broker, takes the gateway
 * down, and upgrades the payments job to its own jar. Afterwards every request has exactly one
 * committed result, every undecodable record one dead letter, every analytics record its one
 * outcome, no PostgreSQL transaction is left prepared and no Kafka transaction open, and {@code
 * onceflow reconcile} of each job finds nothing lost or duplicated in any store.
 *
 * <p>CI runs the quick form (20 records of each job per second, at least 2,000, two TaskManager
 * kills, 10 s of gateway outage); {@code -Pchaos} the full one (250 per second, at least 100,000 of
 * each job, five TaskManager kills, 30 s of gateway outage). Each fault's recovery time is printed as {@code
 * CHAOS ...} lines.
 */
class ChaosITCase {

    private static final int RECORDS = Integer.getInteger("onceflow.chaos.records", 2_000);
    private static final int RATE_PER_SECOND = Integer.getInteger("onceflow.chaos.rate", 20);
    private static final int TASK_MANAGER_KILLS = Integer.getInteger("onceflow.chaos.taskmanager-kills", 2);
    private static final Duration GATEWAY_OUTAGE =
            Duration.ofSeconds(Integer.getInteger("onceflow.chaos.gateway-outage-seconds", 10));
    /** Calls the gateway must refuse during its outage: jobs/payments.yaml's circuit-breaker minimum-number-of-calls. */
    private static final long OUTAGE_REFUSALS = 20;
    private static final long SEED = Long.getLong("onceflow.chaos.seed", 20261125L);
    private static final Duration RECOVERY_TIMEOUT = Duration.ofMinutes(3);

    private static final String PAYMENT_REQUESTS = "payments.requests";
    private static final String ANALYTICS_EVENTS = "analytics.events";
    private static final List<String> TOPICS = List.of(
            PAYMENT_REQUESTS, "payments.results", "payments.completed", "payments.dlq", ANALYTICS_EVENTS, "analytics.dlq");
    private static final List<String> JOBS = List.of("payments", "analytics");

    /** Kept when a test failed, for a look at its logs; deleted otherwise. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    static Path root;
    private static LocalEnvironment services;

    @BeforeAll
    static void startServices() throws Exception {
        services = OpsTesting.localServices(root, TOPICS);
    }

    @AfterAll
    static void stopServices() throws Exception {
        if (services != null) {
            services.close();
        }
    }

    @Test
    void bothJobsLoseAndRepeatNothingThroughKillsRestartsAndOutages() throws Exception {
        PaymentWorkload payments = new PaymentWorkload(SEED, 500, Instant.now());
        AnalyticsWorkload analytics = new AnalyticsWorkload(SEED, 500, Instant.now(), Duration.ofMillis(10));
        try (Connection connection = services.postgresEndpoint().connect()) {
            payments.seedCustomers(connection);
            analytics.seedUsers(connection);
        }
        Path home = root.resolve("cluster");
        List<String> clusterDir = List.of("--cluster-dir", home.toString());
        OpsTesting.distribution();
        cli(OpsTesting.concat(List.of("cluster", "up", "--rest-port", "0", "--task-managers", "2", "--slots", "2"), clusterDir));
        LocalCluster cluster = LocalCluster.existing(home);
        FlinkRest rest = cluster.rest();
        Map<String, String> jobIds = new ConcurrentHashMap<>();
        Producer producer = new Producer(payments, analytics);
        List<String> figures = new ArrayList<>();
        try {
            Instant since = Instant.now();
            Instant rangeStart = since.minusSeconds(1);
            for (String job : JOBS) {
                var submit = cli(OpsTesting.concat(List.of("submit", job), jobArguments(job), clusterDir));
                jobIds.put(job, submit.lastOutLine());
            }
            figures.add(String.format("both jobs submitted and checkpointing in %d ms", millisSince(since)));
            producer.start();

            Random random = new Random(SEED);
            List<String> faults = new ArrayList<>();
            for (int i = 0; i < TASK_MANAGER_KILLS; i++) {
                faults.add("taskmanager");
            }
            faults.addAll(List.of("jobmanager", "postgres", "broker", "gateway", "upgrade"));
            Collections.shuffle(faults, random);
            for (String fault : faults) {
                // A random moment of steady traffic: after 1 to 5 s worth of further records.
                int target = producer.sent() + RATE_PER_SECOND * (1 + random.nextInt(5));
                Waits.until("see the producer send " + target + " records", Duration.ofMinutes(2), producer::sent, n -> n >= target);
                producer.checkHealthy();
                figures.add(inject(fault, random, cluster, rest, jobIds, clusterDir));
            }
            producer.faultsDone();
            producer.awaitDone(Duration.ofMinutes(30));
            Instant drained = Instant.now();
            awaitEveryRecordAnswered(producer);
            figures.add(String.format("after the last record was sent, every one answered in %d ms", millisSince(drained)));

            // The run's range ends here. Minutes fire once the watermark passes them: one event per
            // partition 70 s ahead in event time (after the range) closes the run's last minute,
            // and reconcile compares every minute the range touched.
            Instant rangeEnd = Instant.now().plusMillis(500);
            List<String> range = List.of("--from", rangeStart.toString(), "--to", rangeEnd.toString());
            Waits.until("see the clock pass the end of the range", Duration.ofSeconds(5), Instant::now, now -> now.isAfter(rangeEnd));
            producer.closeTheLastMinute(Instant.now().plusSeconds(70));
            List<String> analyticsReconcile = OpsTesting.concat(List.of("reconcile", "analytics"), OpsTesting.sets(overrides("analytics")), range);
            Waits.until("see reconcile of analytics agree once the run's minutes fired", Duration.ofMinutes(3),
                    () -> OpsTesting.cli(analyticsReconcile).exitCode(), exit -> exit == 0);

            for (String job : JOBS) {
                cli(OpsTesting.concat(List.of("stop", job), clusterDir));
            }
            assertNothingLeftOpen();
            verifyTopics(producer);
            for (String job : JOBS) {
                var reconcile = cli(OpsTesting.concat(List.of("reconcile", job), OpsTesting.sets(overrides(job)), range));
                System.out.println("CHAOS reconcile " + job + ":\n" + reconcile.out().strip());
            }
        } finally {
            producer.close();
            figures.forEach(figure -> System.out.println("CHAOS " + figure));
            OpsTesting.cli(OpsTesting.concat(List.of("cluster", "down"), clusterDir));
        }
        assertThat(cluster.runningRoles()).isEmpty();
    }

    /** Injects one fault, waits until both jobs run and checkpoint again, and says how long that took. */
    private static String inject(
            String fault, Random random, LocalCluster cluster, FlinkRest rest, Map<String, String> jobIds, List<String> clusterDir)
            throws Exception {
        Map<String, Long> checkpointsBefore = completedCheckpoints(rest, jobIds);
        Instant start = Instant.now();
        String what;
        switch (fault) {
            case "taskmanager" -> {
                int index = random.nextInt(cluster.taskManagers());
                cluster.killTaskManager(index);
                cluster.startTaskManager(index);
                what = "kill -9 of TaskManager " + index;
            }
            case "jobmanager" -> {
                cluster.killJobManager();
                cluster.startJobManager(Duration.ofMinutes(1));
                long jobManagerBack = millisSince(start);
                rest.await("see both TaskManagers register again", Duration.ofMinutes(1), rest::taskManagerCount, n -> n >= 2);
                long taskManagersBack = millisSince(start);
                List<String> resumed = new ArrayList<>();
                for (String job : JOBS) {
                    var resume = cli(OpsTesting.concat(List.of("resume", job, "--latest-checkpoint"), clusterDir));
                    jobIds.put(job, resume.lastOutLine());
                    resumed.add(job + " running at " + millisSince(start) + " ms");
                }
                checkpointsBefore = Map.of();
                what = String.format("kill -9 of the JobManager (back at %d ms, TaskManagers registered at %d ms, %s)",
                        jobManagerBack, taskManagersBack, String.join(", ", resumed));
            }
            case "postgres" -> {
                services.postgres().restart();
                what = "PostgreSQL restart";
            }
            case "broker" -> {
                services.kafka().restart();
                what = "Kafka broker restart";
            }
            case "gateway" -> {
                long refusedBefore = services.gateway().stats().transientErrors();
                long downAt = System.nanoTime();
                services.gateway().setDown(true);
                // The outage lasts its length and until the payments job has met it: enough
                // refused calls to open its circuit breaker (minimum-number-of-calls).
                Waits.until("see the payments job meet the gateway outage", GATEWAY_OUTAGE.plus(Duration.ofMinutes(2)),
                        () -> services.gateway().stats().transientErrors() - refusedBefore,
                        refused -> refused >= OUTAGE_REFUSALS && System.nanoTime() - downAt >= GATEWAY_OUTAGE.toNanos());
                services.gateway().setDown(false);
                what = "gateway down for " + Duration.ofNanos(System.nanoTime() - downAt).toSeconds() + " s";
            }
            case "upgrade" -> {
                var upgrade = cli(OpsTesting.concat(List.of("upgrade", "payments", "--jar", OpsTesting.jobJar().toString()), clusterDir));
                jobIds.put("payments", upgrade.lastOutLine());
                checkpointsBefore = new HashMap<>(checkpointsBefore);
                checkpointsBefore.remove("payments");
                System.out.println("CHAOS upgrade log:\n" + upgrade.err().strip());
                what = "upgrade of the payments job to its own jar";
            }
            default -> throw new IllegalArgumentException(fault);
        }
        long faultMillis = millisSince(start);
        String detected = "";
        if (fault.equals("taskmanager")) {
            // The loss must be seen before "every task running" means anything: until then the
            // REST API still reports the dead TaskManager's tasks as running.
            long killedAt = start.toEpochMilli();
            rest.await("see a job fail over after the TaskManager kill", RECOVERY_TIMEOUT,
                    () -> JOBS.stream().anyMatch(job -> rest.latestFailureAt(jobIds.get(job)) >= killedAt), seen -> seen);
            detected = String.format(", failover began after %6d ms", millisSince(start));
        }
        Map<String, Long> before = checkpointsBefore;
        rest.await("see both jobs run every task again after the " + fault + " fault", RECOVERY_TIMEOUT,
                () -> JOBS.stream().allMatch(job -> rest.allTasksRunning(jobIds.get(job))), running -> running);
        long runningMillis = millisSince(start);
        rest.await("see both jobs complete a checkpoint after the " + fault + " fault", RECOVERY_TIMEOUT,
                () -> completedCheckpoints(rest, jobIds),
                counts -> JOBS.stream().allMatch(job -> counts.get(job) > before.getOrDefault(job, 0L)));
        long checkpointMillis = millisSince(start);
        List<String> failed = JOBS.stream().filter(job -> rest.latestFailureAt(jobIds.get(job)) >= start.toEpochMilli()).toList();
        return String.format("%-70s fault took %6d ms%s, every task running after %6d ms, checkpointing after %6d ms; failed over: %s",
                what, faultMillis, detected, runningMillis, checkpointMillis, failed.isEmpty() ? "none" : String.join(", ", failed));
    }

    private static Map<String, Long> completedCheckpoints(FlinkRest rest, Map<String, String> jobIds) {
        Map<String, Long> counts = new HashMap<>();
        JOBS.forEach(job -> counts.put(job, rest.checkpoints(jobIds.get(job)).completed()));
        return counts;
    }

    private static List<String> jobArguments(String job) {
        List<String> args = new ArrayList<>(List.of("--jar", OpsTesting.jobJar().toString()));
        args.addAll(OpsTesting.sets(overrides(job)));
        return args;
    }

    /** The job's file pointed at this test's services. */
    private static Map<String, String> overrides(String job) {
        Map<String, String> local = new LinkedHashMap<>();
        local.put("kafka.bootstrap-servers", services.kafka().bootstrapServers());
        local.put("postgres.url", services.postgresEndpoint().jdbcUrl());
        local.put("postgres.user", services.postgresEndpoint().user());
        local.put("postgres.password-env", "");
        local.put("lake.warehouse", root.resolve("lake").toUri().toString());
        if (job.equals("payments")) {
            local.put("gateway.url", services.gateway().baseUrl());
        }
        return local;
    }

    /** Waits until each job has answered every record the producer got acknowledged. */
    private static void awaitEveryRecordAnswered(Producer producer) {
        String bootstrap = services.kafka().bootstrapServers();
        Waits.until("see every payment request and analytics event answered", Duration.ofMinutes(10),
                () -> List.of(
                        TopicReader.readCommitted(bootstrap, "payments.results").size()
                                + TopicReader.readCommitted(bootstrap, "payments.dlq").size(),
                        TopicReader.readCommitted(bootstrap, "analytics.dlq").size()
                                + lakeEventIds().size()),
                counts -> counts.get(0) >= producer.payments.size() && counts.get(1) >= producer.analyticsOutcomes());
    }

    /** The event ids in the lake's {@code analytics.events}, one entry per row. */
    private static List<String> lakeEventIds() {
        AnalyticsConfig config = AnalyticsConfig.load(Path.of("jobs/analytics.yaml"), overrides("analytics"));
        try (LakeCatalog lake = LakeCatalog.open(config.lake(), config.lake().catalogEndpoint(config.postgres()))) {
            return LakeReader.rows(lake.table(LakeTables.ANALYTICS_EVENTS)).stream()
                    .map(row -> (String) row.getField("event_id"))
                    .toList();
        }
    }

    /** Every payment request exactly one result or dead letter, every invalid event one dead letter. */
    private static void verifyTopics(Producer producer) {
        String bootstrap = services.kafka().bootstrapServers();
        SingleObjectCodec codec = SingleObjectCodec.forTopicRecords();
        List<Long> answered = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : TopicReader.readCommitted(bootstrap, "payments.results")) {
            PaymentResult result = codec.decode(record.value(), PaymentResult.class);
            answered.add(position(result.getSource().getPartition(), result.getSource().getOffset()));
        }
        for (ConsumerRecord<byte[], byte[]> record : TopicReader.readCommitted(bootstrap, "payments.dlq")) {
            DeadLetter letter = codec.decode(record.value(), DeadLetter.class);
            answered.add(position(letter.getSource().getPartition(), letter.getSource().getOffset()));
        }
        assertThat(duplicates(answered)).as("payment requests answered more than once").isEmpty();
        assertThat(new HashSet<>(answered)).as("every payment request answered once").isEqualTo(producer.payments.keySet());

        List<Long> deadLetters = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : TopicReader.readCommitted(bootstrap, "analytics.dlq")) {
            DeadLetter letter = codec.decode(record.value(), DeadLetter.class);
            deadLetters.add(position(letter.getSource().getPartition(), letter.getSource().getOffset()));
        }
        Set<Long> invalid = new HashSet<>();
        producer.analytics.forEach((at, generated) -> {
            if (!generated.valid()) {
                invalid.add(at);
            }
        });
        assertThat(duplicates(deadLetters)).as("analytics dead letters repeated").isEmpty();
        assertThat(new HashSet<>(deadLetters)).as("every invalid analytics event dead-lettered once").isEqualTo(invalid);

        List<String> lakeEvents = lakeEventIds();
        Set<String> distinctValid = new HashSet<>();
        producer.analytics.values().stream().filter(AnalyticsWorkload.Generated::valid).forEach(g -> distinctValid.add(g.eventId()));
        assertThat(duplicates(lakeEvents)).as("analytics events repeated in the lake").isEmpty();
        assertThat(new HashSet<>(lakeEvents)).as("every distinct valid analytics event once in the lake").isEqualTo(distinctValid);
    }

    /** No prepared transaction in PostgreSQL, no open transaction in the broker, once the jobs stopped. */
    private static void assertNothingLeftOpen() throws Exception {
        try (Connection connection = services.postgresEndpoint().connect();
                Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT count(*) FROM pg_prepared_xacts")) {
            rs.next();
            assertThat(rs.getInt(1)).as("prepared transactions left in PostgreSQL").isZero();
        }
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, services.kafka().bootstrapServers()))) {
            Collection<TransactionListing> open = admin.listTransactions(new ListTransactionsOptions()
                            .filterStates(List.of(TransactionState.ONGOING, TransactionState.PREPARE_COMMIT, TransactionState.PREPARE_ABORT)))
                    .all().get(30, TimeUnit.SECONDS);
            assertThat(open).as("Kafka transactions left open").isEmpty();
        }
    }

    private static <T> List<T> duplicates(List<T> values) {
        Set<T> seen = new HashSet<>();
        return values.stream().filter(value -> !seen.add(value)).toList();
    }

    private static long position(int partition, long offset) {
        return ((long) partition << 48) | offset;
    }

    private static long millisSince(Instant start) {
        return Duration.between(start, Instant.now()).toMillis();
    }

    private static OpsTesting.Run cli(List<String> args) {
        OpsTesting.Run run = OpsTesting.cli(args);
        assertThat(run.exitCode()).as("onceflow %s%n%s", String.join(" ", args), run).isZero();
        return run;
    }


    /**
     * Sends records of each job at a steady rate from its own thread until every fault was injected
     * and at least {@link #RECORDS} of each were sent, so traffic flows through every fault; keeps
     * each acknowledged record by its position. A send the broker does not acknowledge (it retries
     * through the broker's restart) fails the run: the test must know exactly what was sent.
     */
    private static final class Producer implements AutoCloseable {
        final Map<Long, PaymentWorkload.Generated> payments = new ConcurrentHashMap<>();
        final Map<Long, AnalyticsWorkload.Generated> analytics = new ConcurrentHashMap<>();
        private final PaymentWorkload paymentWorkload;
        private final AnalyticsWorkload analyticsWorkload;
        private final AtomicReference<Exception> failure = new AtomicReference<>();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicBoolean faultsDone = new AtomicBoolean();
        private final java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
        private final KafkaProducer<byte[], byte[]> producer;
        private final Thread thread;

        Producer(PaymentWorkload paymentWorkload, AnalyticsWorkload analyticsWorkload) {
            this.paymentWorkload = paymentWorkload;
            this.analyticsWorkload = analyticsWorkload;
            this.producer = new KafkaProducer<>(
                    Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, services.kafka().bootstrapServers(),
                            ProducerConfig.ACKS_CONFIG, "all",
                            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                            ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 300_000),
                    new ByteArraySerializer(), new ByteArraySerializer());
            this.thread = new Thread(this::run, "chaos-producer");
        }

        void start() {
            thread.start();
        }

        private void run() {
            long interval = TimeUnit.SECONDS.toNanos(1) / RATE_PER_SECOND;
            long next = System.nanoTime();
            for (int i = 0; (i < RECORDS || !faultsDone.get()) && !stop.get(); i++) {
                PaymentWorkload.Generated payment = paymentWorkload.next();
                send(PAYMENT_REQUESTS, payment.key(), payment.value(), payment, payments);
                AnalyticsWorkload.Generated event = analyticsWorkload.next();
                send(ANALYTICS_EVENTS, event.key(), event.value(), event, analytics);
                sent.incrementAndGet();
                next += interval;
                LockSupport.parkNanos(next - System.nanoTime());
            }
            producer.flush();
        }

        private <T> void send(String topic, byte[] key, byte[] value, T generated, Map<Long, T> acknowledged) {
            producer.send(new ProducerRecord<>(topic, key, value), (metadata, exception) -> {
                if (exception != null) {
                    failure.compareAndSet(null, exception);
                } else {
                    acknowledged.put(position(metadata.partition(), metadata.offset()), generated);
                }
            });
        }

        /** Analytics records with one outcome each: dead letter, or one event in the minute counts. */
        int analyticsOutcomes() {
            Set<String> distinctValid = new HashSet<>();
            int invalid = 0;
            for (AnalyticsWorkload.Generated generated : analytics.values()) {
                if (generated.valid()) {
                    distinctValid.add(generated.eventId());
                } else {
                    invalid++;
                }
            }
            return distinctValid.size() + invalid;
        }

        /**
         * Sends one valid analytics event per partition occurring at {@code at}: the watermark
         * passes every earlier minute. Kept like every other record, so the lake checks count it.
         */
        void closeTheLastMinute(Instant at) {
            for (int partition = 0; partition < 2; partition++) {
                AnalyticsWorkload.Generated event = analyticsWorkload.next(at);
                while (event.kind() != AnalyticsWorkload.Kind.NEW) {
                    event = analyticsWorkload.next(at);
                }
                AnalyticsWorkload.Generated pusher = event;
                producer.send(new ProducerRecord<>(ANALYTICS_EVENTS, partition, pusher.key(), pusher.value()), (metadata, exception) -> {
                    if (exception != null) {
                        failure.compareAndSet(null, exception);
                    } else {
                        analytics.put(position(metadata.partition(), metadata.offset()), pusher);
                    }
                });
            }
            producer.flush();
            checkHealthy();
        }

        int sent() {
            return sent.get();
        }

        void faultsDone() {
            faultsDone.set(true);
        }

        void checkHealthy() {
            if (failure.get() != null) {
                throw new AssertionError("The broker did not acknowledge a record", failure.get());
            }
        }

        void awaitDone(Duration timeout) throws InterruptedException {
            thread.join(timeout.toMillis());
            assertThat(thread.isAlive()).as("producer still sending after %s", timeout).isFalse();
            checkHealthy();
            assertThat(sent.get()).isGreaterThanOrEqualTo(RECORDS);
            assertThat(payments).as("payment requests acknowledged").hasSize(sent.get());
            assertThat(analytics).as("analytics events acknowledged").hasSize(sent.get());
            System.out.printf("CHAOS sent %d payment requests and %d analytics events%n", sent.get(), sent.get());
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(60_000);
            producer.close(Duration.ofSeconds(30));
        }
    }
}
