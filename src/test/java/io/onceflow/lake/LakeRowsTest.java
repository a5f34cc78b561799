package io.onceflow.lake;

import io.onceflow.payments.model.PaymentResult;

import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.MapData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.util.InstantiationUtil;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Avro records and analytics events to rows of the lake's tables. */
class LakeRowsTest {

    private static final Schema RESULTS = LakeTables.paymentResults(LakeSettings.defaults()).schema();

    @Test
    void paymentResultColumnsFollowTheAvroSchema() {
        assertThat(RESULTS.columns()).extracting(Types.NestedField::name).containsExactly(
                "idempotency_key", "customer_id", "payment_id", "status", "reason", "gateway_reference",
                "merchant_id", "amount_minor", "currency", "requested_at", "processed_at", "original",
                "source_topic", "source_partition", "source_offset");
        assertThat(RESULTS.findField("payment_id").isOptional()).isTrue();
        assertThat(RESULTS.findField("customer_id").isRequired()).isTrue();
        assertThat(RESULTS.findField("original.processed_at").type()).isEqualTo(Types.TimestampType.withZone());
        assertThat(RESULTS.findField("source_partition").type()).isEqualTo(Types.IntegerType.get());
        assertThat(AvroColumns.snakeCase("userID")).isEqualTo("user_id");
        assertThat(AvroColumns.snakeCase("amountMinor")).isEqualTo("amount_minor");
    }

    @Test
    void aDuplicateResultBecomesARowWithItsOriginalAsAStruct() throws Exception {
        PaymentResult duplicate = PaymentResultFixtures.numbered(7);
        // The mapper travels in the job graph and rebuilds its accessors after deserialization.
        AvroRowMapper<PaymentResult> mapper =
                InstantiationUtil.clone(LakeTables.paymentResultRows(RESULTS), getClass().getClassLoader());

        RowData row = mapper.map(duplicate);

        assertThat(row.getArity()).isEqualTo(RESULTS.columns().size());
        assertThat(row.getString(col("idempotency_key")).toString()).isEqualTo("key-7");
        assertThat(row.getString(col("status")).toString()).isEqualTo("DUPLICATE");
        assertThat(row.isNullAt(col("reason"))).isTrue();
        assertThat(row.getLong(col("amount_minor"))).isEqualTo(107);
        assertThat(row.getTimestamp(col("processed_at"), 6))
                .isEqualTo(TimestampData.fromInstant(duplicate.getProcessedAt()));
        assertThat(row.getString(col("source_topic")).toString()).isEqualTo("payments.requests");
        assertThat(row.getInt(col("source_partition"))).isEqualTo(1);
        assertThat(row.getLong(col("source_offset"))).isEqualTo(7);
        RowData original = row.getRow(col("original"), 5);
        assertThat(original.getString(0).toString()).isEqualTo("COMPLETED");
        assertThat(original.getString(3).toString()).isEqualTo("gw-original-7");

        RowData completed = mapper.map(PaymentResultFixtures.numbered(8));
        assertThat(completed.isNullAt(col("original"))).isTrue();
    }

    @Test
    void aTableColumnTheRecordsLackIsNullButARequiredOneIsRefused() {
        Schema wider = new Schema(
                Types.NestedField.required(1, "source_offset", Types.LongType.get()),
                Types.NestedField.optional(2, "risk_score", Types.DoubleType.get()));
        RowData row = AvroRowMapper.<PaymentResult>of(
                        wider, PaymentResult.getClassSchema(), LakeTables.PAYMENT_RESULT_FLATTENED)
                .map(PaymentResultFixtures.numbered(3));
        assertThat(row.getLong(0)).isEqualTo(3);
        assertThat(row.isNullAt(1)).isTrue();

        Schema needsMore = new Schema(Types.NestedField.required(1, "risk_score", Types.DoubleType.get()));
        assertThatThrownBy(() -> AvroRowMapper.of(needsMore, PaymentResult.getClassSchema(), Set.of()))
                .hasMessage("Table column risk_score is required but the Avro records have no field for it.");
    }

    @Test
    void anAnalyticsEventBecomesARowOfTheEventsTable() {
        Schema events = LakeTables.analyticsEvents(LakeSettings.defaults()).schema();
        Instant occurred = Instant.parse("2025-06-01T10:15:30.123456Z");
        AnalyticsEvent event = AnalyticsEvent.builder("e-1", "page_view", occurred, occurred.plusSeconds(2))
                .anonymousId("anon-9")
                .properties(Map.of("path", "/pricing", "referrer", "{\"q\":\"x\"}"))
                .country("DE")
                .deviceClass("mobile")
                .enrichmentMissing(List.of("plan", "signup_cohort"))
                .build();

        RowData row = AnalyticsEvent.rows(events).toRow(event);

        assertThat(row.getArity()).isEqualTo(events.columns().size());
        assertThat(row.getString(0).toString()).isEqualTo("e-1");
        assertThat(row.getString(1).toString()).isEqualTo("page_view");
        assertThat(row.isNullAt(2)).as("user_id").isTrue();
        assertThat(row.getString(3).toString()).isEqualTo("anon-9");
        assertThat(row.getTimestamp(5, 6).toInstant()).isEqualTo(occurred);
        MapData properties = row.getMap(7);
        assertThat(properties.size()).isEqualTo(2);
        assertThat(row.getString(8).toString()).isEqualTo("DE");
        assertThat(row.isNullAt(9)).as("plan").isTrue();
        ArrayData missing = row.getArray(12);
        assertThat(List.of(missing.getString(0).toString(), missing.getString(1).toString()))
                .containsExactly("plan", "signup_cohort");

        assertThatThrownBy(() -> AnalyticsEvent.builder("e-2", "x", null, occurred).build())
                .hasMessage("occurredAt");
    }

    private static int col(String name) {
        return RESULTS.columns().indexOf(RESULTS.findField(name));
    }
}
