package io.onceflow.analytics;

import io.onceflow.analytics.events.Click;
import io.onceflow.analytics.events.ClickProperties;
import io.onceflow.analytics.events.Purchase;
import io.onceflow.analytics.events.PurchaseItem;
import io.onceflow.analytics.events.PurchaseProperties;
import io.onceflow.analytics.model.AnalyticsRecord;
import io.onceflow.analytics.model.Enrichment;
import io.onceflow.records.SourcePosition;
import io.onceflow.records.SourceRecord;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Events for the analytics unit tests, as the pipeline carries them and as SDKs send them. */
final class TestEvents {

    private static long offset;

    private TestEvents() {}

    static SourceRecord sourceRecord(String json) {
        return SourceRecord.newBuilder()
                .setSource(new SourcePosition("analytics.events", 0, offset++))
                .setTimestamp(Instant.parse("2026-11-25T12:00:00Z"))
                .setKey(null)
                .setValue(json == null ? null : ByteBuffer.wrap(json.getBytes(StandardCharsets.UTF_8)))
                .build();
    }

    static AnalyticsRecord click(String eventId, String userId, Instant occurredAt) {
        return record(Click.newBuilder()
                .setEventId(eventId)
                .setType("click")
                .setUserId(userId)
                .setOccurredAt(occurredAt)
                .setProperties(new ClickProperties("buy-button", null))
                .build());
    }

    static AnalyticsRecord anonymousClick(String eventId, String anonymousId, Instant occurredAt) {
        AnalyticsRecord record = click(eventId, null, occurredAt);
        ((Click) record.getEvent()).setAnonymousId(anonymousId);
        return record;
    }

    static AnalyticsRecord purchase(String eventId, String userId, Instant occurredAt, long revenueMinor, String currency) {
        return record(Purchase.newBuilder()
                .setEventId(eventId)
                .setType("purchase")
                .setUserId(userId)
                .setOccurredAt(occurredAt)
                .setProperties(PurchaseProperties.newBuilder()
                        .setOrderId("order-" + eventId)
                        .setRevenueMinor(revenueMinor)
                        .setCurrency(currency)
                        .setItems(List.of(new PurchaseItem("sku-1", 1, revenueMinor)))
                        .build())
                .build());
    }

    private static AnalyticsRecord record(Object event) {
        return AnalyticsRecord.newBuilder()
                .setEvent(event)
                .setSource(new SourcePosition("analytics.events", 0, offset++))
                .setReceivedAt(Instant.parse("2026-11-25T12:00:00Z"))
                .setEnrichment(Enrichment.newBuilder().setMissing(new ArrayList<>()).build())
                .setLate(false)
                .build();
    }
}
