package io.onceflow.analytics;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.onceflow.analytics.model.AnalyticsMinute;
import io.onceflow.config.ConfigLoader;
import io.onceflow.config.JobSubmission;
import io.onceflow.config.Secret;
import io.onceflow.lake.LakeCatalog;
import io.onceflow.lake.LakeReader;
import io.onceflow.lake.LakeTables;
import io.onceflow.local.AnalyticsWorkload;
import io.onceflow.postgres.Migrations;
import io.onceflow.postgres.PostgresEndpoint;
import io.onceflow.records.DeadLetter;
import io.onceflow.records.SingleObjectCodec;
import io.onceflow.records.SourceRecord;
import io.onceflow.sinks.postgres.CommitFaultInjectingSink;
import io.onceflow.testing.FaultInjectingMap;
import io.onceflow.testing.Faults;
import io.onceflow.testing.FlinkChaos;
import io.onceflow.testing.RetainedMetrics;
import io.onceflow.testing.TestServices;
import io.onceflow.testing.TopicReader;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.data.Record;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The analytics job's exactly-once claim, proven by fault injection on a real broker, a real
 * PostgreSQL server and a real Iceberg table on local disk.
 *
 * <p>Each iteration, from its seed: loads a workload with SDK retries, invalid events of every
 * reason, late events, anonymous users and users missing from {@code users}; runs the whole job
 * to the end of that input while injecting, at seeded moments, a failure after a checkpoint
 * completed, a failure between the sinks' prepare and the checkpoint's completion, a crash of the
 * {@code analytics_minute} committer right after {@code COMMIT PREPARED}, and the loss of a
 * TaskManager. Then it checks: the lake holds each distinct valid event once; the dead-letter
 * topic each invalid record once with its reason; {@code analytics_minute} equals a batch
 * recomputation over the lake's non-late rows; each minute row was written once per firing; no
 * prepared transaction is left.
 *
 * <p>{@code -Donceflow.eo.iterations=N} sets the number of iterations (CI: 3; {@code
 * -Pexactly-once-soak}: 30).
 */
class AnalyticsExactlyOnceITCase {

