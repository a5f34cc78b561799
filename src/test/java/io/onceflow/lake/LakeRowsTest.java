package io.onceflow.lake;

import io.onceflow.analytics.events.EventContext;
import io.onceflow.analytics.events.PurchaseItem;
import io.onceflow.analytics.events.PurchaseProperties;

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
    void anAnalyticsEventBecomesARowOfTheEventsTableWithItsPropertiesInItsTypesColumn() {
        Schema events = LakeTables.analyticsEvents(LakeSettings.defaults()).schema();
        Instant occurred = Instant.parse("2025-06-01T10:15:30.123456Z");
        PurchaseProperties purchase = PurchaseProperties.newBuilder()
                .setOrderId("o-1")
                .setRevenueMinor(2_500)
                .setCurrency("EUR")
                .setItems(List.of(new PurchaseItem("sku-1", 2, 1_250L)))
                .build();
        AnalyticsEvent event = AnalyticsEvent.builder("e-1", "purchase", occurred, occurred.plusSeconds(2))
                .anonymousId("anon-9")
                .context(EventContext.newBuilder().setUserAgent("curl/8").build())
                .properties(purchase)
                .country("DE")
                .deviceClass("mobile")
                .enrichmentMissing(List.of("user-profile"))
                .late(true)
                .build();

        RowData row = AnalyticsEvent.rows(events).toRow(event);

        assertThat(row.getArity()).isEqualTo(events.columns().size());
        assertThat(row.getString(eventsCol(events, "event_id")).toString()).isEqualTo("e-1");
        assertThat(row.getString(eventsCol(events, "type")).toString()).isEqualTo("purchase");
        assertThat(row.isNullAt(eventsCol(events, "user_id"))).as("user_id").isTrue();
        assertThat(row.getString(eventsCol(events, "anonymous_id")).toString()).isEqualTo("anon-9");
        assertThat(row.getTimestamp(eventsCol(events, "occurred_at"), 6).toInstant()).isEqualTo(occurred);
        assertThat(row.getRow(eventsCol(events, "context"), 3).getString(0).toString()).isEqualTo("curl/8");
        assertThat(row.getString(eventsCol(events, "country")).toString()).isEqualTo("DE");
        assertThat(row.isNullAt(eventsCol(events, "plan"))).as("plan").isTrue();
        ArrayData missing = row.getArray(eventsCol(events, "enrichment_missing"));
        assertThat(missing.getString(0).toString()).isEqualTo("user-profile");
        assertThat(row.getBoolean(eventsCol(events, "late"))).isTrue();
        RowData typed = row.getRow(eventsCol(events, "purchase"), 5);
        assertThat(typed.getString(0).toString()).isEqualTo("o-1");
        assertThat(typed.getLong(1)).isEqualTo(2_500);
        assertThat(typed.getArray(3).getRow(0, 3).getString(0).toString()).isEqualTo("sku-1");
        assertThat(typed.isNullAt(4)).as("coupon").isTrue();
        assertThat(row.isNullAt(eventsCol(events, "page_view"))).as("other types' columns").isTrue();

        assertThatThrownBy(() -> AnalyticsEvent.builder("e-2", "x", null, occurred).build())
                .hasMessage("occurredAt");
    }

    private static int eventsCol(Schema events, String name) {
        return events.columns().indexOf(events.findField(name));
    }

    private static int col(String name) {
        return RESULTS.columns().indexOf(RESULTS.findField(name));
    }
}
