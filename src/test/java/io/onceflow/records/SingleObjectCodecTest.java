package io.onceflow.records;

import io.onceflow.payments.model.OriginalResult;
import io.onceflow.payments.model.PaymentCompleted;
import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.payments.model.RequestMetadata;
import io.onceflow.records.RecordDecodeException.Reason;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SingleObjectCodecTest {

    private static final Instant AT = Instant.parse("2026-11-25T10:00:00Z");
    private static final SingleObjectCodec CODEC = SingleObjectCodec.forTopicRecords();

    static PaymentRequest request() {
        return PaymentRequest.newBuilder()
                .setIdempotencyKey("k-1")
                .setCustomerId("c-1")
                .setMerchantId("m-1")
                .setAmountMinor(1250)
                .setCurrency("EUR")
                .setRequestedAt(AT)
                .setMetadata(new RequestMetadata("10.0.0.1", "curl/8"))
                .build();
    }

    static List<SpecificRecord> everyKnownType() {
        PaymentResult result =
                PaymentResult.newBuilder()
                        .setIdempotencyKey("k-1")
                        .setCustomerId("c-1")
                        .setPaymentId("p-1")
                        .setStatus(PaymentStatus.DUPLICATE)
                        .setMerchantId("m-1")
                        .setAmountMinor(1250)
                        .setCurrency("EUR")
                        .setRequestedAt(AT)
                        .setProcessedAt(AT.plusMillis(250))
                        .setOriginal(
                                new OriginalResult(PaymentStatus.COMPLETED, "p-1", null, "g-1", AT))
                        .setSource(new SourcePosition("payments.requests", 3, 42L))
                        .build();
        PaymentCompleted completed =
                PaymentCompleted.newBuilder()
                        .setPaymentId("p-1")
                        .setIdempotencyKey("k-1")
                        .setCustomerId("c-1")
                        .setMerchantId("m-1")
                        .setAmountMinor(1250)
                        .setCurrency("EUR")
                        .setGatewayReference("g-1")
                        .setRequestedAt(AT)
                        .setCompletedAt(AT.plusSeconds(1))
                        .build();
        DeadLetter deadLetter =
                DeadLetter.newBuilder()
                        .setSource(new SourcePosition("payments.requests", 0, 7L))
                        .setSourceTimestamp(AT)
                        .setReason("undecodable")
                        .setError("The body does not decode")
                        .setKey(ByteBuffer.wrap("k-1".getBytes(StandardCharsets.UTF_8)))
                        .setValue(ByteBuffer.wrap(new byte[] {(byte) 0xC3, 1, 2}))
                        .setJob("payments")
                        .setFailedAt(AT.plusSeconds(2))
                        .build();
        return List.of(request(), result, completed, deadLetter);
    }

    @ParameterizedTest
    @MethodSource("everyKnownType")
    void everyKnownTypeRoundTripsAndIsFoundByItsFingerprint(SpecificRecord record) {
        byte[] bytes = SingleObjectCodec.encode(record);

        assertThat(CODEC.decode(bytes)).isEqualTo(record).isInstanceOf(record.getClass());
        assertThat(CODEC.decode(bytes, record.getClass())).isEqualTo(record);
    }

    @Test
    void encodesTheSameBytesAsTheGeneratedToByteBuffer() throws Exception {
        PaymentRequest request = request();
        ByteBuffer generated = request.toByteBuffer();
        byte[] expected = new byte[generated.remaining()];
        generated.get(expected);

        byte[] bytes = SingleObjectCodec.encode(request);

        assertThat(bytes).isEqualTo(expected);
        assertThat(Arrays.copyOf(bytes, 2)).containsExactly(0xC3, 0x01);
        assertThat(SingleObjectCodec.fingerprint(bytes))
                .isEqualTo(KnownSchemas.fingerprint(PaymentRequest.getClassSchema()));
    }

    @Test
    void topicRecordsAreNamedInKebabCase() {
        assertThat(KnownSchemas.topicRecords().types())
                .extracting(KnownSchemas.KnownType::name)
                .containsExactly("payment-request", "payment-result", "payment-completed", "dead-letter");
        assertThat(KnownSchemas.topicRecords().byName("payment-result").orElseThrow().recordClass())
                .isEqualTo(PaymentResult.class);
    }

    @Test
    void wrongMagicIsNotSingleObject() {
        byte[] bytes = SingleObjectCodec.encode(request());
        bytes[0] = '{';

        assertReason(() -> CODEC.decode(bytes), Reason.NOT_SINGLE_OBJECT, "0x7B 0x01");
    }

    @Test
    void shorterThanTheHeaderOrNullIsNotSingleObject() {
        byte[] headerOnlyPart = Arrays.copyOf(SingleObjectCodec.encode(request()), 9);

        assertReason(() -> CODEC.decode(headerOnlyPart), Reason.NOT_SINGLE_OBJECT, "9 bytes");
        assertReason(() -> CODEC.decode(new byte[0]), Reason.NOT_SINGLE_OBJECT, "0 bytes");
        assertReason(() -> CODEC.decode(null), Reason.NOT_SINGLE_OBJECT, "tombstone");
    }

    @Test
    void unknownFingerprintIsUnknownSchema() {
        byte[] bytes = SingleObjectCodec.encode(request());
        bytes[5] ^= 0x55;

        assertReason(() -> CODEC.decode(bytes), Reason.UNKNOWN_SCHEMA, "not one of the known");
    }

    @Test
    void registeredTypeOtherThanTheExpectedOneIsUnknownSchema() {
        byte[] bytes = SingleObjectCodec.encode(request());

        assertReason(
                () -> CODEC.decode(bytes, PaymentResult.class),
                Reason.UNKNOWN_SCHEMA,
                "that of payment-request, not PaymentResult");
    }

    @Test
    void typeNotRegisteredInThisCodecIsUnknownSchema() {
        SingleObjectCodec resultsOnly =
                new SingleObjectCodec(KnownSchemas.builder().add(PaymentResult.class).build());

        assertReason(
                () -> resultsOnly.decode(SingleObjectCodec.encode(request())),
                Reason.UNKNOWN_SCHEMA,
                "fingerprint");
    }

    @Test
    void truncatedBodyIsUndecodable() {
        byte[] bytes = SingleObjectCodec.encode(request());
        byte[] truncated = Arrays.copyOf(bytes, bytes.length - 3);

        RecordDecodeException e =
                assertReason(() -> CODEC.decode(truncated), Reason.UNDECODABLE, "payment-request");
        assertThat(e.getCause()).isNotNull();
    }

    @Test
    void bytesLeftAfterTheRecordAreUndecodable() {
        byte[] bytes = SingleObjectCodec.encode(request());
        byte[] padded = Arrays.copyOf(bytes, bytes.length + 2);

        assertReason(() -> CODEC.decode(padded), Reason.UNDECODABLE, "left over");
    }

    @Test
    void garbageBodyUnderAKnownHeaderIsUndecodable() {
        byte[] bytes = SingleObjectCodec.encode(request());
        // A huge negative string length where the idempotency key's length belongs.
        bytes[SingleObjectCodec.HEADER_LENGTH] = (byte) 0x81;
        Arrays.fill(bytes, SingleObjectCodec.HEADER_LENGTH + 1, bytes.length, (byte) 0xFF);

        assertReason(() -> CODEC.decode(bytes), Reason.UNDECODABLE, "payment-request");
    }

    @Test
    void recordsWrittenWithARegisteredOlderSchemaAreReadIntoTheCurrentClass() throws Exception {
        Schema older = withoutUserAgent(PaymentRequest.getClassSchema());
        GenericRecord metadata =
                new GenericRecordBuilder(older.getField("metadata").schema())
                        .set("ip", "10.0.0.1")
                        .build();
        GenericRecord written =
                new GenericRecordBuilder(older)
                        .set("idempotencyKey", "k-1")
                        .set("customerId", "c-1")
                        .set("merchantId", "m-1")
                        .set("amountMinor", 1250L)
                        .set("currency", "EUR")
                        .set("requestedAt", AT.toEpochMilli())
                        .set("metadata", metadata)
                        .build();
        ByteBuffer buffer =
                new BinaryMessageEncoder<GenericRecord>(GenericData.get(), older).encode(written);
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        SingleObjectCodec evolved =
                new SingleObjectCodec(
                        KnownSchemas.topicRecords().toBuilder()
                                .addWriterSchema(PaymentRequest.class, older)
                                .build());

        assertReason(() -> CODEC.decode(bytes), Reason.UNKNOWN_SCHEMA, "fingerprint");
        PaymentRequest read = evolved.decode(bytes, PaymentRequest.class);
        assertThat(read.getMetadata()).isEqualTo(new RequestMetadata("10.0.0.1", null));
        assertThat(read.getRequestedAt()).isEqualTo(AT);
    }

    @Test
    void olderSchemaTheCurrentClassCannotReadIsRefusedAtRegistration() {
        Schema unrelated =
                new Schema.Parser()
                        .parse(
                                "{\"type\":\"record\",\"name\":\"PaymentRequest\",\"namespace\":"
                                        + "\"io.onceflow.payments.model\",\"fields\":["
                                        + "{\"name\":\"idempotencyKey\",\"type\":\"int\"}]}");

        assertThatThrownBy(
                        () ->
                                KnownSchemas.topicRecords().toBuilder()
                                        .addWriterSchema(PaymentRequest.class, unrelated))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot read");
    }

    @Test
    void twoTypesWithTheSameNameAreRefused() {
        assertThatThrownBy(
                        () ->
                                KnownSchemas.topicRecords().toBuilder()
                                        .add("payment-request", PaymentCompleted.class)
                                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("payment-request");
    }

    @Test
    void survivesJavaSerialization() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(CODEC);
        }
        SingleObjectCodec copy;
        try (ObjectInputStream in =
                new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            copy = (SingleObjectCodec) in.readObject();
        }

        assertThat(copy.decode(SingleObjectCodec.encode(request()))).isEqualTo(request());
    }

    @Test
    void reasonCodesAreTheDeadLetterReasons() {
        assertThat(Arrays.stream(Reason.values()).map(Reason::code))
                .containsExactly("not_single_object", "unknown_schema", "undecodable");
    }

    private static RecordDecodeException assertReason(
            Supplier<?> decoding, Reason reason, String messagePart) {
        try {
            decoding.get();
        } catch (RecordDecodeException e) {
            assertThat(e.reason()).isEqualTo(reason);
            assertThat(e.getMessage()).contains(messagePart);
            return e;
        }
        throw new AssertionError("decoded without an error, expected " + reason);
    }

    /** PaymentRequest as it would have been before metadata.userAgent was added. */
    private static Schema withoutUserAgent(Schema current) {
        String json =
                current.toString()
                        .replace(
                                ",{\"name\":\"userAgent\",\"type\":[\"null\",{\"type\":\"string\","
                                        + "\"avro.java.string\":\"String\"}],\"default\":null}",
                                "");
        assertThat(json).isNotEqualTo(current.toString());
        return new Schema.Parser().parse(json);
    }
}
