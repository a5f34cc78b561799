package io.onceflow.payments;

import io.onceflow.ingest.DeadLetters;
import io.onceflow.payments.model.AuthorizationRequest;
import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.payments.model.RequestMetadata;
import io.onceflow.records.DeadLetter;
import io.onceflow.records.SingleObjectCodec;
import io.onceflow.records.SourcePosition;
import io.onceflow.records.SourceRecord;
import io.onceflow.testing.OperatorMetrics;

import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The decoder in Flink's harness: good bytes become requests with their position, every kind of
 * bad bytes becomes one dead letter carrying all it needs to be found and replayed, and nothing
 * throws (a throw would restart the job on the same record forever).
 */
class PaymentRequestDecoderTest {

    private static final String JOB = "onceflow-payments-test";
    private static final String TOPIC = "payments.requests";
    private static final Instant RECORD_TIME = Instant.parse("2026-11-25T11:59:58.123Z");

    private OperatorMetrics metrics;
    private OneInputStreamOperatorTestHarness<SourceRecord, AuthorizationRequest> harness;

    @BeforeEach
    void setUp() throws Exception {
        metrics = new OperatorMetrics();
        harness =
                new OneInputStreamOperatorTestHarness<>(
                        new ProcessOperator<>(new PaymentRequestDecoder(JOB)),
                        metrics.environment());
        harness.open();
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
        metrics.close();
    }

    @Test
    void aPaymentRequestIsDecodedWithItsSourcePosition() throws Exception {
        PaymentRequest request = request();

        harness.processElement(record(7, 42, key("k1"), SingleObjectCodec.encode(request)), 0);

        AuthorizationRequest decoded = single(harness.extractOutputValues());
        assertThat(decoded.getRequest()).isEqualTo(request);
        assertThat(decoded.getSource()).isEqualTo(new SourcePosition(TOPIC, 7, 42L));
        assertThat(decoded.getCustomer()).isNull();
        assertThat(decoded.getLookupFailure()).isNull();
        assertThat(deadLetters()).isEmpty();
        assertThat(metrics.count("deadLetters")).isZero();
    }

    @Test
    void aRecordWithoutValueIsADeadLetterMissingValue() throws Exception {
        harness.processElement(record(0, 1, key("k1"), null), 0);

        DeadLetter deadLetter = singleDeadLetter();
        assertThat(deadLetter.getReason()).isEqualTo("missing_value");
        assertThat(deadLetter.getValue()).isNull();
        assertCarriesTheRecord(deadLetter, 0, 1, key("k1"), null);
    }

    @Test
    void garbageIsADeadLetterNotSingleObject() throws Exception {
        byte[] garbage = "{\"amount\": 12}".getBytes(StandardCharsets.UTF_8);

        harness.processElement(record(1, 2, key("k2"), garbage), 0);

        DeadLetter deadLetter = singleDeadLetter();
        assertThat(deadLetter.getReason()).isEqualTo("not_single_object");
        assertCarriesTheRecord(deadLetter, 1, 2, key("k2"), garbage);
    }

    @Test
    void valuesTooShortForTheHeaderAreNotSingleObject() throws Exception {
        harness.processElement(record(1, 3, null, new byte[0]), 0);
        harness.processElement(record(1, 4, null, new byte[] {(byte) 0xC3, 0x01, 1, 2}), 0);

        assertThat(deadLetters())
                .extracting(DeadLetter::getReason)
                .containsExactly("not_single_object", "not_single_object");
    }

    @Test
    void anotherKnownRecordTypeIsADeadLetterUnknownSchema() throws Exception {
        byte[] result = SingleObjectCodec.encode(result());

        harness.processElement(record(2, 3, key("k3"), result), 0);

        DeadLetter deadLetter = singleDeadLetter();
        assertThat(deadLetter.getReason()).isEqualTo("unknown_schema");
        assertThat(deadLetter.getError()).contains("payment-result").contains("PaymentRequest");
        assertCarriesTheRecord(deadLetter, 2, 3, key("k3"), result);
    }

    @Test
    void anUnknownFingerprintIsADeadLetterUnknownSchema() throws Exception {
        byte[] value = SingleObjectCodec.encode(request());
        value[5] ^= 0x5A;

        harness.processElement(record(2, 4, null, value), 0);

        assertThat(singleDeadLetter().getReason()).isEqualTo("unknown_schema");
    }

