package io.onceflow.bench;

import io.onceflow.payments.PaymentsConfig;
import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.records.SingleObjectCodec;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.functions.TableFunction;
import org.apache.flink.types.Row;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.function.LongSupplier;

/**
 * The peer a user might write instead of the payments job: the same input, deduplicated by
 * (customer, idempotency key) with {@code ROW_NUMBER}, joined with PostgreSQL's {@code customers}
 * by a JDBC lookup join (cached), one row per distinct request upserted into PostgreSQL through
 * the JDBC table sink. Flink SQL on the same cluster, RocksDB, the same checkpoint interval and
 * parallelism.
 *
 * <p>What it does not do, so it has less work than the job: no validation beyond decoding, no
 * gateway call (the status comes from the customer row alone), no daily limits, no Kafka results
 * topic, no lake. Its PostgreSQL sink is at-least-once (the JDBC table sink flushes on checkpoints
 * and has no exactly-once mode), upserting by primary key.
 */
final class SqlPeer {

    static final String VARIANT = "Flink SQL peer";

    static final String TABLE = "bench_sql_payments";

    private SqlPeer() {}

    /** Decodes a {@code payments.requests} value; no row for bytes that are no payment request. */
    @FunctionHint(output = @DataTypeHint(
            "ROW<idempotency_key STRING, customer_id STRING, merchant_id STRING, amount_minor BIGINT,"
                    + " currency STRING, requested_at TIMESTAMP(3)>"))
    public static final class DecodeRequest extends TableFunction<Row> {
        private transient SingleObjectCodec codec;

        public void eval(byte[] value) {
            if (value == null) {
                return;
            }
            if (codec == null) {
                codec = SingleObjectCodec.forTopicRecords();
            }
            PaymentRequest request;
            try {
                request = codec.decode(value, PaymentRequest.class);
            } catch (RuntimeException e) {
                return;
            }
            collect(Row.of(
                    request.getIdempotencyKey(),
                    request.getCustomerId(),
                    request.getMerchantId(),
                    request.getAmountMinor(),
                    request.getCurrency(),
                    LocalDateTime.ofInstant(request.getRequestedAt(), ZoneOffset.UTC)));
        }
    }

    /**
     * The configuration of {@code run} over {@code input}, and {@code table} created empty in the
     * peer's shape: one row per distinct (customer, key) of a decodable request.
     */
    static PaymentsConfig configWithEmptyTable(JobRuns runs, String run, Preload.Loaded input, Duration checkpointInterval,
            String table) throws Exception {
        PaymentsConfig config = runs.paymentsConfig(run, input.topic(), checkpointInterval);
        try (Connection connection = runs.local().postgresEndpoint().connect(); Statement statement = connection.createStatement()) {
            statement.execute("DROP TABLE IF EXISTS " + table);
            statement.execute("CREATE TABLE " + table + " (customer_id text, idempotency_key text, merchant_id text,"
                    + " amount_minor bigint, currency text, status text, requested_at timestamp,"
                    + " PRIMARY KEY (customer_id, idempotency_key))");
        }
        return config;
    }

    /** The committed rows of {@code table}, read through {@code statement} at each call. */
    static LongSupplier rows(Statement statement, String table) {
        return () -> {
            try (ResultSet rows = statement.executeQuery("SELECT count(*) FROM " + table)) {
                rows.next();
                return rows.getLong(1);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    static JobRuns.Run run(JobRuns runs, Preload.Loaded input, String variant, Duration checkpointInterval, Duration timeout)
            throws Exception {
        String run = runs.nextRunName("sql-peer");
        PaymentsConfig config = configWithEmptyTable(runs, run, input, checkpointInterval, TABLE);
        var endpoint = runs.local().postgresEndpoint();
        StreamExecutionEnvironment env = runs.environment(config.job(), true);
        StreamTableEnvironment tables = StreamTableEnvironment.create(env);
        tables.createTemporarySystemFunction("decode_request", DecodeRequest.class);
        String jdbc = "'connector' = 'jdbc', 'url' = '" + endpoint.jdbcUrl() + "', 'username' = '" + endpoint.user()
                + "', 'password' = '" + endpoint.password().resolve() + "'";
        tables.executeSql("CREATE TABLE requests (v BYTES, pt AS PROCTIME()) WITH ("
                + "'connector' = 'kafka', 'topic' = '" + input.topic() + "',"
                + " 'properties.bootstrap.servers' = '" + runs.local().kafka().bootstrapServers() + "',"
                + " 'properties.group.id' = '" + run + "', 'properties.isolation.level' = 'read_committed',"
                + " 'scan.startup.mode' = 'earliest-offset', 'format' = 'raw')");
        tables.executeSql("CREATE TABLE customers (customer_id STRING, status STRING, daily_limit_minor BIGINT,"
                + " currency STRING, PRIMARY KEY (customer_id) NOT ENFORCED) WITH (" + jdbc + ","
                + " 'table-name' = 'customers', 'lookup.cache' = 'PARTIAL',"
                + " 'lookup.partial-cache.max-rows' = '100000', 'lookup.partial-cache.expire-after-write' = '1 min')");
        tables.executeSql("CREATE TABLE sql_payments (customer_id STRING, idempotency_key STRING, merchant_id STRING,"
                + " amount_minor BIGINT, currency STRING, status STRING, requested_at TIMESTAMP(3),"
                + " PRIMARY KEY (customer_id, idempotency_key) NOT ENFORCED) WITH (" + jdbc + ","
                + " 'table-name' = '" + TABLE + "', 'sink.buffer-flush.max-rows' = '"
                + config.postgresSink().batchSize() + "', 'sink.buffer-flush.interval' = '1 s')");
        tables.executeSql("CREATE TEMPORARY VIEW decoded AS SELECT d.*, r.pt FROM requests AS r,"
                + " LATERAL TABLE(decode_request(r.v)) AS d");
        var statements = tables.createStatementSet();
        statements.addInsertSql("INSERT INTO sql_payments"
                + " SELECT d.customer_id, d.idempotency_key, d.merchant_id, d.amount_minor, d.currency,"
                + "   CASE WHEN c.customer_id IS NULL THEN 'REJECTED'"
                + "        WHEN c.status <> 'ACTIVE' THEN 'REJECTED'"
                + "        WHEN c.currency <> d.currency THEN 'REJECTED'"
                + "        WHEN d.amount_minor <= 0 THEN 'REJECTED'"
                + "        ELSE 'COMPLETED' END,"
                + "   d.requested_at"
                + " FROM (SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY customer_id, idempotency_key"
                + "         ORDER BY pt ASC) AS rn FROM decoded) WHERE rn = 1) AS d"
                + " LEFT JOIN customers FOR SYSTEM_TIME AS OF d.pt AS c ON d.customer_id = c.customer_id");
        statements.attachAsDataStream();
        try (Connection connection = endpoint.connect(); Statement count = connection.createStatement()) {
            return runs.drain("payments", variant, input, env, run, rows(count, TABLE), input.distinctPaymentKeys(), timeout,
                    "Flink SQL, JDBC sink at-least-once (upsert), RocksDB incremental, checkpoints every "
                            + checkpointInterval.toMillis() + " ms, parallelism 2",
                    200);
        }
    }

}
