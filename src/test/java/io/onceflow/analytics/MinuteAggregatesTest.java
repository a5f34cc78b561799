package io.onceflow.analytics;

import io.onceflow.analytics.model.AnalyticsMinute;
import io.onceflow.analytics.model.AnalyticsRecord;
import io.onceflow.analytics.model.MinuteAccumulator;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.transformations.OneInputTransformation;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The job's own window operator (taken from the graph {@link MinuteAggregates#apply} builds) in
 * the keyed operator harness: totals per type, late re-firings of the same window, and state and
 * timers gone once the allowed lateness has passed.
 */
class MinuteAggregatesTest {

    private static final Instant MINUTE = Instant.parse("2026-11-25T12:00:00Z");
    private static final Duration LATENESS = Duration.ofSeconds(30);

    private KeyedOneInputStreamOperatorTestHarness<String, Tuple2<String, MinuteAccumulator>, AnalyticsMinute> harness;

    @BeforeEach
    @SuppressWarnings("unchecked")
    void setUp() throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        var events = env.fromData(new AvroTypeInfo<>(AnalyticsRecord.class), TestEvents.click("x", "u", MINUTE));
        var windows = MinuteAggregates.apply(events, new AnalyticsConfig.Windows(Duration.ofMinutes(1), LATENESS));
        var transformation = (OneInputTransformation<Tuple2<String, MinuteAccumulator>, AnalyticsMinute>) windows.getTransformation();
        harness = new KeyedOneInputStreamOperatorTestHarness<>(
                transformation.getOperatorFactory(),
                (KeySelector<Tuple2<String, MinuteAccumulator>, String>) transformation.getStateKeySelector(),
                (TypeInformation<String>) transformation.getStateKeyType());
        harness.open();
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    /** One event as the pre-aggregation hands it on when it is alone in its partial. */
    private void process(AnalyticsRecord record) throws Exception {
        var accumulate = new MinuteAggregates.Accumulate();
        harness.processElement(
                Tuple2.of(MinuteAggregates.typeOf(record), accumulate.add(record, accumulate.createAccumulator())),
                EventTypes.occurredAt(EventTypes.event(record)).toEpochMilli());
    }

    private List<AnalyticsMinute> firings() {
        return harness.extractOutputValues();
    }

    @Test
    void aWindowCountsEventsDistinctUsersAndRevenuePerCurrency() throws Exception {
        process(TestEvents.purchase("p1", "alice", MINUTE.plusSeconds(1), 1_000, "EUR"));
        process(TestEvents.purchase("p2", "alice", MINUTE.plusSeconds(2), 500, "EUR"));
        process(TestEvents.purchase("p3", "bob", MINUTE.plusSeconds(3), 700, "USD"));
        process(TestEvents.click("c1", "alice", MINUTE.plusSeconds(4)));
        process(TestEvents.anonymousClick("c2", "alice", MINUTE.plusSeconds(5)));
        process(TestEvents.purchase("next", "carol", MINUTE.plusSeconds(61), 1, "EUR"));

        harness.processWatermark(MINUTE.plusSeconds(60).toEpochMilli());

        assertThat(firings()).hasSize(2);
        AnalyticsMinute purchases = firing("purchase");
        assertThat(purchases.getWindowStart()).isEqualTo(MINUTE);
        assertThat(purchases.getEvents()).isEqualTo(3);
        assertThat(purchases.getUniqueUsers()).isEqualTo(2);
        assertThat(purchases.getRevenueByCurrency()).isEqualTo(Map.of("EUR", 1_500L, "USD", 700L));
        assertThat(purchases.getFiring()).isEqualTo(1);
        AnalyticsMinute clicks = firing("click");
        assertThat(clicks.getEvents()).isEqualTo(2);
        assertThat(clicks.getUniqueUsers()).as("an anonymousId is another user than the same userId").isEqualTo(2);
        assertThat(clicks.getRevenueByCurrency()).isEmpty();
    }

