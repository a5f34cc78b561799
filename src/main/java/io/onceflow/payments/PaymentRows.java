package io.onceflow.payments;

import io.onceflow.payments.model.PaymentResult;
import io.onceflow.sinks.postgres.PostgresSink;
import io.onceflow.sinks.postgres.PostgresStatement;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

/**
 * The {@code payments} table as the job writes it: one row per COMPLETED or DECLINED result,
 * through the two-phase-commit {@link PostgresSink}. {@code ON CONFLICT DO NOTHING} makes the
 * table's unique keys a second guard behind the sink's exactly-once commits; the sink counts any
 * row it skips ({@code rowsSkippedByConflict}), which should stay zero.
 */
public final class PaymentRows {

    static final String INSERT =
            "INSERT INTO payments (payment_id, customer_id, idempotency_key, merchant_id, amount_minor,"
                    + " currency, status, decline_reason, gateway_reference, requested_at, processed_at,"
                    + " source_topic, source_partition, source_offset)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";

    private PaymentRows() {}

    public static PostgresStatement<PaymentResult> statement() {
        return PostgresStatement.of(INSERT, PaymentRows::bind);
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

    private static void bind(PreparedStatement statement, PaymentResult result) throws SQLException {
        statement.setObject(1, UUID.fromString(result.getPaymentId()));
        statement.setString(2, result.getCustomerId());
        statement.setString(3, result.getIdempotencyKey());
        statement.setString(4, result.getMerchantId());
        statement.setLong(5, result.getAmountMinor());
        statement.setString(6, result.getCurrency());
        statement.setString(7, result.getStatus().name());
        setNullableString(statement, 8, result.getReason());
        setNullableString(statement, 9, result.getGatewayReference());
        statement.setObject(10, timestamp(result.getRequestedAt()));
        statement.setObject(11, timestamp(result.getProcessedAt()));
        statement.setString(12, result.getSource().getTopic());
        statement.setInt(13, result.getSource().getPartition());
        statement.setLong(14, result.getSource().getOffset());
    }

    private static void setNullableString(PreparedStatement statement, int index, String value)
            throws SQLException {
        if (value == null) {
            statement.setNull(index, Types.VARCHAR);
        } else {
            statement.setString(index, value);
        }
    }

    private static OffsetDateTime timestamp(Instant instant) {
        return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }
}
