package io.onceflow.records;

import io.onceflow.records.KnownSchemas.Decoding;
import io.onceflow.records.KnownSchemas.KnownType;
import io.onceflow.records.RecordDecodeException.Reason;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Objects;

/**
 * Avro single-object encoding, the value format of every onceflow topic: {@code 0xC3 0x01}, the
 * 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema, then the binary body.
 *
 * <pre>{@code
 * byte[] value = SingleObjectCodec.encode(request);
 * SingleObjectCodec codec = SingleObjectCodec.forTopicRecords();
 * SpecificRecord any = codec.decode(value);                      // type from the fingerprint
 * PaymentRequest same = codec.decode(value, PaymentRequest.class); // or unknown_schema
 * }</pre>
 *
 * <p>Decoding failures are a {@link RecordDecodeException} whose reason ({@code
 * not_single_object}, {@code unknown_schema}, {@code undecodable}) is the dead-letter reason.
 * Thread-safe and serializable, so Flink functions can hold one.
 */
public final class SingleObjectCodec implements Serializable {

    private static final long serialVersionUID = 1L;

    public static final int HEADER_LENGTH = 10;
    private static final byte MAGIC_0 = (byte) 0xC3;
    private static final byte MAGIC_1 = (byte) 0x01;

    private static final ClassValue<BinaryMessageEncoder<SpecificRecord>> ENCODERS =
            new ClassValue<>() {
                @Override
                protected BinaryMessageEncoder<SpecificRecord> computeValue(Class<?> type) {
                    SpecificData model = SpecificData.getForClass(type);
                    return new BinaryMessageEncoder<>(model, model.getSchema(type));
                }
            };

    private final KnownSchemas knownSchemas;

    public SingleObjectCodec(KnownSchemas knownSchemas) {
        this.knownSchemas = Objects.requireNonNull(knownSchemas, "knownSchemas");
    }

    /** Decodes the types of {@link KnownSchemas#topicRecords()}. */
    public static SingleObjectCodec forTopicRecords() {
        return new SingleObjectCodec(KnownSchemas.topicRecords());
    }

    public KnownSchemas knownSchemas() {
        return knownSchemas;
    }

    /**
     * The single-object bytes of any generated record, the same bytes as its {@code
     * toByteBuffer()}; the type need not be registered to be written.
     */
    public static byte[] encode(SpecificRecord record) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        try {
            ENCODERS.get(record.getClass()).encode(record, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * The schema fingerprint in a single-object header.
     *
     * @throws RecordDecodeException {@code not_single_object} when there is no such header
     */
    public static long fingerprint(byte[] value) {
        if (value == null) {
            throw notSingleObject("The value is null (a tombstone), not a single-object record");
        }
        if (value.length < HEADER_LENGTH) {
            throw notSingleObject(
                    "The value has "
                            + value.length
                            + " bytes, fewer than the "
                            + HEADER_LENGTH
                            + " of a single-object header");
        }
        if (value[0] != MAGIC_0 || value[1] != MAGIC_1) {
            throw notSingleObject(
                    String.format(
                            "The value starts with 0x%02X 0x%02X, not the single-object marker"
                                    + " 0xC3 0x01",
                            value[0] & 0xFF,
                            value[1] & 0xFF));
        }
        long fingerprint = 0;
        for (int i = HEADER_LENGTH - 1; i >= 2; i--) {
            fingerprint = (fingerprint << 8) | (value[i] & 0xFFL);
        }
        return fingerprint;
    }

    /**
     * Decodes a value into whichever known type its fingerprint names.
     *
     * @throws RecordDecodeException with reason {@code not_single_object}, {@code
     *     unknown_schema} or {@code undecodable}
     */
    public SpecificRecord decode(byte[] value) {
        long fingerprint = fingerprint(value);
        Decoding decoding =
                knownSchemas
                        .decoding(fingerprint)
                        .orElseThrow(
                                () ->
                                        new RecordDecodeException(
                                                Reason.UNKNOWN_SCHEMA,
                                                String.format(
                                                        "Schema fingerprint %016x is not one of"
                                                                + " the known record types",
                                                        fingerprint),
                                                null));
        return read(value, decoding);
    }

    /**
     * Decodes a value that must be of {@code expected}; any other type, known or not, is {@code
     * unknown_schema} for the caller, so that is the reason given.
     */
    public <T extends SpecificRecord> T decode(byte[] value, Class<T> expected) {
        long fingerprint = fingerprint(value);
        Decoding decoding = knownSchemas.decoding(fingerprint).orElse(null);
        if (decoding == null || !decoding.type().recordClass().equals(expected)) {
            throw new RecordDecodeException(
                    Reason.UNKNOWN_SCHEMA,
                    String.format(
                            "Schema fingerprint %016x is %s, not %s",
                            fingerprint,
                            decoding == null
                                    ? "not one of the known record types"
                                    : "that of " + decoding.type().name(),
                            expected.getSimpleName()),
                    null);
        }
        return expected.cast(read(value, decoding));
    }

    private static SpecificRecord read(byte[] value, Decoding decoding) {
        KnownType<?> type = decoding.type();
        @SuppressWarnings("unchecked")
        DatumReader<SpecificRecord> reader = (DatumReader<SpecificRecord>) decoding.reader();
        BinaryDecoder decoder =
                DecoderFactory.get()
                        .binaryDecoder(value, HEADER_LENGTH, value.length - HEADER_LENGTH, null);
        SpecificRecord record;
        boolean complete;
        try {
            record = reader.read(null, decoder);
            complete = decoder.isEnd();
        } catch (IOException | RuntimeException e) {
            // Corrupt bodies surface as EOF, negative lengths, bad union or enum indexes, ...
            throw new RecordDecodeException(
                    Reason.UNDECODABLE,
                    "The body does not decode as " + type.name() + ": " + describe(e),
                    e);
        }
        if (!complete) {
            throw new RecordDecodeException(
                    Reason.UNDECODABLE,
                    "The body has bytes left over after a complete " + type.name(),
                    null);
        }
        return record;
    }

    private static String describe(Exception e) {
        String message = e.getMessage();
        return message == null || message.isBlank()
                ? e.getClass().getSimpleName()
                : e.getClass().getSimpleName() + " " + message.replaceAll("\\s+", " ");
    }

    private static RecordDecodeException notSingleObject(String message) {
        return new RecordDecodeException(Reason.NOT_SINGLE_OBJECT, message, null);
    }
}
