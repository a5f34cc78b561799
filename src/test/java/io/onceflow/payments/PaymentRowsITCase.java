package io.onceflow.payments;

import io.onceflow.config.Secret;
import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.payments.model.RequestMetadata;
import io.onceflow.postgres.Migrations;
import io.onceflow.postgres.PostgresEndpoint;
import io.onceflow.records.SourcePosition;
import io.onceflow.sinks.postgres.PostgresStatement;
import io.onceflow.sinks.postgres.RowBatch;
import io.onceflow.testing.TestServices;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The statements the PostgreSQL sink writes payments with, run as the sink runs them ({@link
 * RowBatch}: one row or many per statement) against the real schema the migrations create.
 */
class PaymentRowsITCase {

    private static final Instant REQUESTED = Instant.parse("2026-11-25T23:59:59.123Z");
    private static final Instant PROCESSED = Instant.parse("2026-11-26T00:00:00.456Z");

    private TestServices.PostgresDatabase database;

    @BeforeEach
    void setUp() {
        database = TestServices.newDatabase("payment_rows");
        Migrations.apply(
                new PostgresEndpoint(database.jdbcUrl(), database.user(), password(database)));
    }

    @Test
    void aCompletedPaymentIsWrittenWithEveryColumn() throws Exception {
        PaymentResult completed =
                result("alice", "k1", PaymentStatus.COMPLETED, null, "gw-ref-1", 7, 4242);

        assertThat(insert(completed)).isEqualTo(1);

        try (Connection connection = database.connect();
                ResultSet row = selectRow(connection, completed.getPaymentId())) {
            assertThat(row.getObject("payment_id", UUID.class))
                    .isEqualTo(UUID.fromString(PaymentIds.paymentId("alice", "k1")));
            assertThat(row.getString("customer_id")).isEqualTo("alice");
            assertThat(row.getString("idempotency_key")).isEqualTo("k1");
            assertThat(row.getString("merchant_id")).isEqualTo("shop");
            assertThat(row.getLong("amount_minor")).isEqualTo(1250L);
            assertThat(row.getString("currency")).isEqualTo("EUR");
            assertThat(row.getString("status")).isEqualTo("COMPLETED");
            assertThat(row.getString("decline_reason")).isNull();
            assertThat(row.getString("gateway_reference")).isEqualTo("gw-ref-1");
            assertThat(row.getObject("requested_at", OffsetDateTime.class))
                    .isEqualTo(OffsetDateTime.ofInstant(REQUESTED, ZoneOffset.UTC));
            assertThat(row.getObject("processed_at", OffsetDateTime.class))
                    .isEqualTo(OffsetDateTime.ofInstant(PROCESSED, ZoneOffset.UTC));
            assertThat(row.getLong("requested_at_ms")).isEqualTo(REQUESTED.toEpochMilli());
            assertThat(row.getLong("processed_at_ms")).isEqualTo(PROCESSED.toEpochMilli());
            assertThat(row.getString("source_topic")).isEqualTo("payments.requests");
            assertThat(row.getInt("source_partition")).isEqualTo(7);
            assertThat(row.getLong("source_offset")).isEqualTo(4242L);
        }
    }

    @Test
    void aDeclinedPaymentIsWrittenWithItsReasonAndWithoutAReference() throws Exception {
        PaymentResult declined =
                result("bob", "k9", PaymentStatus.DECLINED, "insufficient_funds", null, 0, 3);

        assertThat(insert(declined)).isEqualTo(1);

        try (Connection connection = database.connect();
                ResultSet row = selectRow(connection, declined.getPaymentId())) {
            assertThat(row.getString("status")).isEqualTo("DECLINED");
            assertThat(row.getString("decline_reason")).isEqualTo("insufficient_funds");
            assertThat(row.getString("gateway_reference")).isNull();
            assertThat(row.getString("customer_id")).isEqualTo("bob");
            assertThat(row.getLong("source_offset")).isEqualTo(3L);
            assertThat(row.getLong("requested_at_ms")).isEqualTo(REQUESTED.toEpochMilli());
        }
    }

    @Test
    void aSecondInsertOfThePaymentChangesNothing() throws Exception {
        PaymentResult first = result("alice", "k1", PaymentStatus.COMPLETED, null, "gw-1", 1, 10);
        // A replay of the same request: same payment, answered again later from another offset.
        PaymentResult again = result("alice", "k1", PaymentStatus.COMPLETED, null, "gw-2", 1, 99);
        again.setProcessedAt(PROCESSED.plusSeconds(60));

        assertThat(insert(first)).isEqualTo(1);
        assertThat(insert(again)).isZero();

        assertThat(count()).isEqualTo(1);
        try (Connection connection = database.connect();
                ResultSet row = selectRow(connection, first.getPaymentId())) {
            assertThat(row.getString("gateway_reference")).isEqualTo("gw-1");
            assertThat(row.getLong("source_offset")).isEqualTo(10L);
            assertThat(row.getLong("processed_at_ms")).isEqualTo(PROCESSED.toEpochMilli());
        }
    }

