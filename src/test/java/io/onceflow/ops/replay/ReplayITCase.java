package io.onceflow.ops.replay;

import io.onceflow.lake.LakeCatalog;
import io.onceflow.lake.LakeReader;
import io.onceflow.lake.LakeTables;
import io.onceflow.lake.TestLake;
import io.onceflow.local.AnalyticsWorkload;
import io.onceflow.local.LocalEnvironment;
import io.onceflow.local.PaymentWorkload;
import io.onceflow.ops.OpsTesting;
import io.onceflow.ops.cluster.LocalCluster;
import io.onceflow.ops.cluster.Waits;
import io.onceflow.payments.PaymentsConfig;
import io.onceflow.testing.TopicReader;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
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
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reconcile and replay of both jobs on one real standalone cluster, through the CLI.
 *
 * <p>Payments: the job answers N requests and is stopped; {@code reconcile} finds nothing lost or
 * duplicated in the results topic, PostgreSQL and the lake; PostgreSQL's {@code payments} and the
 * lake's {@code payments.results} are emptied and reconcile says so; {@code replay} rebuilds both
 * from the results topic and {@code reconcile} agrees again, with the same rows (content
 * checksums) as the original run; a second replay of the same range changes nothing.
 *
 * <p>Analytics: the same with {@code analytics.events} in the lake and {@code analytics_minute};
 * then a duplicated and a wrong lake row are planted, and the second replay must replace both and
 * leave the lake and {@code analytics_minute} as the first replay did.
 */
class ReplayITCase {

    private static final List<String> TOPICS = List.of("payments.requests", "payments.results", "payments.completed", "payments.dlq",
            "analytics.events", "analytics.dlq");
    private static final int REQUESTS = 400;
    private static final Pattern STORE_LINE =
            Pattern.compile("(?m)^(kafka payments\\.results|postgres payments|lake payments\\.results)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)$");

    /** Kept when a test failed, for a look at its logs; deleted otherwise. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    static Path root;
    private static Path home;
    private static List<String> clusterDir;
    private static LocalCluster cluster;
    private static LocalEnvironment services;
    private static PaymentWorkload workload;
    private static int decodable;

    @BeforeAll
    static void startServices() throws Exception {
        services = OpsTesting.localServices(root, TOPICS);
        workload = new PaymentWorkload(11, 200, Instant.now());
        try (Connection connection = services.postgresEndpoint().connect()) {
            workload.seedCustomers(connection);
        }
        home = root.resolve("cluster");
        clusterDir = List.of("--cluster-dir", home.toString());
        OpsTesting.distribution();
        var up = OpsTesting.cli(OpsTesting.concat(List.of("cluster", "up", "--rest-port", "0"), clusterDir));
        assertThat(up.exitCode()).as(up.toString()).isZero();
        cluster = LocalCluster.existing(home);
    }

    @AfterAll
    static void stopServices() throws Exception {
        try {
            if (cluster != null) {
                var down = OpsTesting.cli(OpsTesting.concat(List.of("cluster", "down"), clusterDir));
                assertThat(down.exitCode()).as(down.toString()).isZero();
                assertThat(cluster.runningRoles()).isEmpty();
            }
        } finally {
            if (services != null) {
                services.close();
            }
        }
    }

    /** Kafka, PostgreSQL and the lake of this test, as --set overrides of a job file. */
    private static Map<String, String> localSettings() {
        Map<String, String> local = new LinkedHashMap<>();
        local.put("kafka.bootstrap-servers", services.kafka().bootstrapServers());
        local.put("postgres.url", services.postgresEndpoint().jdbcUrl());
        local.put("postgres.user", services.postgresEndpoint().user());
        local.put("postgres.password-env", "");
        local.put("lake.warehouse", root.resolve("lake").toUri().toString());
        return local;
    }

    private static long phaseStart = System.nanoTime();

    /** Prints how long the phase that just ended took: where this test's time goes. */
    private static void phase(String name) {
        System.out.printf("PHASE %-28s %6d ms%n", name, Duration.ofNanos(System.nanoTime() - phaseStart).toMillis());
        phaseStart = System.nanoTime();
    }

