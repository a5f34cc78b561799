package io.onceflow.bench;

import io.onceflow.payments.PaymentAuthorizer;
import io.onceflow.payments.PaymentsConfig;
import io.onceflow.payments.PaymentsJob;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.sinks.postgres.PostgresSink;
import io.onceflow.sinks.postgres.PostgresStatement;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * The Flink SQL peer's work done by the payments job's own operators, so that the two compare
 * on the same work: {@link PaymentsJob#decide} (decode, validate, customer lookup, the
 * authorizer's idempotency and checks) with an {@link InstantGateway}, and the job's
 * two-phase-commit {@link PostgresSink} writing one row per distinct (customer, key), as the
 * peer does, into a table shaped like the peer's: each request's own decision, without the
 * answers to repeats ({@code DUPLICATE}, and {@code REJECTED} for a key reused with another
 * payload). A repeat's row would conflict with its original's, which may still be in a prepared
 * transaction waiting for its checkpoint, and wait on that lock until the sink's lock timeout.
 *
 * <p>Left out against the job: the gateway over the network and its simulator, the Kafka results
 * and dead letters, the lake. Still done, unlike the peer: validation, daily limits, keeping each
 * request's result for its repeats, exactly-once commits.
 */
final class PeerWork {

    static final String VARIANT = "job's operators, the peer's work";

    static final String TABLE = "bench_peer_work_payments";

    private PeerWork() {}

    static JobRuns.Run run(JobRuns runs, Preload.Loaded input, String variant, Duration checkpointInterval, Duration timeout)
            throws Exception {
        String run = runs.nextRunName("peer-work");
        PaymentsConfig config = SqlPeer.configWithEmptyTable(runs, run, input, checkpointInterval, TABLE);
        var endpoint = runs.local().postgresEndpoint();
        StreamExecutionEnvironment env = runs.environment(config.job(), true);
        new PaymentsJob(config)
                .decide(env, PaymentsJob.requestsSource(config, false), stream -> stream, InstantGateway::new)
                .results()
                .filter(PeerWork::isOwnDecision)
                .name("Each request's own decision")
                .uid("peer-work-rows")
                .sinkTo(PostgresSink.<PaymentResult>builder()
                        .setEndpoint(endpoint)
                        .setTransactionNamespace(config.job().namespace())
                        .setSinkName("peer-work")
                        .setStatement(PostgresStatement.insert(
                                "INSERT INTO " + TABLE + " (customer_id, idempotency_key, merchant_id, amount_minor, currency,"
                                        + " status, requested_at)",
                                "(?, ?, ?, ?, ?, ?, ?)", "ON CONFLICT DO NOTHING", PeerWork::bind))
                        .setBatchSize(config.postgresSink().batchSize())
                        .build())
                .uid("peer-work-postgres-sink")
                .name("PostgreSQL: " + TABLE);
        try (Connection connection = endpoint.connect(); Statement count = connection.createStatement()) {
            return runs.drain("payments", variant, input, env, run, SqlPeer.rows(count, TABLE), input.distinctPaymentKeys(), timeout,
                    "the job's operators with an in-process gateway, PostgreSQL sink exactly-once (prepared transactions),"
                            + " RocksDB incremental, checkpoints every " + checkpointInterval.toMillis() + " ms, parallelism 2",
                    200);
        }
    }

    static boolean isOwnDecision(PaymentResult result) {
        return result.getStatus() != PaymentStatus.DUPLICATE
                && !(result.getStatus() == PaymentStatus.REJECTED && PaymentAuthorizer.KEY_REUSED.equals(result.getReason()));
    }

    private static void bind(PostgresStatement.Row row, PaymentResult result) {
        row.setString(1, result.getCustomerId());
        row.setString(2, result.getIdempotencyKey());
        row.setString(3, result.getMerchantId());
        row.setLong(4, result.getAmountMinor());
        row.setString(5, result.getCurrency());
        row.setString(6, result.getStatus().name());
        row.setObject(7, LocalDateTime.ofInstant(result.getRequestedAt(), ZoneOffset.UTC));
    }
}
