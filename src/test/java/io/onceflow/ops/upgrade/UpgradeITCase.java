package io.onceflow.ops.upgrade;

import io.onceflow.local.LocalKafka;
import io.onceflow.ops.OpsTesting;
import io.onceflow.ops.cluster.FlinkRest;
import io.onceflow.ops.cluster.LocalCluster;
import io.onceflow.ops.cluster.Waits;
import io.onceflow.ops.jobs.Submission;
import io.onceflow.testing.TestServices;
import io.onceflow.testing.TopicReader;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Upgrades on a real standalone cluster, through the CLI, with data flowing the whole time: a v1
 * job with Avro keyed state; refused checks of a v3 whose state field changed type and of a v4
 * that lost the stateful operator's uid; an upgrade to a v5 that cannot start, which puts v1
 * back; the upgrade to v2, whose state type gained a field with a default. Afterwards every input
 * record has exactly one output, and each key's counts run 1, 2, 3 ... without a gap or repeat
 * across all of it, so the state survived every step.
 */
class UpgradeITCase {

    private static final int KEYS = 10;
    /** Upgrades back and forth between v2 and v1 after the first: 1 in CI, more with -Pupgrade-soak. */
    private static final int ROUNDS = Integer.getInteger("onceflow.upgrade.rounds", 1);

