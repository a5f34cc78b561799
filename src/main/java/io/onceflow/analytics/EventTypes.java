package io.onceflow.analytics;

import io.onceflow.analytics.model.AnalyticsRecord;

import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The known analytics event types: the branches of {@link AnalyticsRecord}'s {@code event}
 * union, one generated class per {@code schemas/analytics/<Type>.avsc}. A type's name on the wire
 * is its record name in snake_case ({@code AddToCart} → {@code add_to_cart}); adding a type
 * means adding its schema and its branch to that union, nothing else.
 *
 * <p>Every type has the same common fields ({@code eventId}, {@code type}, {@code userId},
 * {@code anonymousId}, {@code sessionId}, {@code occurredAt}, {@code context}) and a typed
 * {@code properties} record; the accessors here read them from any type by name, so the job
 * needs no per-type code.
 */
public final class EventTypes {

    private static final Map<String, Schema> BY_NAME = byName();

    private EventTypes() {}

    private static Map<String, Schema> byName() {
        Map<String, Schema> types = new LinkedHashMap<>();
        for (Schema branch : AnalyticsRecord.getClassSchema().getField("event").schema().getTypes()) {
            types.put(wireName(branch.getName()), branch);
        }
        return Map.copyOf(types);
    }

    /** {@code AddToCart} → {@code add_to_cart}. */
    static String wireName(String recordName) {
        return recordName.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    }

    /** The schema of the type named {@code type} on the wire. */
    public static Optional<Schema> schema(String type) {
        return Optional.ofNullable(BY_NAME.get(type));
    }

    /** Type names, each with its event schema. */
    public static Map<String, Schema> schemas() {
        return BY_NAME;
    }

    /** Type names, each with the schema of its {@code properties} record. */
    public static Map<String, Schema> propertiesSchemas() {
        Map<String, Schema> properties = new LinkedHashMap<>();
        BY_NAME.forEach((name, schema) -> properties.put(name, schema.getField("properties").schema()));
        return properties;
    }

    /** The generated class of a type's schema. */
    @SuppressWarnings("unchecked")
    public static Class<? extends SpecificRecord> recordClass(Schema schema) {
        return (Class<? extends SpecificRecord>) SpecificData.get().getClass(schema);
    }

    public static String eventId(SpecificRecord event) {
        return (String) field(event, "eventId");
    }

    public static String type(SpecificRecord event) {
        return (String) field(event, "type");
    }

    public static String userId(SpecificRecord event) {
        return (String) field(event, "userId");
    }

    public static String anonymousId(SpecificRecord event) {
        return (String) field(event, "anonymousId");
    }

    public static String sessionId(SpecificRecord event) {
        return (String) field(event, "sessionId");
    }

    public static Instant occurredAt(SpecificRecord event) {
        return (Instant) field(event, "occurredAt");
    }

    /** The user an event counts for: its userId, else its anonymousId (prefixed, never equal to one). */
    public static String actor(SpecificRecord event) {
        String user = userId(event);
        return user != null ? user : "anonymous:" + anonymousId(event);
    }

    /** The {@code context} record, or null. */
    public static SpecificRecord context(SpecificRecord event) {
        return (SpecificRecord) field(event, "context");
    }

    /** The type's own {@code properties} record. */
    public static SpecificRecord properties(SpecificRecord event) {
        return (SpecificRecord) field(event, "properties");
    }

    private static Object field(SpecificRecord event, String name) {
        Schema.Field field = event.getSchema().getField(name);
        if (field == null) {
            throw new IllegalArgumentException(event.getSchema().getName() + " has no field " + name);
        }
        return event.get(field.pos());
    }

    /** The event of a record as the common view. */
    public static SpecificRecord event(AnalyticsRecord record) {
        return (SpecificRecord) record.getEvent();
    }
}