    @Test
    void replayRebuildsTheSinksAndReconcileAgrees() throws Exception {
        long testStart = System.nanoTime();
        phaseStart = testStart;
        Map<String, String> local = localSettings();
        local.put("gateway.url", services.gateway().baseUrl());
        List<String> job = OpsTesting.concat(List.of("payments", "--jar", OpsTesting.jobJar().toString()), clusterDir, OpsTesting.sets(local));
        List<String> config = OpsTesting.concat(List.of("payments"), OpsTesting.sets(local));
        {
            Instant from = Instant.now().minusSeconds(1);
            var submit = OpsTesting.cli(OpsTesting.concat(List.of("submit"), job));
            assertThat(submit.exitCode()).as(submit.toString()).isZero();
            phase("submit");
            send(REQUESTS);
            awaitEveryRequestAnswered();
            phase("requests answered");
            var stop = OpsTesting.cli(OpsTesting.concat(List.of("stop", "payments"), clusterDir));
            assertThat(stop.exitCode()).as(stop.toString()).isZero();
            Instant to = Instant.now().plusSeconds(1);
            phase("stop");
            List<String> range = List.of("--from", from.toString(), "--to", to.toString());

            // The original run: nothing lost, nothing duplicated, no transaction left open.
            var original = OpsTesting.cli(OpsTesting.concat(List.of("reconcile"), config, range));
            assertThat(original.exitCode()).as(original.toString()).isZero();
            phase("reconcile");
            Map<String, long[]> originalCounts = storeCounts(original.out());
            assertThat(originalCounts.get("kafka payments.results")).as(original.out()).containsExactly(decodable, decodable, 0, 0, 0);
            assertThat(originalCounts.get("lake payments.results")).as(original.out()).containsExactly(decodable, decodable, 0, 0, 0);
            long payments = originalCounts.get("postgres payments")[0];
            assertThat(payments).as("completed and declined payments").isPositive();
            assertThat(originalCounts.get("postgres payments")).containsExactly(payments, payments, 0, 0, 0);
            assertThat(original.out()).contains("PostgreSQL prepared transactions open: 0");
            Snapshot before = snapshot(local);
            assertThat(before.paymentRows()).isEqualTo(payments);
            assertThat(before.lakeRows()).isEqualTo(decodable);

            // Both sinks emptied: reconcile says what is lost, and fails.
            phase("snapshot");
            truncate(local);
            phase("truncate");
            var broken = OpsTesting.cli(OpsTesting.concat(List.of("reconcile"), config, range, List.of("--examples", "3")));
            assertThat(broken.exitCode()).as(broken.toString()).isEqualTo(1);
            assertThat(storeCounts(broken.out()).get("postgres payments")).containsExactly(payments, 0, payments, 0, 0);
            assertThat(storeCounts(broken.out()).get("lake payments.results")).containsExactly(decodable, 0, decodable, 0, 0);
            assertThat(broken.out()).containsPattern("lake payments\\.results lost: \\d+/\\d+, \\d+/\\d+, \\d+/\\d+\\n");
            assertThat(broken.err()).contains("found " + (payments + decodable) + " lost and 0 duplicated");

            // Replay rebuilds them from the results topic, row for row.
            phase("reconcile after truncate");
            long replayStart = System.nanoTime();
            var replay = OpsTesting.cli(OpsTesting.concat(List.of("replay", "--timeout", "3m"), job, range));
            long replayMillis = Duration.ofNanos(System.nanoTime() - replayStart).toMillis();
            assertThat(replay.exitCode()).as(replay.toString()).isZero();
            phase("replay");
            assertThat(replay.err()).containsPattern("\\d+ of \\d+ records \\(\\d+%\\), \\d+ records/s, .* left, finished")
                    .contains("Replay of payments finished as job " + replay.lastOutLine() + ": " + decodable + " records");
            var rebuilt = OpsTesting.cli(OpsTesting.concat(List.of("reconcile"), config, range));
            assertThat(rebuilt.exitCode()).as(rebuilt.toString()).isZero();
            assertThat(storeCounts(rebuilt.out())).usingRecursiveComparison().isEqualTo(originalCounts);
            assertThat(rebuilt.out()).contains("PostgreSQL prepared transactions open: 0");
            assertThat(snapshot(local)).isEqualTo(before);

            // The same replay again: every sink as it was.
            var again = OpsTesting.cli(OpsTesting.concat(List.of("replay", "--timeout", "3m"), job, range));
            assertThat(again.exitCode()).as(again.toString()).isZero();
            phase("second replay");
            assertThat(snapshot(local)).isEqualTo(before);
            var last = OpsTesting.cli(OpsTesting.concat(List.of("reconcile"), config, range));
            assertThat(last.exitCode()).as(last.toString()).isZero();
            assertThat(storeCounts(last.out())).usingRecursiveComparison().isEqualTo(originalCounts);

            System.out.println(replay.err());
            System.out.printf("MEASURED payments replay of %d results: %d ms; whole test %d ms%n", decodable, replayMillis,
                    Duration.ofNanos(System.nanoTime() - testStart).toMillis());
        }
    }

