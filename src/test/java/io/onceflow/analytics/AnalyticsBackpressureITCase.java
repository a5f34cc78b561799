package io.onceflow.analytics;

import io.onceflow.config.ConfigLoader;
import io.onceflow.config.JobSubmission;
import io.onceflow.config.Secret;
import io.onceflow.lake.LakeCatalog;
import io.onceflow.lake.LakeReader;
import io.onceflow.lake.LakeTables;
import io.onceflow.local.AnalyticsWorkload;
import io.onceflow.postgres.Migrations;
import io.onceflow.postgres.PostgresEndpoint;
import io.onceflow.testing.TestServices;

import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.data.Record;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Backpressure instead of a queue: the user-profile lookup is made slow in the database itself
 * (the {@code users} the job reads becomes a view that sleeps per query; every event has another
 * user, so neither the cache nor shared in-flight lookups help), and the Kafka source
 * reads only as fast as the lookups finish, because the async operator takes at most {@code
 * capacity} events and Flink's credit-based flow control does the rest. Nothing is buffered
 * without bound and nothing is lost: when the database is fast again the job catches up and the
 * lake holds every event, enriched.
 *
 * <p>It reports figures (source rate slow and fast, the source task's back-pressured time) and
 * asserts only directions: the source reads clearly slower while the lookup is slow, the source
 * task is back-pressured meanwhile, and every event arrives.
 */
class AnalyticsBackpressureITCase {

    private static final int EVENTS = 2_500;
    // Slow enough (8 in flight: at most 32 lookups/s) that even a source starved of CPU on a loaded
    // machine reads faster than the lookups answer: at 30 ms and at 100 ms, runs at load 5-19 read
    // only 63-108 records/s, never faster than the lookups, and the source was never back-pressured.
    private static final double SLOW_LOOKUP_SECONDS = 0.25;
    // Retained: once the job ends its tasks' metric groups go, and a sampler that missed the
    // source's last count would then see 0 records and wait for "read everything" in vain (a CI
    // run whose fast phase ended between two samples timed out so).
    private static final InMemoryReporter METRICS = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(1)
                    .setNumberSlotsPerTaskManager(1)
                    .setConfiguration(METRICS.addToConfiguration(smallNetworkBuffers()))
                    .build());

    /**
     * Flink's network buffers are bounded but, at their defaults (32 KB segments, several per
     * channel), hold thousands of these small events between two tasks; with 4 KB segments a
     * few hundred are in flight, so a test of a few thousand events sees the source held back
     * instead of the buffers filling.
     */
    private static Configuration smallNetworkBuffers() {
        Configuration configuration = new Configuration();
        configuration.set(TaskManagerOptions.MEMORY_SEGMENT_SIZE, MemorySize.parse("4kb"));
        return configuration;
    }

    /** One measurement: when, how many records the source had emitted, its back-pressured ms/s. */
    private record Sample(long atMillis, long sourceRecords, long backPressuredMsPerSecond) {}

    @Test
    void aSlowLookupSlowsTheSourceDownAndLosesNothing() throws Exception {
        String run = "analytics-bp-" + System.nanoTime();
        var kafka = TestServices.kafka();
        var database = TestServices.newDatabase("analytics_bp");
        kafka.createTopics(1, List.of(run + ".events", run + ".dlq"));
        Migrations.apply(new PostgresEndpoint(database.jdbcUrl(), database.user(), Secret.none()));
        AnalyticsWorkload workload = new AnalyticsWorkload(7, EVENTS, Instant.now(), Duration.ofMillis(20));
        try (Connection connection = database.connect(); Statement sql = connection.createStatement()) {
            workload.seedUsers(connection);
            // The job's query reads "users"; make it a view that waits lookup_delay seconds per query.
            sql.execute("ALTER TABLE users RENAME TO users_data");
            sql.execute("CREATE TABLE lookup_delay (seconds float8 NOT NULL)");
            sql.execute("INSERT INTO lookup_delay VALUES (" + SLOW_LOOKUP_SECONDS + ")");
            sql.execute("CREATE VIEW users AS SELECT u.* FROM users_data u,"
                    + " LATERAL pg_sleep((SELECT seconds FROM lookup_delay)) AS slow");
        }
        produce(kafka.bootstrapServers(), run + ".events");

        AnalyticsConfig config = ConfigLoader.parse(String.join("\n",
                "job: {name: " + run + ", namespace: " + run + ", parallelism: 1, checkpoint-interval: 500ms,"
                        + " checkpoint-directory: '" + TestServices.newDirectory("ckpt").toUri() + "'}",
                "kafka: {bootstrap-servers: '" + kafka.bootstrapServers() + "', group-id: " + run
                        + ", starting-offsets: earliest, transaction-timeout: 5m}",
                "topics: {events: " + run + ".events, dead-letters: " + run + ".dlq}",
                "postgres: {url: '" + database.jdbcUrl() + "', user: " + database.user() + "}",
                "enrichers: {page_view: [user-profile], click: [user-profile], add_to_cart: [user-profile],"
                        + " purchase: [user-profile], signup: [user-profile]}",
                "user-lookup: {pool-size: 2, cache-size: 0, capacity: 8, timeout: 30s}",
                "lake: {warehouse: '" + TestServices.newDirectory("lake").toUri() + "'}"),
                "test configuration", Map.of(), AnalyticsConfig.class);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        JobSubmission.configure(env, config.job());
        Configuration noRestarts = new Configuration();
        noRestarts.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        env.configure(noRestarts);
        new AnalyticsJob(config).build(env, AnalyticsJob.Connectors.of(config, true));
        JobClient job = env.executeAsync(config.job().name());

        List<Sample> samples = new CopyOnWriteArrayList<>();
        long started = System.currentTimeMillis();
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(
                () -> samples.add(sample(job.getJobID(), System.currentTimeMillis() - started)),
                0, 250, TimeUnit.MILLISECONDS);
        try {
            // Slow phase: at least 8 s after the source first emitted anything.
            await("the source started", Duration.ofMinutes(2), () -> last(samples).sourceRecords() > 0);
            long slowFrom = last(samples).atMillis();
            // Flink recomputes backPressuredTimeMsPerSecond every 5 s (it is a metric view), so the
            // slow phase lasts until a recomputation covered full output buffers.
            await("8 s of slow lookups and the source's back-pressure reported", Duration.ofSeconds(40),
                    () -> last(samples).atMillis() - slowFrom >= 8_000
                            && samples.stream().anyMatch(s -> s.atMillis() >= slowFrom && s.backPressuredMsPerSecond() > 0));
            Sample slowEnd = last(samples);
            Sample slowStart = samples.stream().filter(s -> s.atMillis() >= slowFrom).findFirst().orElseThrow();
            long maxBackPressure = samples.stream().filter(s -> s.atMillis() >= slowFrom)
                    .mapToLong(Sample::backPressuredMsPerSecond).max().orElse(0);
            try (Connection connection = database.connect(); Statement sql = connection.createStatement()) {
                sql.execute("UPDATE lookup_delay SET seconds = 0");
            }
            long fastFrom = System.currentTimeMillis() - started;
            await("the source read everything", Duration.ofMinutes(2), () -> last(samples).sourceRecords() >= EVENTS);
            Sample fastEnd = last(samples);
            job.getJobExecutionResult().get(3, TimeUnit.MINUTES);

            double slowRate = rate(slowStart, slowEnd);
            double fastRate = (double) (EVENTS - slowEnd.sourceRecords()) * 1000 / Math.max(1, fastEnd.atMillis() - fastFrom);
            System.out.printf(
                    "backpressure run %s: slow lookups (%.0f ms each, capacity 8): source %.0f records/s, max"
                            + " back-pressured %d ms/s, %d of %d read after %d ms; fast: %.0f records/s%n",
                    run, SLOW_LOOKUP_SECONDS * 1000, slowRate, maxBackPressure, slowEnd.sourceRecords(), EVENTS,
                    slowEnd.atMillis() - slowStart.atMillis(), fastRate);

            assertThat(slowEnd.sourceRecords()).as("the source is held back while lookups are slow").isLessThan(EVENTS / 2);
            assertThat(maxBackPressure).as("the source task was back-pressured").isPositive();
            assertThat(slowRate).as("the source reads as fast as the slow lookups allow, not more")
                    .isLessThan(2.0 * 8 / SLOW_LOOKUP_SECONDS);
        } finally {
            sampler.shutdownNow();
        }

        try (LakeCatalog lake = LakeCatalog.open(config.lake(), config.lake().catalogEndpoint(config.postgres()))) {
            List<Record> rows = LakeReader.rows(lake.table(LakeTables.ANALYTICS_EVENTS));
            assertThat(rows).as("every event, once").hasSize(EVENTS);
            assertThat(rows.stream().map(r -> r.getField("event_id")).collect(Collectors.toSet())).hasSize(EVENTS);
            assertThat(rows).as("no lookup gave up: slow is not failed")
                    .allSatisfy(r -> assertThat((List<?>) r.getField("enrichment_missing")).isEmpty());
        }
    }

    private static double rate(Sample from, Sample to) {
        return (double) (to.sourceRecords() - from.sourceRecords()) * 1000 / Math.max(1, to.atMillis() - from.atMillis());
    }

    private static Sample last(List<Sample> samples) {
        return samples.isEmpty() ? new Sample(0, 0, 0) : samples.get(samples.size() - 1);
    }

    private static Sample sample(JobID job, long atMillis) {
        long records = METRICS.findOperatorMetricGroups(job, "Source: Kafka.*").stream()
                .map(group -> METRICS.getMetricsByGroup(group).get("numRecordsOut"))
                .filter(metric -> metric instanceof Counter)
                .mapToLong(metric -> ((Counter) metric).getCount())
                .sum();
        long backPressured = METRICS.getMetricsByGroup().entrySet().stream()
                .filter(group -> List.of(group.getKey().getScopeComponents()).contains(job.toString())
                        || List.of(group.getKey().getScopeComponents()).stream().anyMatch(c -> c.startsWith("Source: Kafka")))
                .filter(group -> List.of(group.getKey().getScopeComponents()).stream().anyMatch(c -> c.startsWith("Source: Kafka")))
                .map(group -> group.getValue().get("backPressuredTimeMsPerSecond"))
                .filter(metric -> metric instanceof Gauge<?>)
                .mapToLong(metric -> ((Number) ((Gauge<?>) metric).getValue()).longValue())
                .max()
                .orElse(-1);
        return new Sample(atMillis, records, backPressured);
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Timed out waiting for " + what);
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }

    private static void produce(String bootstrap, String topic) throws Exception {
        try (var producer = new KafkaProducer<byte[], byte[]>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all"),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            Instant at = Instant.now().minusSeconds(60);
            for (int i = 0; i < EVENTS; i++) {
                String json = "{\"eventId\":\"bp-" + i + "\",\"type\":\"page_view\",\"userId\":\"" + String.format("user-%05d", i)
                        + "\",\"occurredAt\":\"" + at.plusMillis(20L * i) + "\",\"properties\":{\"url\":\"https://shop.example/\"}}";
                producer.send(new ProducerRecord<>(topic, json.getBytes(StandardCharsets.UTF_8)));
            }
            producer.flush();
        }
    }
}
