package io.onceflow.analytics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.onceflow.analytics.model.AnalyticsRecord;
import io.onceflow.analytics.model.Enrichment;
import io.onceflow.records.ConversionException;
import io.onceflow.records.JsonAvroConverter;
import io.onceflow.records.SourceRecord;

import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Decides whether one {@code analytics.events} record is a valid event: JSON within the size
 * limit, a known {@code type}, convertible to that type's schema (required fields, types, string
 * and array limits, via {@link JsonAvroConverter}), ids within their length, a {@code userId} or
 * an {@code anonymousId}, and {@code occurredAt} neither too far in the future nor too old.
 *
 * <p>Never throws for any input: every problem is an {@link Invalid} with a machine-readable
 * reason ({@link #REASONS}) and a sentence naming the field. The JSON is parsed once.
 */
public final class EventValidator implements Serializable {

    private static final long serialVersionUID = 1L;

    public static final String UNPARSEABLE = ConversionException.Reason.UNPARSEABLE.code();
    public static final String TOO_LARGE = ConversionException.Reason.TOO_LARGE.code();
    public static final String MISSING_FIELD = ConversionException.Reason.MISSING_FIELD.code();
    public static final String BAD_TYPE = ConversionException.Reason.BAD_TYPE.code();
    public static final String BAD_VALUE = ConversionException.Reason.BAD_VALUE.code();
    public static final String UNKNOWN_TYPE = "unknown_type";
    public static final String BAD_TIMESTAMP = "bad_timestamp";

    /** Every reason an event can be rejected for; dead letters and metrics use these codes. */
    public static final List<String> REASONS =
            List.of(UNPARSEABLE, TOO_LARGE, UNKNOWN_TYPE, MISSING_FIELD, BAD_TYPE, BAD_VALUE, BAD_TIMESTAMP);

    private static final List<String> ID_FIELDS = List.of("eventId", "userId", "anonymousId", "sessionId");

    /** What validation says about one record. */
    public sealed interface Outcome permits Valid, Invalid {}

    /** A valid event, ready for the pipeline (no enrichment yet, not late). */
    public record Valid(AnalyticsRecord record) implements Outcome {}

    /**
     * @param reason one of {@link #REASONS}
     * @param error for people: what is wrong and where ({@code properties.items[2].quantity ...})
     */
    public record Invalid(String reason, String error) implements Outcome {}

    private final AnalyticsConfig.Validation settings;
    private final JsonAvroConverter converter;

    public EventValidator(AnalyticsConfig.Validation settings) {
        this.settings = settings;
        this.converter =
                JsonAvroConverter.builder()
                        .maxJsonBytes(settings.maxEventBytes())
                        .maxStringLength(settings.maxStringLength())
                        .maxArrayLength(settings.maxArrayLength())
                        .build();
    }

    /** Validates {@code record} as read at {@code now} (the bounds of {@code occurredAt}). */
    public Outcome validate(SourceRecord record, Instant now) {
        if (record.getValue() == null) {
            return new Invalid(UNPARSEABLE, "The record has no value.");
        }
        try {
            ObjectNode json = converter.parse(bytes(record.getValue()));
            JsonNode typeNode = json.get("type");
            if (typeNode == null || typeNode.isNull()) {
                return new Invalid(MISSING_FIELD, "type is required but missing");
            }
            if (!typeNode.isTextual()) {
                return new Invalid(BAD_TYPE, "type must be a string, not " + typeNode.getNodeType().name().toLowerCase());
            }
            String type = typeNode.textValue();
            Schema schema = EventTypes.schema(type).orElse(null);
            if (schema == null) {
                return new Invalid(
                        UNKNOWN_TYPE,
                        "type " + quote(type) + " has no schema; known: " + String.join(", ", EventTypes.schemas().keySet()));
            }
            SpecificRecord event = converter.toSpecific(json, EventTypes.recordClass(schema));
            Invalid invalid = checkBounds(event, now);
            if (invalid != null) {
                return invalid;
            }
            return new Valid(
                    AnalyticsRecord.newBuilder()
                            .setEvent(event)
                            .setSource(record.getSource())
                            .setReceivedAt(record.getTimestamp())
                            .setEnrichment(Enrichment.newBuilder().setMissing(new ArrayList<>()).build())
                            .setLate(false)
                            .build());
        } catch (ConversionException e) {
            return new Invalid(e.reason().code(), e.getMessage());
        } catch (RuntimeException e) {
            // A bug or an input no rule foresaw must still become a dead letter, not a restart loop.
            return new Invalid(UNPARSEABLE, "The event could not be read: " + e);
        }
    }

    private Invalid checkBounds(SpecificRecord event, Instant now) {
        for (String idField : ID_FIELDS) {
            Object value = event.get(event.getSchema().getField(idField).pos());
            if (value != null && value.toString().length() > settings.maxIdLength()) {
                return new Invalid(
                        TOO_LARGE,
                        idField + " is " + value.toString().length() + " characters long, more than "
                                + settings.maxIdLength());
            }
        }
        if (EventTypes.eventId(event).isBlank()) {
            return new Invalid(BAD_VALUE, "eventId must not be blank");
        }
        if (EventTypes.userId(event) == null && EventTypes.anonymousId(event) == null) {
            return new Invalid(MISSING_FIELD, "userId is required when anonymousId is missing");
        }
        Instant occurredAt = EventTypes.occurredAt(event);
        if (occurredAt.isAfter(now.plus(settings.maxClockSkew()))) {
            return new Invalid(
                    BAD_TIMESTAMP,
                    "occurredAt " + occurredAt + " is more than " + settings.maxClockSkew() + " in the future");
        }
        if (occurredAt.isBefore(now.minus(settings.maxEventAge()))) {
            return new Invalid(
                    BAD_TIMESTAMP,
                    "occurredAt " + occurredAt + " is more than " + settings.maxEventAge() + " old");
        }
        return null;
    }

    private static String quote(String text) {
        return "'" + (text.length() > 64 ? text.substring(0, 64) + "..." : text) + "'";
    }

    private static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer copy = buffer.duplicate();
        byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        return bytes;
    }
}