    private static final Pattern ANALYTICS_STORE_LINE =
            Pattern.compile("(?m)^lake analytics\\.events\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)$");
    private static final Pattern MINUTES_LINE =
            Pattern.compile("(?m)^analytics_minute: (\\d+) \\(type, minute\\) rows recomputed from the lake, (\\d+) equal, (\\d+) differ$");
    private static final int EVENTS = 300;

    @Test
    void analyticsReplayRebuildsTheLakeAndTheMinutes() throws Exception {
        long testStart = System.nanoTime();
        phaseStart = testStart;
        Duration step = Duration.ofMillis(400);
        Instant eventTime = Instant.now().minus(step.multipliedBy(EVENTS)).minus(Duration.ofMinutes(2));
        AnalyticsWorkload events = new AnalyticsWorkload(23, 200, eventTime, step);
        try (Connection connection = services.postgresEndpoint().connect()) {
            events.seedUsers(connection);
        }
        Map<String, String> local = localSettings();
        List<String> job = OpsTesting.concat(List.of("analytics", "--jar", OpsTesting.jobJar().toString()), clusterDir, OpsTesting.sets(local));
        List<String> config = OpsTesting.concat(List.of("analytics"), OpsTesting.sets(local));

        Instant from = Instant.now().minusSeconds(1);
        var submit = OpsTesting.cli(OpsTesting.concat(List.of("submit"), job));
        assertThat(submit.exitCode()).as(submit.toString()).isZero();
        List<AnalyticsWorkload.Generated> batch = events.batch(EVENTS);
        long distinctValid = batch.stream().filter(AnalyticsWorkload.Generated::valid).map(AnalyticsWorkload.Generated::eventId).distinct().count();
        long invalid = batch.stream().filter(g -> !g.valid()).count();
        try (var producer = producer()) {
            for (AnalyticsWorkload.Generated record : batch) {
                producer.send(new ProducerRecord<>("analytics.events", record.key(), record.value()));
            }
            producer.flush();
        }
        Instant to = Instant.now().plusMillis(500);
        // Past the range: one event per partition far ahead in event time, so every window of
        // the range fires before the job stops.
        Waits.until("see the clock pass the end of the range", Duration.ofSeconds(5), Instant::now, now -> now.isAfter(to));
        try (var producer = producer()) {
            for (int partition = 0; partition < 2; partition++) {
                AnalyticsWorkload.Generated pusher = events.next(Instant.now());
                while (pusher.kind() != AnalyticsWorkload.Kind.NEW) {
                    pusher = events.next(Instant.now());
                }
                producer.send(new ProducerRecord<>("analytics.events", partition, null, pusher.key(), pusher.value()));
            }
            producer.flush();
        }
        phase("analytics events sent");
        List<String> range = List.of("--from", from.toString(), "--to", to.toString());
        String bootstrap = services.kafka().bootstrapServers();
        var lastReport = new String[1];
        Waits.until("see the range's events in the lake and dead letters, and its windows in analytics_minute", Duration.ofMinutes(3), () -> {
            var run = OpsTesting.cli(OpsTesting.concat(List.of("reconcile"), config, range));
            lastReport[0] = run.toString();
            return run.exitCode() == 0 && TopicReader.readCommitted(bootstrap, "analytics.dlq").size() >= invalid;
        }, done -> done);
        var stop = OpsTesting.cli(OpsTesting.concat(List.of("stop", "analytics"), clusterDir));
        assertThat(stop.exitCode()).as(stop.toString()).isZero();
        phase("analytics answered, stopped");

        var original = OpsTesting.cli(OpsTesting.concat(List.of("reconcile"), config, range));
        assertThat(original.exitCode()).as(original.toString()).isZero();
        long[] lake = analyticsCounts(original.out());
        assertThat(lake).as(original.out()).containsExactly(distinctValid, distinctValid, 0, 0, 0);
        long[] minutes = minuteCounts(original.out());
        assertThat(minutes[0]).as("windows the range touches").isPositive();
        assertThat(minutes[2]).isZero();
        assertThat(original.out()).contains("PostgreSQL prepared transactions open: 0");
        Events before = events(local);
        assertThat(before.lakeRows()).as("the range's events and the two past it").isEqualTo(distinctValid + 2);

        // The lake table and analytics_minute emptied: reconcile says what is lost.
        try (Connection connection = services.postgresEndpoint().connect(); Statement statement = connection.createStatement()) {
            statement.execute("TRUNCATE analytics_minute");
        }
        try (LakeCatalog catalog = lakeCatalog(local)) {
            catalog.table(LakeTables.ANALYTICS_EVENTS).newDelete().deleteFromRowFilter(Expressions.alwaysTrue()).commit();
        }
        var broken = OpsTesting.cli(OpsTesting.concat(List.of("reconcile"), config, range));
        assertThat(broken.exitCode()).as(broken.toString()).isEqualTo(1);
        assertThat(analyticsCounts(broken.out())).containsExactly(distinctValid, 0, distinctValid, 0, 0);
        phase("analytics truncated");

        var replay = OpsTesting.cli(OpsTesting.concat(List.of("replay", "--timeout", "3m"), job, range));
        assertThat(replay.exitCode()).as(replay.toString()).isZero();
        assertThat(replay.err()).contains("Replay of analytics finished").containsPattern("analytics_minute: \\d+ windows of the range recomputed from the lake, \\d+ rows written");
        System.out.println(replay.err());
        phase("analytics replay");
        var rebuilt = OpsTesting.cli(OpsTesting.concat(List.of("reconcile"), config, range));
        assertThat(rebuilt.exitCode()).as(rebuilt.toString()).isZero();
        assertThat(analyticsCounts(rebuilt.out())).containsExactly(lake);
        // Every window the replayed events fall in agrees with the lake. Which windows those are
        // can differ from the original run: a replay reads a backlog, so fewer events are late.
        long[] rebuiltMinutes = minuteCounts(rebuilt.out());
        assertThat(rebuiltMinutes[0]).isPositive();
        assertThat(rebuiltMinutes[2]).as(rebuilt.out()).isZero();
        Events replayed = events(local);
        // The two events past the range are not replayed; every event of the range is back as it
        // was, but for the late flag: which events are late depends on arrival order (README).
        assertThat(replayed.lakeRows()).isEqualTo(distinctValid);
        assertThat(replayed.withoutLate()).isEqualTo(before.withoutLateExcept(before.pastRange(to)));

        // A duplicated row and a wrong one: the second replay replaces both, and otherwise writes
        // exactly what the first one did.
        try (LakeCatalog catalog = lakeCatalog(local)) {
            Table table = catalog.table(LakeTables.ANALYTICS_EVENTS);
            List<Record> rows = LakeReader.rows(table);
            Record wrong = rows.get(1).copy();
            wrong.setField("country", "XX");
            TestLake.append(table, List.of(rows.get(0).copy(), wrong));
        }
        assertThat(events(local).lakeRows()).as("rows with the duplicate and the wrong one").isEqualTo(distinctValid + 2);
        var again = OpsTesting.cli(OpsTesting.concat(List.of("replay", "--timeout", "3m"), job, range));
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(again.err()).contains(", 0 rows written");
        assertThat(events(local)).isEqualTo(replayed);
        var last = OpsTesting.cli(OpsTesting.concat(List.of("reconcile"), config, range));
        assertThat(last.exitCode()).as(last.toString()).isZero();
        phase("analytics second replay");
        System.out.printf("MEASURED analytics test %d ms%n", Duration.ofNanos(System.nanoTime() - testStart).toMillis());
    }

