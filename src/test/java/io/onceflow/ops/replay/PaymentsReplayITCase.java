package io.onceflow.ops.replay;

import io.onceflow.lake.LakeCatalog;
import io.onceflow.lake.LakeReader;
import io.onceflow.lake.LakeTables;
import io.onceflow.local.LocalEnvironment;
import io.onceflow.local.PaymentWorkload;
import io.onceflow.ops.OpsTesting;
import io.onceflow.ops.cluster.LocalCluster;
import io.onceflow.ops.cluster.Waits;
import io.onceflow.payments.PaymentsConfig;
import io.onceflow.testing.TopicReader;
import org.apache.iceberg.Table;
import org.apache.iceberg.expressions.Expressions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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
 * Reconcile and replay of the payments job on a real standalone cluster, through the CLI: the job
 * answers N requests and is stopped; {@code reconcile} finds nothing lost or duplicated in the
 * results topic, PostgreSQL and the lake; PostgreSQL's {@code payments} and the lake's {@code
 * payments.results} are emptied; {@code replay} rebuilds both from the results topic and {@code
 * reconcile} agrees again, with the same rows (content checksums) as the original run; a second
 * replay of the same range changes nothing.
 */
class PaymentsReplayITCase {

    private static final List<String> TOPICS = List.of("payments.requests", "payments.results", "payments.completed", "payments.dlq");
    private static final int REQUESTS = 400;
    private static final Pattern STORE_LINE =
            Pattern.compile("(?m)^(kafka payments\\.results|postgres payments|lake payments\\.results)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)$");

    private static Path root;
    private static LocalEnvironment services;
    private static PaymentWorkload workload;
    private static int decodable;

    @BeforeAll
    static void startServices() throws Exception {
        root = OpsTesting.shortTempDirectory("ofr-");
        services = LocalEnvironment.start(root.resolve("env"), new LocalEnvironment.Ports(0, 0, 0),
                LocalEnvironment.GatewayProfile.realistic(), TOPICS, 2);
        workload = new PaymentWorkload(11, 200, Instant.now());
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
    void replayRebuildsTheSinksAndReconcileAgrees() throws Exception {
        long testStart = System.nanoTime();
        Path home = root.resolve("cluster");
        List<String> clusterDir = List.of("--cluster-dir", home.toString());
        OpsTesting.distribution();
        var up = OpsTesting.cli(concat(List.of("cluster", "up", "--rest-port", "0"), clusterDir));
        assertThat(up.exitCode()).as(up.toString()).isZero();
        LocalCluster cluster = LocalCluster.existing(home);

        Map<String, String> local = new LinkedHashMap<>();
        local.put("kafka.bootstrap-servers", services.kafka().bootstrapServers());
        local.put("postgres.url", services.postgresEndpoint().jdbcUrl());
        local.put("postgres.user", services.postgresEndpoint().user());
        local.put("postgres.password-env", "");
        local.put("gateway.url", services.gateway().baseUrl());
        local.put("lake.warehouse", root.resolve("lake").toUri().toString());
        List<String> job = concat(List.of("payments", "--jar", OpsTesting.jobJar().toString()), clusterDir, OpsTesting.sets(local));
        List<String> config = concat(List.of("payments"), OpsTesting.sets(local));
        try {
            Instant from = Instant.now().minusSeconds(1);
            var submit = OpsTesting.cli(concat(List.of("submit"), job));
            assertThat(submit.exitCode()).as(submit.toString()).isZero();
            send(REQUESTS);
            awaitEveryRequestAnswered();
            var stop = OpsTesting.cli(concat(List.of("stop", "payments"), clusterDir));
            assertThat(stop.exitCode()).as(stop.toString()).isZero();
            Instant to = Instant.now().plusSeconds(1);
            List<String> range = List.of("--from", from.toString(), "--to", to.toString());

            // The original run: nothing lost, nothing duplicated, no transaction left open.
            var original = OpsTesting.cli(concat(List.of("reconcile"), config, range));
            assertThat(original.exitCode()).as(original.toString()).isZero();
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
            truncate(local);
            var broken = OpsTesting.cli(concat(List.of("reconcile"), config, range, List.of("--examples", "3")));
            assertThat(broken.exitCode()).as(broken.toString()).isEqualTo(1);
            assertThat(storeCounts(broken.out()).get("postgres payments")).containsExactly(payments, 0, payments, 0, 0);
            assertThat(storeCounts(broken.out()).get("lake payments.results")).containsExactly(decodable, 0, decodable, 0, 0);
            assertThat(broken.out()).containsPattern("lake payments\\.results lost: \\d+/\\d+, \\d+/\\d+, \\d+/\\d+\\n");
            assertThat(broken.err()).contains("found " + (payments + decodable) + " lost and 0 duplicated");

            // Replay rebuilds them from the results topic, row for row.
            long replayStart = System.nanoTime();
            var replay = OpsTesting.cli(concat(List.of("replay"), job, range));
            long replayMillis = Duration.ofNanos(System.nanoTime() - replayStart).toMillis();
            assertThat(replay.exitCode()).as(replay.toString()).isZero();
            assertThat(replay.err()).containsPattern("\\d+ of \\d+ records \\(\\d+%\\), \\d+ records/s, .* left, finished")
                    .contains("Replay of payments finished as job " + replay.lastOutLine() + ": " + decodable + " records");
            var rebuilt = OpsTesting.cli(concat(List.of("reconcile"), config, range));
            assertThat(rebuilt.exitCode()).as(rebuilt.toString()).isZero();
            assertThat(storeCounts(rebuilt.out())).usingRecursiveComparison().isEqualTo(originalCounts);
            assertThat(rebuilt.out()).contains("PostgreSQL prepared transactions open: 0");
            assertThat(snapshot(local)).isEqualTo(before);

            // The same replay again: every sink as it was.
            var again = OpsTesting.cli(concat(List.of("replay"), job, range));
            assertThat(again.exitCode()).as(again.toString()).isZero();
            assertThat(snapshot(local)).isEqualTo(before);
            var last = OpsTesting.cli(concat(List.of("reconcile"), config, range));
            assertThat(last.exitCode()).as(last.toString()).isZero();
            assertThat(storeCounts(last.out())).usingRecursiveComparison().isEqualTo(originalCounts);

            System.out.printf("MEASURED payments replay of %d results: %d ms; whole test %d ms%n", decodable, replayMillis,
                    Duration.ofNanos(System.nanoTime() - testStart).toMillis());
        } finally {
            var down = OpsTesting.cli(concat(List.of("cluster", "down"), clusterDir));
            assertThat(down.exitCode()).as(down.toString()).isZero();
        }
        assertThat(cluster.runningRoles()).isEmpty();
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

    @SafeVarargs
    private static List<String> concat(List<String>... parts) {
        List<String> all = new ArrayList<>();
        for (List<String> part : parts) {
            all.addAll(part);
        }
        return all;
    }
}
