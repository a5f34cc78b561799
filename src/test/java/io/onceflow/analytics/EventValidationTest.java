package io.onceflow.analytics;

import io.onceflow.analytics.events.PageView;
import io.onceflow.analytics.events.Purchase;
import io.onceflow.analytics.model.AnalyticsRecord;
import io.onceflow.ingest.DeadLetters;
import io.onceflow.records.DeadLetter;
import io.onceflow.records.SourceRecord;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Validation of analytics events in Flink's operator harness: each dead-letter reason, with the
 * field it names, the raw bytes and the source position; and valid events of every type.
 */
class EventValidationTest {

    private static final Instant NOW = Instant.parse("2026-11-25T12:00:00Z");
    private static final AnalyticsConfig.Validation SETTINGS =
            new AnalyticsConfig.Validation(2048, 64, 3, 16, Duration.ofMinutes(5), Duration.ofDays(7));

    private OneInputStreamOperatorTestHarness<SourceRecord, AnalyticsRecord> harness;

    @BeforeEach
    void setUp() throws Exception {
        harness = ProcessFunctionTestHarnesses.forProcessFunction(
                new EventValidation("analytics-test", SETTINGS, Clock.fixed(NOW, ZoneOffset.UTC)));
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    private static final String PAGE_VIEW =
            "{\"eventId\":\"e-1\",\"type\":\"page_view\",\"userId\":\"u-1\",\"sessionId\":\"s-1\","
                    + "\"occurredAt\":\"2026-11-25T11:59:00Z\",\"context\":{\"userAgent\":\"Mozilla/5.0 (iPhone)\"},"
                    + "\"properties\":{\"url\":\"https://shop.example/\",\"title\":\"Shop\"},\"sdkVersion\":\"9.1\"}";

    @Test
    void aValidEventBecomesItsTypesRecordWithItsPosition() throws Exception {
        SourceRecord record = TestEvents.sourceRecord(PAGE_VIEW);
        harness.processElement(record, 1L);

        assertThat(deadLetters()).isEmpty();
        assertThat(harness.extractOutputValues()).singleElement().satisfies(valid -> {
            assertThat(valid.getEvent()).isInstanceOf(PageView.class);
            PageView event = (PageView) valid.getEvent();
            assertThat(event.getEventId()).isEqualTo("e-1");
            assertThat(event.getProperties().getUrl()).isEqualTo("https://shop.example/");
            assertThat(event.getContext().getUserAgent()).isEqualTo("Mozilla/5.0 (iPhone)");
            assertThat(valid.getSource()).isEqualTo(record.getSource());
            assertThat(valid.getReceivedAt()).isEqualTo(record.getTimestamp());
            assertThat(valid.getLate()).isFalse();
            assertThat(valid.getEnrichment().getMissing()).isEmpty();
        });
    }

    @Test
    void anAnonymousPurchaseWithItemsIsValid() throws Exception {
        harness.processElement(TestEvents.sourceRecord(
                "{\"eventId\":\"e-2\",\"type\":\"purchase\",\"anonymousId\":\"a-1\",\"occurredAt\":1795607940000,"
                        + "\"properties\":{\"orderId\":\"o-1\",\"revenueMinor\":2500,\"currency\":\"EUR\","
                        + "\"items\":[{\"sku\":\"k\",\"quantity\":2,\"priceMinor\":1250}]}}"), 1L);

        assertThat(deadLetters()).isEmpty();
        Purchase purchase = (Purchase) harness.extractOutputValues().get(0).getEvent();
        assertThat(purchase.getProperties().getItems()).hasSize(1);
        assertThat(purchase.getProperties().getCoupon()).isNull();
    }

    static Stream<Arguments> invalidEvents() {
        String future = NOW.plus(Duration.ofMinutes(6)).toString();
        String old = NOW.minus(Duration.ofDays(8)).toString();
        return Stream.of(
                Arguments.of("not JSON", "{\"eventId\": ", "unparseable", ""),
                Arguments.of("a JSON array", "[1, 2]", "unparseable", ""),
                Arguments.of("no value at all", null, "unparseable", "no value"),
                Arguments.of("over the size limit", "{\"eventId\":\"" + "x".repeat(2100) + "\"}", "too_large", ""),
                Arguments.of("a string over the limit",
                        PAGE_VIEW.replace("\"title\":\"Shop\"", "\"title\":\"" + "t".repeat(65) + "\""),
                        "too_large", "properties.title"),
                Arguments.of("too many items", purchase("[" + String.join(",", List.of(ITEM, ITEM, ITEM, ITEM)) + "]"),
                        "too_large", "properties.items"),
                Arguments.of("an id over its limit", PAGE_VIEW.replace("\"u-1\"", "\"" + "u".repeat(17) + "\""),
                        "too_large", "userId"),
                Arguments.of("an unknown type", PAGE_VIEW.replace("page_view", "screen_view"), "unknown_type", "screen_view"),
                Arguments.of("no type", PAGE_VIEW.replace("\"type\":\"page_view\",", ""), "missing_field", "type"),
                Arguments.of("a type that is no string", PAGE_VIEW.replace("\"page_view\"", "7"), "bad_type", "type"),
                Arguments.of("a required property missing",
                        PAGE_VIEW.replace("\"url\":\"https://shop.example/\",", ""), "missing_field", "properties.url"),
                Arguments.of("neither userId nor anonymousId",
                        PAGE_VIEW.replace("\"userId\":\"u-1\",", ""), "missing_field", "userId"),
                Arguments.of("a quantity as text", purchase("[" + ITEM.replace("\"quantity\":2", "\"quantity\":\"2\"") + "]"),
                        "bad_type", "properties.items[0].quantity"),
                Arguments.of("a blank eventId", PAGE_VIEW.replace("\"e-1\"", "\"  \""), "bad_value", "eventId"),
                Arguments.of("a timestamp that is no time",
                        PAGE_VIEW.replace("2026-11-25T11:59:00Z", "yesterday"), "bad_value", "occurredAt"),
                Arguments.of("a timestamp in the future",
                        PAGE_VIEW.replace("2026-11-25T11:59:00Z", future), "bad_timestamp", "occurredAt"),
                Arguments.of("a timestamp too old",
                        PAGE_VIEW.replace("2026-11-25T11:59:00Z", old), "bad_timestamp", "occurredAt"));
    }

    private static final String ITEM = "{\"sku\":\"k\",\"quantity\":2,\"priceMinor\":1250}";

    private static String purchase(String items) {
        return "{\"eventId\":\"e-3\",\"type\":\"purchase\",\"userId\":\"u-1\",\"occurredAt\":\"2026-11-25T11:59:00Z\","
                + "\"properties\":{\"orderId\":\"o-1\",\"revenueMinor\":2500,\"currency\":\"EUR\",\"items\":" + items + "}}";
    }

    @ParameterizedTest(name = "{0}: {2}")
    @MethodSource("invalidEvents")
    void anInvalidEventIsADeadLetterWithItsReasonFieldBytesAndPosition(
            String what, String json, String reason, String mentioned) throws Exception {
        SourceRecord record = TestEvents.sourceRecord(json);
        harness.processElement(record, 1L);

        assertThat(harness.extractOutputValues()).as("nothing valid comes out").isEmpty();
        assertThat(deadLetters()).singleElement().satisfies(deadLetter -> {
            assertThat(deadLetter.getReason()).isEqualTo(reason);
            assertThat(deadLetter.getError()).contains(mentioned);
            assertThat(deadLetter.getSource()).isEqualTo(record.getSource());
            assertThat(deadLetter.getValue()).isEqualTo(record.getValue());
            assertThat(deadLetter.getJob()).isEqualTo("analytics-test");
        });
        assertThat(EventValidator.REASONS).contains(reason);
    }

    @Test
    void everyReasonIsExercised() {
        Set<String> covered = invalidEvents().map(a -> (String) a.get()[2]).collect(Collectors.toSet());
        assertThat(covered).containsExactlyInAnyOrderElementsOf(EventValidator.REASONS);
    }

    @Test
    void bytesThatAreNoTextAreUnparseableNotAFailure() throws Exception {
        SourceRecord record = TestEvents.sourceRecord("");
        record.setValue(java.nio.ByteBuffer.wrap(new byte[] {(byte) 0xC3, 0x28, 0x00, (byte) 0xFF}));
        harness.processElement(record, 1L);

        assertThat(deadLetters()).singleElement()
                .satisfies(d -> assertThat(d.getReason()).isEqualTo("unparseable"));
        assertThat(new String(record.getValue().array(), StandardCharsets.ISO_8859_1)).hasSize(4);
    }

    private List<DeadLetter> deadLetters() {
        var output = harness.getSideOutput(DeadLetters.TAG);
        return output == null ? List.of() : output.stream().map(StreamRecord::getValue).toList();
    }
}
