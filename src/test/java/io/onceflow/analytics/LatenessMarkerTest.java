package io.onceflow.analytics;

import io.onceflow.analytics.model.AnalyticsRecord;

import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** The one place that decides lateness: the window operator's rule, by this operator's watermark. */
class LatenessMarkerTest {

    private static final Instant MINUTE = Instant.parse("2026-11-25T12:00:00Z");
    private static final Duration LATENESS = Duration.ofSeconds(30);

    private OneInputStreamOperatorTestHarness<AnalyticsRecord, AnalyticsRecord> harness;

    @BeforeEach
    void setUp() throws Exception {
        harness = newHarness();
        harness.open();
    }

    private static OneInputStreamOperatorTestHarness<AnalyticsRecord, AnalyticsRecord> newHarness() throws Exception {
        return new OneInputStreamOperatorTestHarness<>(new LatenessMarker(Duration.ofMinutes(1), LATENESS));
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    private boolean lateAt(long watermark, Instant occurredAt) throws Exception {
        harness.processWatermark(watermark);
        harness.processElement(TestEvents.click("e", "u", occurredAt), occurredAt.toEpochMilli());
        var values = harness.extractOutputValues();
        return values.get(values.size() - 1).getLate();
    }

    @Test
    void anEventIsLateExactlyWhenItsWindowsLatenessHasPassed() throws Exception {
        long windowEnd = MINUTE.plusSeconds(60).toEpochMilli();
        Instant inWindow = MINUTE.plusSeconds(10);

        assertThat(lateAt(MINUTE.toEpochMilli(), inWindow)).as("window still open").isFalse();
        assertThat(lateAt(windowEnd + 1_000, inWindow)).as("fired, within allowed lateness").isFalse();
        assertThat(lateAt(windowEnd - 1 + LATENESS.toMillis() - 1, inWindow)).as("last moment").isFalse();
        assertThat(lateAt(windowEnd - 1 + LATENESS.toMillis(), inWindow)).as("window cleaned up").isTrue();
        assertThat(lateAt(windowEnd - 1 + LATENESS.toMillis(), MINUTE.plusSeconds(60))).as("next window").isFalse();
        assertThat(harness.extractOutputValues()).as("every event goes on, late or not").hasSize(5);
    }

    @Test
    void aRestoreKeepsTheWatermarkSoReplayedEventsOfDroppedWindowsStayLate() throws Exception {
        long afterCleanup = MINUTE.plusSeconds(60).plus(LATENESS).toEpochMilli();
        harness.processWatermark(afterCleanup);
        OperatorSubtaskState checkpoint = harness.snapshot(1L, afterCleanup);
        harness.close();

        harness = newHarness();
        harness.initializeState(checkpoint);
        harness.open();
        harness.processElement(TestEvents.click("replayed", "u", MINUTE.plusSeconds(10)), MINUTE.plusSeconds(10).toEpochMilli());

        assertThat(harness.extractOutputValues()).singleElement()
                .satisfies(record -> assertThat(record.getLate())
                        .as("late by the checkpointed watermark, though no watermark came since the restore")
                        .isTrue());
    }
}