    @Test
    void manyPaymentsGoInMultiRowStatementsEachColumnInPlace() throws Exception {
        List<PaymentResult> results = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            boolean declined = i % 3 == 0;
            results.add(result("customer-" + i, "k" + i, declined ? PaymentStatus.DECLINED : PaymentStatus.COMPLETED,
                    declined ? "insufficient_funds" : null, declined ? null : "gw-" + i, i % 4, 1000 + i));
        }
        // a replay of two of them inside the same batch
        results.add(results.get(5));
        results.add(results.get(299));

        RowBatch.Sent sent = insert(results);

        assertThat(sent.rows()).isEqualTo(302);
        assertThat(sent.unchanged()).isEqualTo(2);
        assertThat(count()).isEqualTo(300);
        try (Connection connection = database.connect()) {
            for (int i : new int[] {0, 127, 128, 255, 256, 299}) {
                PaymentResult expected = results.get(i);
                try (ResultSet row = selectRow(connection, expected.getPaymentId())) {
                    assertThat(row.getString("customer_id")).isEqualTo("customer-" + i);
                    assertThat(row.getString("idempotency_key")).isEqualTo("k" + i);
                    assertThat(row.getString("status")).isEqualTo(expected.getStatus().name());
                    assertThat(row.getString("decline_reason")).isEqualTo(expected.getReason());
                    assertThat(row.getString("gateway_reference")).isEqualTo(expected.getGatewayReference());
                    assertThat(row.getInt("source_partition")).isEqualTo(i % 4);
                    assertThat(row.getLong("source_offset")).isEqualTo(1000L + i);
                    assertThat(row.getLong("processed_at_ms")).isEqualTo(PROCESSED.toEpochMilli());
                }
            }
        }
    }

    private int insert(PaymentResult result) throws Exception {
        return (int) insert(List.of(result)).changed();
    }

    /**
     * Runs the statements the sink runs ({@link RowBatch}, all results in one send), in a session
     * whose time zone is far from UTC: a timestamp bound without its offset would land hours off.
     */
    private RowBatch.Sent insert(List<PaymentResult> results) throws Exception {
        PostgresStatement<PaymentResult> statement = PaymentRows.statement();
        try (Connection connection = database.connect()) {
            try (Statement session = connection.createStatement()) {
                session.execute("SET TIME ZONE 'Pacific/Chatham'");
            }
            try (RowBatch<PaymentResult> batch = new RowBatch<>(connection, statement)) {
                for (PaymentResult result : results) {
                    batch.add(result);
                }
                return batch.send();
            }
        }
    }

    private static ResultSet selectRow(Connection connection, String paymentId)
            throws SQLException {
        PreparedStatement select =
                connection.prepareStatement(
                        "SELECT *,"
                                + " (extract(epoch FROM requested_at) * 1000)::bigint"
                                + " AS requested_at_ms,"
                                + " (extract(epoch FROM processed_at) * 1000)::bigint"
                                + " AS processed_at_ms"
                                + " FROM payments WHERE payment_id = ?");
        select.closeOnCompletion();
        select.setObject(1, UUID.fromString(paymentId));
        ResultSet row = select.executeQuery();
        assertThat(row.next()).as("a row for payment " + paymentId).isTrue();
        return row;
    }

    private long count() throws SQLException {
        try (Connection connection = database.connect();
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SELECT count(*) FROM payments")) {
            result.next();
            return result.getLong(1);
        }
    }

    private static PaymentResult result(
            String customer,
            String key,
            PaymentStatus status,
            String reason,
            String reference,
            int partition,
            long offset) {
        PaymentRequest request =
                PaymentRequest.newBuilder()
                        .setIdempotencyKey(key)
                        .setCustomerId(customer)
                        .setMerchantId("shop")
                        .setAmountMinor(1250)
                        .setCurrency("EUR")
                        .setRequestedAt(REQUESTED)
                        .setMetadata(new RequestMetadata(null, null))
                        .build();
        return PaymentResults.of(
                request,
                new SourcePosition("payments.requests", partition, offset),
                status,
                reason,
                reference,
                PROCESSED);
    }

    private static Secret password(TestServices.PostgresDatabase database) {
        return database.password().isEmpty()
                ? Secret.none()
                : Secret.fromEnv("ONCEFLOW_TEST_POSTGRES_PASSWORD");
    }
}