    /**
     * The lake's {@code analytics.events} rows (as text, sorted; also without the {@code late}
     * column) and {@code analytics_minute} (content and bookkeeping columns), with event times.
     */
    record Events(List<String> rows, List<String> rowsWithoutLate, Map<String, Instant> receivedAt, String minutes) {
        long lakeRows() {
            return rows.size();
        }

        List<String> withoutLate() {
            return rowsWithoutLate;
        }

        /** The ids of rows received at or after {@code to}. */
        java.util.Set<String> pastRange(Instant to) {
            java.util.Set<String> ids = new java.util.HashSet<>();
            receivedAt.forEach((id, at) -> {
                if (!at.isBefore(to)) {
                    ids.add(id);
                }
            });
            return ids;
        }

        List<String> withoutLateExcept(java.util.Set<String> ids) {
            return rowsWithoutLate.stream().filter(row -> ids.stream().noneMatch(id -> row.startsWith("Record(" + id + ","))).toList();
        }
    }

    private static Events events(Map<String, String> local) throws Exception {
        List<String> rows = new ArrayList<>();
        List<String> withoutLate = new ArrayList<>();
        Map<String, Instant> receivedAt = new java.util.HashMap<>();
        try (LakeCatalog catalog = lakeCatalog(local)) {
            Table table = catalog.table(LakeTables.ANALYTICS_EVENTS);
            int late = table.schema().columns().indexOf(table.schema().findField("late"));
            LakeReader.forEach(table, Expressions.alwaysTrue(), row -> {
                rows.add(row.toString());
                var copy = row.copy();
                copy.set(late, null);
                withoutLate.add(copy.toString());
                receivedAt.put((String) row.getField("event_id"), ((java.time.OffsetDateTime) row.getField("received_at")).toInstant());
            });
        }
        rows.sort(null);
        withoutLate.sort(null);
        String minutes;
        try (Connection connection = services.postgresEndpoint().connect(); Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT coalesce(string_agg(m::text, '|' ORDER BY event_type, window_start), '')"
                     + " FROM analytics_minute m")) {
            rs.next();
            minutes = rs.getString(1);
        }
        return new Events(rows, withoutLate, receivedAt, minutes);
    }

    private static long[] analyticsCounts(String out) {
        Matcher m = ANALYTICS_STORE_LINE.matcher(out);
        assertThat(m.find()).as(out).isTrue();
        long[] values = new long[5];
        for (int i = 0; i < 5; i++) {
            values[i] = Long.parseLong(m.group(i + 1));
        }
        return values;
    }

    private static long[] minuteCounts(String out) {
        Matcher m = MINUTES_LINE.matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3))};
    }

    private static KafkaProducer<byte[], byte[]> producer() {
        return new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, services.kafka().bootstrapServers(),
                        ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true),
                new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** The rows of both sinks: counts and a digest of their content, in a fixed order. */
    record Snapshot(long paymentRows, String paymentsDigest, long lakeRows, String lakeDigest) {}

    private static Snapshot snapshot(Map<String, String> local) throws Exception {
        long rows;
        String paymentsDigest;
        try (Connection connection = services.postgresEndpoint().connect(); Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT count(*), coalesce(md5(string_agg(p::text, '|' ORDER BY payment_id)), '')"
                     + " FROM payments p")) {
            rs.next();
            rows = rs.getLong(1);
            paymentsDigest = rs.getString(2);
        }
        List<String> lake = new ArrayList<>();
        try (LakeCatalog catalog = lakeCatalog(local)) {
            LakeReader.forEach(catalog.table(LakeTables.PAYMENT_RESULTS), Expressions.alwaysTrue(), row -> lake.add(row.toString()));
        }
        lake.sort(null);
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        lake.forEach(row -> digest.update((row + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        return new Snapshot(rows, paymentsDigest, lake.size(), HexFormat.of().formatHex(digest.digest()));
    }

    private static void truncate(Map<String, String> local) throws Exception {
        try (Connection connection = services.postgresEndpoint().connect(); Statement statement = connection.createStatement()) {
            statement.execute("TRUNCATE payments");
        }
        try (LakeCatalog catalog = lakeCatalog(local)) {
            Table table = catalog.table(LakeTables.PAYMENT_RESULTS);
            table.newDelete().deleteFromRowFilter(Expressions.alwaysTrue()).commit();
            assertThat(LakeReader.count(table)).isZero();
        }
    }

    private static LakeCatalog lakeCatalog(Map<String, String> local) {
        PaymentsConfig config = PaymentsConfig.load(Path.of("jobs/payments.yaml"), local);
        return LakeCatalog.open(config.lake(), config.lake().catalogEndpoint(config.postgres()));
    }

    /** store → expected, present, lost, duplicated, unexpected, from reconcile's table. */
    private static Map<String, long[]> storeCounts(String out) {
        Map<String, long[]> counts = new LinkedHashMap<>();
        Matcher m = STORE_LINE.matcher(out);
        while (m.find()) {
            long[] values = new long[5];
            for (int i = 0; i < 5; i++) {
                values[i] = Long.parseLong(m.group(i + 2));
            }
            counts.put(m.group(1), values);
        }
        assertThat(counts).as(out).hasSize(3);
        return counts;
    }

    private static void send(int count) {
        try (var producer = new KafkaProducer<byte[], byte[]>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, services.kafka().bootstrapServers(),
                        ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < count; i++) {
                PaymentWorkload.Generated record = workload.next();
                if (record.request() != null) {
                    decodable++;
                }
                producer.send(new ProducerRecord<>("payments.requests", record.key(), record.value()));
            }
            producer.flush();
        }
    }

    private static void awaitEveryRequestAnswered() {
        String bootstrap = services.kafka().bootstrapServers();
        Waits.until("see every request answered", Duration.ofMinutes(2),
                () -> TopicReader.readCommitted(bootstrap, "payments.results").size(), n -> n >= decodable);
        assertThat(TopicReader.readCommitted(bootstrap, "payments.results")).hasSize(decodable);
    }

}
