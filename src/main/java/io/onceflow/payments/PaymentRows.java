package io.onceflow.payments;

import io.onceflow.payments.model.PaymentResult;
import io.onceflow.sinks.postgres.PostgresSink;
import io.onceflow.sinks.postgres.PostgresStatement;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

/**
 * The {@code payments} table as the job writes it: one row per COMPLETED or DECLINED result,
 * through the two-phase-commit {@link PostgresSink}, many rows per statement. {@code ON CONFLICT DO NOTHING} makes the
 * table's unique keys a second guard behind the sink's exactly-once commits; the sink counts any
 * row it skips ({@code rowsSkippedByConflict}), which should stay zero.
 */
public final class PaymentRows {

    static final String INSERT_INTO =
            "INSERT INTO payments (payment_id, customer_id, idempotency_key, merchant_id, amount_minor,"
                    + " currency, status, decline_reason, gateway_reference, requested_at, processed_at,"
                    + " source_topic, source_partition, source_offset)";
    static final String ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    private PaymentRows() {}

    public static PostgresStatement<PaymentResult> statement() {
        return PostgresStatement.insert(INSERT_INTO, ROW, "ON CONFLICT DO NOTHING", PaymentRows::bind);
    }

    public static PostgresSink<PaymentResult> sink(PaymentsConfig config) {
        return PostgresSink.<PaymentResult>builder()
                .setEndpoint(config.postgres().endpoint())
                .setTransactionNamespace(config.job().namespace())
                .setSinkName("payments")
                .setStatement(statement())
                .setBatchSize(config.postgresSink().batchSize())
                .build();
    }

    private static void bind(PostgresStatement.Row row, PaymentResult result) {
        row.setObject(1, UUID.fromString(result.getPaymentId()));
        row.setString(2, result.getCustomerId());
        row.setString(3, result.getIdempotencyKey());
        row.setString(4, result.getMerchantId());
        row.setLong(5, result.getAmountMinor());
        row.setString(6, result.getCurrency());
        row.setString(7, result.getStatus().name());
        row.setString(8, result.getReason());
        row.setString(9, result.getGatewayReference());
        row.setObject(10, timestamp(result.getRequestedAt()));
        row.setObject(11, timestamp(result.getProcessedAt()));
        row.setString(12, result.getSource().getTopic());
        row.setInt(13, result.getSource().getPartition());
        row.setLong(14, result.getSource().getOffset());
    }

    private static OffsetDateTime timestamp(Instant instant) {
        return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }
}
