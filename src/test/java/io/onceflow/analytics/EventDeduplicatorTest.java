package io.onceflow.analytics;

import io.onceflow.analytics.model.AnalyticsRecord;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** Dedup by eventId in the keyed operator harness: first wins, TTL expiry, expired state removed. */
class EventDeduplicatorTest {

    private static final Instant AT = Instant.parse("2026-11-25T12:00:00Z");
    private static final Duration TTL = Duration.ofHours(24);

    private KeyedOneInputStreamOperatorTestHarness<String, AnalyticsRecord, AnalyticsRecord> harness;

    @BeforeEach
    void setUp() throws Exception {
        harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new EventDeduplicator(TTL)),
                record -> EventTypes.eventId(EventTypes.event(record)),
                Types.STRING);
        harness.setStateTtlProcessingTime(0);
        harness.open();
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    private void process(String eventId, String userId) throws Exception {
        harness.processElement(TestEvents.click(eventId, userId, AT), AT.toEpochMilli());
    }

    private java.util.List<String> passedUsers() {
        return harness.extractOutputValues().stream().map(r -> EventTypes.userId(EventTypes.event(r))).toList();
    }

    @Test
    void theFirstEventOfAnIdWinsAndRetriesAreDropped() throws Exception {
        process("e-1", "first");
        process("e-2", "other");
        process("e-1", "retry");
        harness.setStateTtlProcessingTime(TTL.minusMinutes(1).toMillis());
        process("e-1", "late retry");

        assertThat(passedUsers()).containsExactly("first", "other");
    }

    @Test
    void anIdIsForgottenAfterTheTtlAndItsStateIsRemoved() throws Exception {
        process("e-1", "first");
        process("e-2", "other");
        assertThat(harness.numKeyedStateEntries()).isEqualTo(2);

        harness.setStateTtlProcessingTime(TTL.plusMinutes(1).toMillis());
        // Incremental cleanup visits a few entries on each state access: any key's access does.
        for (int i = 0; i < 10; i++) {
            process("fresh-" + i, "fresh");
        }

        assertThat(harness.numKeyedStateEntries())
                .as("only the fresh ids remain; the expired markers are gone")
                .isEqualTo(10);
        process("e-1", "after ttl");
        assertThat(passedUsers()).contains("after ttl");
    }
}