    @Test
    void aLateEventReFiresTheSameWindowAndCleanupRemovesStateAndTimers() throws Exception {
        process(TestEvents.click("c1", "alice", MINUTE.plusSeconds(1)));
        harness.processWatermark(MINUTE.plusSeconds(60).toEpochMilli());
        assertThat(firings()).singleElement().satisfies(f -> {
            assertThat(f.getEvents()).isEqualTo(1);
            assertThat(f.getFiring()).isEqualTo(1);
        });

        process(TestEvents.click("c2", "bob", MINUTE.plusSeconds(2)));
        assertThat(firings()).hasSize(2);
        AnalyticsMinute refired = firings().get(1);
        assertThat(refired.getWindowStart()).as("the same row").isEqualTo(MINUTE);
        assertThat(refired.getEventType()).isEqualTo("click");
        assertThat(refired.getEvents()).isEqualTo(2);
        assertThat(refired.getUniqueUsers()).isEqualTo(2);
        assertThat(refired.getFiring()).isEqualTo(2);
        assertThat(harness.numKeyedStateEntries()).as("window contents and firing count").isPositive();
        assertThat(harness.numEventTimeTimers()).as("the cleanup timer").isEqualTo(1);

        harness.processWatermark(MINUTE.plusSeconds(60).plus(LATENESS).toEpochMilli() - 1);

        assertThat(harness.numKeyedStateEntries()).as("window state after the lateness passed").isZero();
        assertThat(harness.numEventTimeTimers()).as("timers after the lateness passed").isZero();
        process(TestEvents.click("c3", "carol", MINUTE.plusSeconds(3)));
        assertThat(firings()).as("a too-late event changes nothing (the marker keeps them away)").hasSize(2);
        assertThat(harness.numKeyedStateEntries()).isZero();
    }

    @Test
    void thePreAggregationHandsOnPartialTotalsBeforeEachWatermarkAndBarrierAndHoldsNothingAcrossThem() throws Exception {
        try (var pre = new OneInputStreamOperatorTestHarness<>(new MinuteAggregates.PreAggregator(60_000))) {
            pre.open();
            for (AnalyticsRecord record : List.of(
                    TestEvents.click("c1", "alice", MINUTE.plusSeconds(1)),
                    TestEvents.click("c2", "alice", MINUTE.plusSeconds(2)),
                    TestEvents.click("c3", "bob", MINUTE.plusSeconds(3)),
                    TestEvents.click("next", "carol", MINUTE.plusSeconds(61)))) {
                pre.processElement(record, EventTypes.occurredAt(EventTypes.event(record)).toEpochMilli());
            }
            assertThat(pre.extractOutputValues()).as("nothing before a watermark or barrier").isEmpty();

            pre.processWatermark(MINUTE.plusSeconds(30).toEpochMilli());

            var partials = pre.extractOutputStreamRecords();
            assertThat(partials).hasSize(2);
            var first = partials.stream()
                    .filter(r -> r.getTimestamp() == MINUTE.plusSeconds(60).toEpochMilli() - 1)
                    .findFirst().orElseThrow().getValue();
            assertThat(first.f0).isEqualTo("click");
            assertThat(first.f1.getEvents()).isEqualTo(3);
            assertThat(first.f1.getUsers()).hasSize(2);
            assertThat(List.copyOf(pre.getOutput()).get(pre.getOutput().size() - 1)).as("the watermark follows the partials")
                    .isInstanceOf(org.apache.flink.streaming.api.watermark.Watermark.class);

            pre.processElement(TestEvents.click("c4", "dave", MINUTE.plusSeconds(4)), MINUTE.plusSeconds(4).toEpochMilli());
            pre.prepareSnapshotPreBarrier(1);
            assertThat(pre.extractOutputValues()).hasSize(3);
            assertThat(pre.extractOutputValues().get(2).f1.getEvents()).isEqualTo(1);
        }
    }

    private AnalyticsMinute firing(String type) {
        return firings().stream().filter(f -> f.getEventType().equals(type)).findFirst().orElseThrow();
    }
}