    @Test
    void theRightHeaderWithATruncatedBodyIsADeadLetterUndecodable() throws Exception {
        byte[] whole = SingleObjectCodec.encode(request());
        byte[] truncated = Arrays.copyOf(whole, whole.length - 5);

        harness.processElement(record(3, 4, key("k4"), truncated), 0);

        DeadLetter deadLetter = singleDeadLetter();
        assertThat(deadLetter.getReason()).isEqualTo("undecodable");
        assertCarriesTheRecord(deadLetter, 3, 4, key("k4"), truncated);
    }

    @Test
    void trailingBytesAfterACompleteRequestAreUndecodable() throws Exception {
        byte[] whole = SingleObjectCodec.encode(request());
        byte[] longer = Arrays.copyOf(whole, whole.length + 1);

        harness.processElement(record(3, 5, null, longer), 0);

        assertThat(singleDeadLetter().getReason()).isEqualTo("undecodable");
    }

    @Test
    void badRecordsNeitherThrowNorStopTheGoodOnesAndEachIsCounted() throws Exception {
        byte[] good = SingleObjectCodec.encode(request());
        byte[] truncated = Arrays.copyOf(good, good.length - 1);

        harness.processElement(record(0, 10, null, null), 0);
        harness.processElement(record(0, 11, null, new byte[] {1, 2, 3}), 0);
        harness.processElement(record(0, 12, null, good), 0);
        harness.processElement(record(0, 13, null, SingleObjectCodec.encode(result())), 0);
        harness.processElement(record(0, 14, null, truncated), 0);
        harness.processElement(record(0, 15, null, good), 0);

        assertThat(harness.extractOutputValues())
                .extracting(decoded -> decoded.getSource().getOffset())
                .containsExactly(12L, 15L);
        assertThat(deadLetters())
                .extracting(DeadLetter::getReason)
                .containsExactly(
                        "missing_value", "not_single_object", "unknown_schema", "undecodable");
        assertThat(deadLetters())
                .extracting(deadLetter -> deadLetter.getSource().getOffset())
                .containsExactly(10L, 11L, 13L, 14L);
        assertThat(metrics.count("deadLetters")).isEqualTo(4);
    }

    private void assertCarriesTheRecord(
            DeadLetter deadLetter, int partition, long offset, byte[] key, byte[] value) {
        assertThat(deadLetter.getSource()).isEqualTo(new SourcePosition(TOPIC, partition, offset));
        assertThat(deadLetter.getSourceTimestamp()).isEqualTo(RECORD_TIME);
        assertThat(bytes(deadLetter.getKey())).isEqualTo(key);
        assertThat(bytes(deadLetter.getValue())).isEqualTo(value);
        assertThat(deadLetter.getJob()).isEqualTo(JOB);
        assertThat(deadLetter.getError()).isNotBlank();
        assertThat(deadLetter.getFailedAt()).isNotNull();
        assertThat(harness.extractOutputValues()).isEmpty();
        assertThat(metrics.count("deadLetters")).isEqualTo(1);
    }

    private List<DeadLetter> deadLetters() {
        var side = harness.getSideOutput(DeadLetters.TAG);
        return side == null ? List.of() : side.stream().map(StreamRecord::getValue).toList();
    }

    private DeadLetter singleDeadLetter() {
        return single(deadLetters());
    }

    private static <T> T single(List<T> values) {
        assertThat(values).hasSize(1);
        return values.get(0);
    }

    private static SourceRecord record(int partition, long offset, byte[] key, byte[] value) {
        return SourceRecord.newBuilder()
                .setSource(new SourcePosition(TOPIC, partition, offset))
                .setTimestamp(RECORD_TIME)
                .setKey(key == null ? null : ByteBuffer.wrap(key))
                .setValue(value == null ? null : ByteBuffer.wrap(value))
                .build();
    }

    private static byte[] key(String key) {
        return key.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        ByteBuffer copy = buffer.duplicate();
        byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        return bytes;
    }

    private static PaymentRequest request() {
        return PaymentRequest.newBuilder()
                .setIdempotencyKey("k1")
                .setCustomerId("alice")
                .setMerchantId("shop")
                .setAmountMinor(1250)
                .setCurrency("EUR")
                .setRequestedAt(Instant.parse("2026-11-25T11:59:57Z"))
                .setMetadata(new RequestMetadata("10.0.0.1", "curl/8"))
                .build();
    }

    private static PaymentResult result() {
        return PaymentResults.of(
                request(),
                new SourcePosition(TOPIC, 0, 0L),
                PaymentStatus.COMPLETED,
                null,
                "ref-1",
                Instant.parse("2026-11-25T12:00:00Z"));
    }
}