    /** Kept when a test failed, for a look at its logs; deleted otherwise. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    static Path root;
    private static LocalCluster cluster;
    private static LocalKafka kafka;

    @BeforeAll
    static void startCluster() {
        kafka = TestServices.kafka();
        cluster = LocalCluster.of(LocalCluster.Settings.defaults(root.resolve("cluster"), OpsTesting.distribution())
                .withRestPort(0)).start(Duration.ofMinutes(2));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void upgradesWithTheStateCheckAndFallsBackWhenTheNewVersionCannotStart() throws Exception {
        String input = "upgrade-in-" + UUID.randomUUID();
        String output = "upgrade-out-" + UUID.randomUUID();
        kafka.createTopics(1, List.of(input, output));
        Path jars = Files.createDirectories(root.resolve("jars"));
        Path v1 = CounterJobJars.build(jars, "v1", CounterJobJars.V1, "counter", false);
        Path v2 = CounterJobJars.build(jars, "v2", CounterJobJars.V2_FIELD_ADDED, "counter", false);
        Path v3 = CounterJobJars.build(jars, "v3", CounterJobJars.V3_FIELD_RETYPED, "counter", false);
        Path v4 = CounterJobJars.build(jars, "v4", CounterJobJars.V1, "counter-renamed", false);
        Path v5 = CounterJobJars.build(jars, "v5", CounterJobJars.V2_FIELD_ADDED, "counter", true);

        Path jobs = Files.createDirectories(root.resolve("jobs"));
        Files.writeString(jobs.resolve("counter.yaml"), "job:\n  name: onceflow-upgrade-test\n  parallelism: 1\n");
        List<String> where = List.of("--cluster-dir", cluster.home().toString(), "--rest-url", cluster.restUri().toString());

        Producer producer = new Producer(kafka.bootstrapServers(), input);
        producer.send(200);
        var submit = OpsTesting.cli(OpsTesting.concat(List.of("submit", "counter", "--jobs-dir", jobs.toString(), "--jar", v1.toString(), "--entry-class", CounterJobJars.MAIN,
                "--set", "counter.bootstrap-servers=" + kafka.bootstrapServers(), "--set", "counter.input=" + input,
                "--set", "counter.output=" + output), where));
        assertThat(submit.exitCode()).as(submit.toString()).isZero();
        String v1Job = submit.lastOutLine();

        List<Long> downtimes = new ArrayList<>();
        int finalFields = 3;
        Thread flowing = producer.startFlowing();
        try {
            // The checks alone share one savepoint of the running v1 (--savepoint); the upgrades
            // below take their own.
            String savepoint = cluster.rest().triggerSavepoint(v1Job, null, Duration.ofMinutes(2));
            List<String> checkAgainst = OpsTesting.concat(List.of("--check", "--savepoint", savepoint), where);
            var retyped = OpsTesting.cli(OpsTesting.concat(List.of("upgrade", "counter", "--jar", v3.toString()), checkAgainst));
            assertThat(retyped.exitCode()).as(retyped.toString()).isEqualTo(1);
            assertThat(retyped.out()).startsWith("REFUSED")
                    .contains("state 'counter' (KEYED VALUE) of operator 'counter' cannot be read by the new job")
                    .contains("field 'note' of Counter: TYPE_MISMATCH");
            assertThat(retyped.err()).contains("Upgrade of 'counter' to v3.jar refused");

            var uidGone = OpsTesting.cli(OpsTesting.concat(List.of("upgrade", "counter", "--jar", v4.toString()), checkAgainst));
            assertThat(uidGone.exitCode()).as(uidGone.toString()).isEqualTo(1);
            assertThat(uidGone.out()).contains("operator 'counter' has state 'counter', '_timer_state/")
                    .contains("in the savepoint but is not in the new job");
            var dropping = OpsTesting.cli(OpsTesting.concat(List.of("upgrade", "counter", "--allow-dropping-state", "--jar", v4.toString()), checkAgainst));
            assertThat(dropping.exitCode()).as(dropping.toString()).isZero();
            assertThat(dropping.out()).contains("dropped: operator 'counter' has state 'counter'");

            // A refused upgrade (not just --check) leaves the job alone.
            var refused = OpsTesting.cli(OpsTesting.concat(List.of("upgrade", "counter", "--jar", v3.toString()), where));
            assertThat(refused.exitCode()).isEqualTo(1);
            assertThat(refused.err()).contains("refused, the job keeps running");
            assertThat(cluster.rest().job(v1Job).orElseThrow().state()).isEqualTo("RUNNING");

            var broken = OpsTesting.cli(OpsTesting.concat(List.of("upgrade", "counter", "--jar", v5.toString()), where));
            assertThat(broken.exitCode()).as(broken.toString()).isEqualTo(1);
            assertThat(broken.err()).contains("the new version did not start").contains("this version cannot start")
                    .contains("the old version runs again from");
            Submission afterFallback = Submission.load(cluster.home().resolve("jobs"), "counter").orElseThrow();
            assertThat(afterFallback.jar()).isEqualTo(v1.toString());
            assertThat(cluster.rest().allTasksRunning(afterFallback.jobId())).isTrue();

            var upgrade = OpsTesting.cli(OpsTesting.concat(List.of("upgrade", "counter", "--jar", v2.toString()), where));
            assertThat(upgrade.exitCode()).as(upgrade.toString()).isZero();
            assertThat(upgrade.err()).contains("State check passed").contains("Counter gains field 'lastSeen' (default 0)");
            String v2Job = upgrade.lastOutLine();
            FlinkRest rest = cluster.rest();
            assertThat(rest.allTasksRunning(v2Job)).isTrue();
            System.out.println("MEASURED upgrade: " + upgrade.err().lines().filter(l -> l.startsWith("Upgraded")).findFirst().orElse("?"));
            downtimes.add(downtime(upgrade.err()));

            // v1 reads v2's state too (Avro ignores the field it does not know), so the soak
            // alternates; every round must keep the counts exact.
            for (int round = 2; round <= ROUNDS; round++) {
                Path target = round % 2 == 0 ? v1 : v2;
                var again = OpsTesting.cli(OpsTesting.concat(List.of("upgrade", "counter", "--jar", target.toString()), where));
                assertThat(again.exitCode()).as("round " + round + ": " + again).isZero();
                downtimes.add(downtime(again.err()));
                finalFields = target == v2 ? 3 : 2;
            }
            List<Long> sorted = downtimes.stream().sorted().toList();
            System.out.printf("MEASURED upgrade downtime over %d upgrades: min %d ms, median %d ms, max %d ms%n",
                    sorted.size(), sorted.get(0), sorted.get(sorted.size() / 2), sorted.get(sorted.size() - 1));
        } finally {
            producer.stopFlowing(flowing);
        }
        producer.send(100);

        int sent = producer.sent.get();
        Waits.until("see an output for every input", Duration.ofMinutes(2),
                () -> TopicReader.readCommitted(kafka.bootstrapServers(), output).size(), n -> n >= sent);
        List<String> lines = TopicReader.readCommitted(kafka.bootstrapServers(), output).stream()
                .map(r -> new String(r.value(), java.nio.charset.StandardCharsets.UTF_8)).toList();
        assertThat(lines).hasSize(sent);
        assertThat(lines.stream().map(l -> l.split(",")[1]).distinct().count()).isEqualTo(sent);
        Map<String, List<Long>> countsByKey = new HashMap<>();
        for (String line : lines) {
            String[] parts = line.split(",");
            countsByKey.computeIfAbsent(parts[0], k -> new ArrayList<>()).add(Long.parseLong(parts[2]));
        }
        countsByKey.forEach((key, counts) -> {
            for (int i = 0; i < counts.size(); i++) {
                assertThat(counts.get(i)).as("count %d of key %s", i + 1, key).isEqualTo(i + 1L);
            }
        });
        // v1's Counter has 2 fields, v2's 3: the last outputs came from the version upgraded to last.
        assertThat(lines.get(0)).endsWith(",2");
        assertThat(lines.get(lines.size() - 1)).endsWith("," + finalFields);
    }

    private static long downtime(String err) {
        var matcher = java.util.regex.Pattern.compile("downtime (\\d+) ms").matcher(err);
        assertThat(matcher.find()).as("downtime reported in: " + err).isTrue();
        return Long.parseLong(matcher.group(1));
    }

    /** Input lines "key,id" with unique ids; flows at about 100 a second while an upgrade runs. */
    private static final class Producer {
        final AtomicInteger sent = new AtomicInteger();
        private final AtomicBoolean flowing = new AtomicBoolean();
        private final String bootstrap;
        private final String topic;

        Producer(String bootstrap, String topic) {
            this.bootstrap = bootstrap;
            this.topic = topic;
        }

        void send(int count) {
            try (var producer = producer()) {
                for (int i = 0; i < count; i++) {
                    sendOne(producer);
                }
                producer.flush();
            }
        }

        private KafkaProducer<String, String> producer() {
            return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all",
                    ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true), new StringSerializer(), new StringSerializer());
        }

        private void sendOne(KafkaProducer<String, String> producer) {
            int id = sent.getAndIncrement();
            producer.send(new ProducerRecord<>(topic, "k" + (id % KEYS) + "," + id));
        }

        Thread startFlowing() {
            flowing.set(true);
            Thread thread = new Thread(() -> {
                try (var producer = producer()) {
                    // Bounded: at most 10 minutes of input, whatever the test does.
                    for (int i = 0; i < 60_000 && flowing.get(); i++) {
                        sendOne(producer);
                        LockSupport.parkNanos(10_000_000L);
                    }
                    producer.flush();
                }
            }, "upgrade-test-input");
            thread.start();
            return thread;
        }

        void stopFlowing(Thread thread) throws InterruptedException {
            flowing.set(false);
            thread.join(30_000);
        }
    }

}