    private static final int EVENTS = 3_000;
    private static final int USERS = 300;
    private static final int PARALLELISM = 2;
    /**
     * Event time between records: 3,000 records span 50 minutes, so every type's windows close
     * every few hundred milliseconds of the run and the minute sink commits rows on nearly every
     * checkpoint, which its committer fault needs.
     */
    private static final Duration EVENT_TIME_STEP = Duration.ofSeconds(1);
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final InMemoryReporter METRICS = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(2)
                            .setNumberSlotsPerTaskManager(PARALLELISM)
                            .setConfiguration(FlinkChaos.miniClusterConfiguration(METRICS.addToConfiguration(new Configuration())))
                            .build());

    private static ExecutorService chaos;

    @BeforeAll
    static void startChaos() {
        chaos = Executors.newSingleThreadExecutor();
    }

    @AfterAll
    static void stopChaos() {
        chaos.shutdownNow();
    }

    static Stream<Long> seeds() {
        int iterations = Integer.getInteger("onceflow.eo.iterations", 3);
        return IntStream.range(0, iterations).mapToObj(i -> 0xA11A0000L + i);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void everyValidEventOnceInTheLakeEveryInvalidOneInTheDeadLettersAndMinutesMatchTheLake(
            long seed, @InjectMiniCluster MiniCluster miniCluster) throws Exception {
        Random plan = new Random(seed);
        String run = "analytics-eo-" + Long.toHexString(seed) + "-" + System.nanoTime();
        var kafka = TestServices.kafka();
        var database = TestServices.newDatabase("analytics_eo");
        String topicPrefix = run + ".";
        kafka.createTopics(PARALLELISM, List.of(topicPrefix + "events", topicPrefix + "dlq"));

        Instant start = Instant.now().minus(EVENT_TIME_STEP.multipliedBy(EVENTS)).minus(Duration.ofMinutes(2));
        AnalyticsWorkload workload = new AnalyticsWorkload(seed, USERS, start, EVENT_TIME_STEP);
        Migrations.apply(new PostgresEndpoint(database.jdbcUrl(), database.user(), Secret.none()));
        try (Connection connection = database.connect()) {
            workload.seedUsers(connection);
        }
        Map<Long, AnalyticsWorkload.Generated> byPosition =
                produce(kafka.bootstrapServers(), topicPrefix + "events", workload.batch(EVENTS));

        AnalyticsConfig config = config(run, topicPrefix, kafka.bootstrapServers(), database);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        JobSubmission.configure(env, config.job());
        Configuration restarts = new Configuration();
        restarts.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        restarts.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 20);
        restarts.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        env.configure(restarts);

        long afterCheckpoint = 2 + plan.nextInt(4);
        long inAsyncSnapshot = afterCheckpoint + 3 + plan.nextInt(4);
        // The minute sink commits on nearly every checkpoint, so its committer's crash comes after
        // the after-checkpoint fault, or it would cut every attempt short of that fault.
        int failOnCommit = (int) afterCheckpoint + 2 + plan.nextInt(3);
        var connectors =
                AnalyticsJob.Connectors.of(config, true)
                        .withMinuteTable(new CommitFaultInjectingSink<AnalyticsMinute>(
                                AnalyticsMinuteRows.sink(config), run, failOnCommit))
                        .withAfterSource(stream -> stream
                                .map(new FaultInjectingMap<SourceRecord>(run, 100, afterCheckpoint, inAsyncSnapshot))
                                .returns(stream.getType())
                                .name("Fault injection")
                                .uid("fault-injection"));
        new AnalyticsJob(config).build(env, connectors);
        long started = System.nanoTime();
        JobClient job = env.executeAsync(config.job().name());

        long killAfterRecords = EVENTS / 4 + plan.nextInt(EVENTS * 2 / 5);
        CompletableFuture<Void> taskManagerLoss = CompletableFuture.runAsync(
                () -> FlinkChaos.loseATaskManager(miniCluster, job.getJobID(), run, killAfterRecords), chaos);
        job.getJobExecutionResult().get(4, TimeUnit.MINUTES);
        taskManagerLoss.get(1, TimeUnit.MINUTES);
        long jobMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

        assertThat(Faults.fired(run))
                .as("every planned fault fired, so the run tested what it claims")
                .contains("after-checkpoint", "async-snapshot", "during-commit");

        List<Record> lakeRows;
        try (LakeCatalog lake = LakeCatalog.open(config.lake(), config.lake().catalogEndpoint(config.postgres()))) {
            lakeRows = LakeReader.rows(lake.table(LakeTables.ANALYTICS_EVENTS));
        }
        verifyLake(lakeRows, byPosition, workload);
        Map<String, Long> deadLettersByReason = verifyDeadLetters(kafka.bootstrapServers(), topicPrefix + "dlq", byPosition);
        int minuteRows = verifyMinutes(database, lakeRows);
        for (var reason : deadLettersByReason.entrySet()) {
            assertThat(RetainedMetrics.counterOverAllAttempts(
                            METRICS, config.job().name(), reason.getKey(),
                            group -> List.of(group.getScopeComponents()).contains("deadLetters")))
                    .as("the %s counter, over every attempt (replays count again)", reason.getKey())
                    .isGreaterThanOrEqualTo(reason.getValue());
        }
        assertThat(RetainedMetrics.counterOverAllAttempts(METRICS, config.job().name(), "rowsSkippedByConflict"))
                .as("upserts never leave a row unchanged")
                .isZero();

        System.out.printf(
                "analytics exactly-once run %s: %d records, %d lake rows (%d late), dead letters %s, %d minute rows,"
                        + " job %d ms%n",
                run, byPosition.size(), lakeRows.size(),
                lakeRows.stream().filter(r -> Boolean.TRUE.equals(r.getField("late"))).count(),
                new TreeMap<>(deadLettersByReason), minuteRows, jobMillis);
    }

    private static AnalyticsConfig config(
            String run, String topicPrefix, String bootstrap, TestServices.PostgresDatabase db) {
        String yaml = String.join(
                "\n",
                "job: {name: " + run + ", namespace: " + run + ", parallelism: " + PARALLELISM + ",",
                "      checkpoint-interval: 300ms, checkpoint-timeout: 30s, checkpoint-directory: '"
                        + TestServices.newDirectory("ckpt").toUri() + "'}",
                "kafka: {bootstrap-servers: '" + bootstrap + "', group-id: " + run
                        + ", starting-offsets: earliest, transaction-timeout: 5m}",
                "topics: {events: " + topicPrefix + "events, dead-letters: " + topicPrefix + "dlq}",
                "postgres: {url: '" + db.jdbcUrl() + "', user: " + db.user() + "}",
                "event-time: {max-out-of-orderness: 5s, idleness: 1s}",
                "windows: {size: 1m, allowed-lateness: 1m}",
                "enrichers:",
                "  page_view: [device-class, user-profile]",
                "  click: [device-class]",
                "  add_to_cart: [user-profile]",
                "  purchase: [device-class, user-profile]",
                "  signup: [device-class]",
                "user-lookup: {cache-ttl: 1s}",
                "lake: {warehouse: '" + TestServices.newDirectory("lake").toUri() + "'}");
        return ConfigLoader.parse(yaml, "test configuration", Map.of(), AnalyticsConfig.class);
    }

    private static Map<Long, AnalyticsWorkload.Generated> produce(
            String bootstrap, String topic, List<AnalyticsWorkload.Generated> records) throws Exception {
        Map<Long, AnalyticsWorkload.Generated> byPosition = new HashMap<>();
        try (var producer = new KafkaProducer<byte[], byte[]>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                        ProducerConfig.ACKS_CONFIG, "all",
                        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                        // Under heavy load a produce request can outlast the 30 s default; once, in a soak
                        // at load 19, the test's own producer then met OutOfOrderSequenceException and its
                        // batches expired. The job is not under test there, so give the broker time.
                        ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 120_000,
                        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 300_000),
                new ByteArraySerializer(),
                new ByteArraySerializer())) {
            List<Future<RecordMetadata>> sends = new ArrayList<>();
            for (AnalyticsWorkload.Generated record : records) {
                sends.add(producer.send(new ProducerRecord<>(topic, record.key(), record.value())));
            }
            for (int i = 0; i < records.size(); i++) {
                RecordMetadata metadata = sends.get(i).get();
                byPosition.put(position(metadata.partition(), metadata.offset()), records.get(i));
            }
        }
        return byPosition;
    }

    private static long position(int partition, long offset) {
        return ((long) partition << 40) | offset;
    }

    /** Each distinct valid event once, with its typed properties and the enrichment it deserves. */
    private static void verifyLake(
            List<Record> rows, Map<Long, AnalyticsWorkload.Generated> sent, AnalyticsWorkload workload) {
        Map<String, AnalyticsWorkload.Generated> expected = new HashMap<>();
        sent.values().stream().filter(AnalyticsWorkload.Generated::valid).forEach(g -> expected.putIfAbsent(g.eventId(), g));
        Map<String, Long> rowsPerEvent =
                rows.stream().collect(Collectors.groupingBy(r -> (String) r.getField("event_id"), Collectors.counting()));
        assertThat(rowsPerEvent.keySet()).as("lake rows are the distinct valid events").isEqualTo(expected.keySet());
        assertThat(rowsPerEvent.values()).as("each event once in the lake").allMatch(count -> count == 1);
        assertThat(rows.stream().filter(r -> Boolean.TRUE.equals(r.getField("late"))))
                .as("late events reached the lake, marked")
                .isNotEmpty();

        Map<String, AnalyticsWorkload.User> users =
                workload.users().stream().collect(Collectors.toMap(AnalyticsWorkload.User::id, u -> u));
        Set<String> withProfile = Set.of("page_view", "add_to_cart", "purchase");
        Set<String> withDevice = Set.of("page_view", "click", "purchase", "signup");
        for (Record row : rows) {
            String type = (String) row.getField("type");
            assertThat(expected.get((String) row.getField("event_id")).type()).isEqualTo(type);
            Record properties = (Record) row.getField(type);
            assertThat(properties).as("typed properties in the %s column", type).isNotNull();
            if (type.equals("purchase")) {
                assertThat((Long) properties.getField("revenue_minor")).isPositive();
                assertThat((List<?>) properties.getField("items")).isNotEmpty();
            }
            String userId = (String) row.getField("user_id");
            @SuppressWarnings("unchecked")
            List<String> missing = (List<String>) row.getField("enrichment_missing");
            boolean profiled = withProfile.contains(type) && userId != null && AnalyticsWorkload.isSeeded(userId);
            if (!missing.contains(Enrichers.USER_PROFILE)) {
                assertThat(row.getField("country"))
                        .as("country of %s", row.getField("event_id"))
                        .isEqualTo(profiled ? users.get(userId).country() : null);
            }
            String userAgent = (String) ((Record) row.getField("context")).getField("user_agent");
            assertThat(row.getField("device_class"))
                    .isEqualTo(withDevice.contains(type) ? DeviceClassEnricher.classify(userAgent) : null);
        }
    }

    /** Every invalid record once in the dead letters, with the reason it was made for. */
    private static Map<String, Long> verifyDeadLetters(
            String bootstrap, String topic, Map<Long, AnalyticsWorkload.Generated> sent) {
        SingleObjectCodec codec = SingleObjectCodec.forTopicRecords();
        List<DeadLetter> deadLetters = TopicReader.readCommitted(bootstrap, topic).stream()
                .map(r -> codec.decode(r.value(), DeadLetter.class))
                .toList();
        Map<Long, String> expected = new HashMap<>();
        sent.forEach((position, g) -> {
            if (!g.valid()) {
                expected.put(position, g.expectedReason());
            }
        });
        assertThat(deadLetters.stream().map(d -> position(d.getSource().getPartition(), d.getSource().getOffset())))
                .as("each invalid record in the dead letters, once")
                .containsExactlyInAnyOrderElementsOf(expected.keySet());
        for (DeadLetter deadLetter : deadLetters) {
            long at = position(deadLetter.getSource().getPartition(), deadLetter.getSource().getOffset());
            assertThat(deadLetter.getReason()).as("reason of %s", deadLetter.getError()).isEqualTo(expected.get(at));
            assertThat(deadLetter.getValue().array()).isEqualTo(sent.get(at).value());
        }
        assertThat(new HashSet<>(expected.values())).containsExactlyInAnyOrderElementsOf(AnalyticsWorkload.INVALID_REASONS);
        return deadLetters.stream().collect(Collectors.groupingBy(DeadLetter::getReason, Collectors.counting()));
    }

    /** A minute row as the table holds it and as the lake says it must be. */
    private record Minute(long events, long uniqueUsers, Map<String, Long> revenueByCurrency) {}

    /**
     * {@code analytics_minute} equals a batch recomputation over the lake's non-late rows, and
     * each row was written exactly once per firing of its window.
     */
    private static int verifyMinutes(TestServices.PostgresDatabase database, List<Record> lakeRows) throws Exception {
        Map<String, Map<String, Long>> revenue = new HashMap<>();
        Map<String, Set<String>> users = new HashMap<>();
        Map<String, Long> counts = new HashMap<>();
        for (Record row : lakeRows) {
            if (Boolean.TRUE.equals(row.getField("late"))) {
                continue;
            }
            String type = (String) row.getField("type");
            Instant minute = ((OffsetDateTime) row.getField("occurred_at")).toInstant().truncatedTo(ChronoUnit.MINUTES);
            String key = type + "@" + minute;
            counts.merge(key, 1L, Long::sum);
            String userId = (String) row.getField("user_id");
            users.computeIfAbsent(key, k -> new HashSet<>())
                    .add(userId != null ? userId : "anonymous:" + row.getField("anonymous_id"));
            Map<String, Long> perCurrency = revenue.computeIfAbsent(key, k -> new TreeMap<>());
            if (type.equals("purchase")) {
                Record purchase = (Record) row.getField("purchase");
                perCurrency.merge((String) purchase.getField("currency"), (Long) purchase.getField("revenue_minor"), Long::sum);
            }
        }
        Map<String, Minute> recomputed = new HashMap<>();
        counts.forEach((key, n) -> recomputed.put(key, new Minute(n, users.get(key).size(), revenue.get(key))));

        Map<String, Minute> table = new HashMap<>();
        try (Connection connection = database.connect(); Statement statement = connection.createStatement()) {
            ResultSet rs = statement.executeQuery(
                    "SELECT event_type, window_start, events, unique_users, revenue_by_currency::text, firing, updates"
                            + " FROM analytics_minute");
            while (rs.next()) {
                String key = rs.getString(1) + "@" + rs.getObject(2, OffsetDateTime.class).toInstant();
                Map<String, Long> revenueByCurrency =
                        new TreeMap<>(JSON.readValue(rs.getString(5), new TypeReference<Map<String, Long>>() {}));
                table.put(key, new Minute(rs.getLong(3), rs.getLong(4), revenueByCurrency));
                assertThat(rs.getInt(7))
                        .as("writes of row %s equal its window's firings: each firing committed once", key)
                        .isEqualTo(rs.getInt(6));
            }
            ResultSet prepared = statement.executeQuery("SELECT count(*) FROM pg_prepared_xacts");
            prepared.next();
            assertThat(prepared.getInt(1)).as("no prepared transaction left behind").isZero();
        }
        assertThat(table).as("analytics_minute = the lake's non-late rows, per type and minute").isEqualTo(recomputed);
        return table.size();
    }
}
