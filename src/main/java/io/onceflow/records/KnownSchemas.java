package io.onceflow.records;

import io.onceflow.payments.model.PaymentCompleted;
import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.payments.model.PaymentResult;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.DatumReader;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The record types that may arrive on a topic, found by the schema fingerprint in their
 * single-object header. Immutable and serializable; extend with {@link #toBuilder()}:
 *
 * <pre>{@code
 * KnownSchemas analytics = KnownSchemas.topicRecords().toBuilder().add(PageView.class).build();
 * }</pre>
 *
 * <p>Each type has a name (kebab-case of the class name, {@code payment-request}) that the CLI
 * and messages use.
 *
 * <p>Schema evolution: adding a field changes the fingerprint, so records written before the
 * change carry a fingerprint the new class no longer has. Register the old schema with {@link
 * Builder#addWriterSchema} and such records are read into the current class, new fields taking
 * their defaults, as Avro schema resolution does.
 */
public final class KnownSchemas implements Serializable {

    private static final long serialVersionUID = 1L;

    /** A record type that travels on a topic. */
    public record KnownType<T extends SpecificRecord>(
            String name, Class<T> recordClass, Schema schema, long fingerprint) {}

    /** How to read bytes written with one schema: into which type, with which reader. */
    record Decoding(KnownType<?> type, Schema writerSchema, DatumReader<?> reader) {}

    private final List<Registration> registrations;
    private final transient Map<String, KnownType<?>> typesByName;
    private final transient Map<Long, Decoding> decodingsByFingerprint;

    private KnownSchemas(List<Registration> registrations) {
        this.registrations = List.copyOf(registrations);
        Map<String, KnownType<?>> byName = new LinkedHashMap<>();
        Map<Long, Decoding> byFingerprint = new LinkedHashMap<>();
        for (Registration registration : this.registrations) {
            KnownType<?> type = registration.toType();
            KnownType<?> sameName = byName.putIfAbsent(type.name(), type);
            if (sameName != null) {
                throw new IllegalArgumentException(
                        "Two record types are both named " + type.name() + ": "
                                + sameName.recordClass().getName() + " and "
                                + type.recordClass().getName());
            }
            addDecoding(byFingerprint, type, type.schema());
            for (Schema writer : registration.olderWriterSchemas()) {
                addDecoding(byFingerprint, type, writer);
            }
        }
        this.typesByName = Collections.unmodifiableMap(byName);
        this.decodingsByFingerprint = Collections.unmodifiableMap(byFingerprint);
    }

    private static void addDecoding(
            Map<Long, Decoding> byFingerprint, KnownType<?> type, Schema writer) {
        long fingerprint = fingerprint(writer);
        SpecificData model = SpecificData.getForClass(type.recordClass());
        Decoding decoding =
                new Decoding(type, writer, new SpecificDatumReader<>(writer, type.schema(), model));
        Decoding clash = byFingerprint.putIfAbsent(fingerprint, decoding);
        if (clash != null && !clash.type().equals(type)) {
            throw new IllegalArgumentException(
                    "Schema fingerprint " + Long.toHexString(fingerprint) + " belongs to both "
                            + clash.type().name() + " and " + type.name());
        }
    }

    /**
     * The records that travel on the payment topics and dead-letter queues: {@code
     * payment-request}, {@code payment-result}, {@code payment-completed}, {@code dead-letter}.
     */
    public static KnownSchemas topicRecords() {
        return builder()
                .add(PaymentRequest.class)
                .add(PaymentResult.class)
                .add(PaymentCompleted.class)
                .add(DeadLetter.class)
                .build();
    }

    public static Builder builder() {
        return new Builder(List.of());
    }

    /** A builder holding these types, to register more. */
    public Builder toBuilder() {
        return new Builder(registrations);
    }

    /** The types, in registration order. */
    public List<KnownType<?>> types() {
        return List.copyOf(typesByName.values());
    }

    public Optional<KnownType<?>> byName(String name) {
        return Optional.ofNullable(typesByName.get(name));
    }

    @SuppressWarnings("unchecked")
    public <T extends SpecificRecord> Optional<KnownType<T>> byClass(Class<T> recordClass) {
        return typesByName.values().stream()
                .filter(type -> type.recordClass().equals(recordClass))
                .map(type -> (KnownType<T>) type)
                .findFirst();
    }

    /** The type that bytes with this fingerprint are read into, current or older schema. */
    public Optional<KnownType<?>> byFingerprint(long fingerprint) {
        return decoding(fingerprint).map(Decoding::type);
    }

    Optional<Decoding> decoding(long fingerprint) {
        return Optional.ofNullable(decodingsByFingerprint.get(fingerprint));
    }

    /** The CRC-64-AVRO fingerprint of the schema's canonical form, as in single-object headers. */
    public static long fingerprint(Schema schema) {
        return SchemaNormalization.parsingFingerprint64(schema);
    }

    /** {@code PaymentRequest} becomes {@code payment-request}. */
    static String nameOf(Class<?> recordClass) {
        return recordClass
                .getSimpleName()
                .replaceAll("([a-z0-9])([A-Z])", "$1-$2")
                .toLowerCase(Locale.ROOT);
    }

    private Object readResolve() {
        // Datum readers are not serializable; rebuild the indexes from the registrations.
        return new KnownSchemas(registrations);
    }

    private record Registration(
            String name, Class<? extends SpecificRecord> recordClass, List<Schema> olderWriterSchemas)
            implements Serializable {

        KnownType<?> toType() {
            Schema schema = SpecificData.getForClass(recordClass).getSchema(recordClass);
            return newType(recordClass, schema);
        }

        private <T extends SpecificRecord> KnownType<T> newType(Class<T> type, Schema schema) {
            return new KnownType<>(name, type, schema, fingerprint(schema));
        }
    }

    public static final class Builder {

        private final List<Registration> registrations;

        private Builder(List<Registration> registrations) {
            this.registrations = new ArrayList<>(registrations);
        }

        /** Registers a generated record class under its kebab-case name. */
        public Builder add(Class<? extends SpecificRecord> recordClass) {
            return add(nameOf(recordClass), recordClass);
        }

        public Builder add(String name, Class<? extends SpecificRecord> recordClass) {
            registrations.add(new Registration(name, recordClass, List.of()));
            return this;
        }

        /**
         * Lets records written with an older schema of a registered class be read into it.
         *
         * @throws IllegalArgumentException when the class is not registered or the current
         *     schema cannot read data written with {@code writerSchema}
         */
        public Builder addWriterSchema(
                Class<? extends SpecificRecord> recordClass, Schema writerSchema) {
            for (int i = 0; i < registrations.size(); i++) {
                Registration registration = registrations.get(i);
                if (registration.recordClass().equals(recordClass)) {
                    Schema reader =
                            SpecificData.getForClass(recordClass).getSchema(recordClass);
                    var compatibility =
                            SchemaCompatibility.checkReaderWriterCompatibility(reader, writerSchema);
                    if (compatibility.getType()
                            != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
                        throw new IllegalArgumentException(
                                recordClass.getSimpleName()
                                        + " cannot read data written with the given schema: "
                                        + compatibility.getDescription());
                    }
                    List<Schema> writers = new ArrayList<>(registration.olderWriterSchemas());
                    writers.add(writerSchema);
                    registrations.set(
                            i, new Registration(registration.name(), recordClass, writers));
                    return this;
                }
            }
            throw new IllegalArgumentException(
                    recordClass.getName() + " is not registered; add it before its older schemas");
        }

        /**
         * @throws IllegalArgumentException when two types share a name or a fingerprint
         */
        public KnownSchemas build() {
            return new KnownSchemas(registrations);
        }
    }
}
