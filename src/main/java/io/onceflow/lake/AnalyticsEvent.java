package io.onceflow.lake;

import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericMapData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Types;

import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * One row of {@code analytics.events}, for the analytics job to fill from its Avro records
 * without knowing Iceberg or Flink's row format:
 *
 * <pre>{@code
 * AnalyticsEvent.Rows rows = AnalyticsEvent.rows(catalog.table(LakeTables.ANALYTICS_EVENTS).schema());
 * DataStream<RowData> out = enriched.map(e -> rows.toRow(
 *         AnalyticsEvent.builder(e.getEventId(), e.getType(), e.getOccurredAt(), e.getReceivedAt())
 *                 .userId(e.getUserId())
 *                 .anonymousId(e.getAnonymousId())
 *                 .sessionId(e.getSessionId())
 *                 .properties(e.getProperties())
 *                 .country(e.getCountry())
 *                 .plan(e.getPlan())
 *                 .signupCohort(e.getSignupCohort())
 *                 .deviceClass(e.getDeviceClass())
 *                 .enrichmentMissing(e.getEnrichmentMissing())
 *                 .build()));
 * LakeSinks.append(out, catalog, LakeTables.ANALYTICS_EVENTS, "analytics-lake-events");
 * }</pre>
 *
 * ({@code rows} is serializable, so the lambda can capture it.)
 *
 * @param eventId unique per event: the dedup key
 * @param type the event type; a partition column, so keep the set of types small
 * @param enrichmentMissing names of the enrichment columns that could not be filled
 */
public record AnalyticsEvent(
        String eventId,
        String type,
        String userId,
        String anonymousId,
        String sessionId,
        Instant occurredAt,
        Instant receivedAt,
        Map<String, String> properties,
        String country,
        String plan,
        String signupCohort,
        String deviceClass,
        List<String> enrichmentMissing)
        implements Serializable {

    public AnalyticsEvent {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(occurredAt, "occurredAt");
        Objects.requireNonNull(receivedAt, "receivedAt");
        properties = properties == null ? Map.of() : properties;
        enrichmentMissing = enrichmentMissing == null ? List.of() : enrichmentMissing;
    }

    /** Starts an event with its required columns. */
    public static Builder builder(String eventId, String type, Instant occurredAt, Instant receivedAt) {
        return new Builder(eventId, type, occurredAt, receivedAt);
    }

    /** A converter to rows of a table with {@code tableSchema} (columns matched by name). */
    public static Rows rows(Schema tableSchema) {
        return new Rows(tableSchema);
    }

    /** Builds an {@link AnalyticsEvent}; every optional column is null unless set. */
    public static final class Builder {
        private final String eventId;
        private final String type;
        private final Instant occurredAt;
        private final Instant receivedAt;
        private String userId;
        private String anonymousId;
        private String sessionId;
        private Map<String, String> properties;
        private String country;
        private String plan;
        private String signupCohort;
        private String deviceClass;
        private List<String> enrichmentMissing;

        private Builder(String eventId, String type, Instant occurredAt, Instant receivedAt) {
            this.eventId = eventId;
            this.type = type;
            this.occurredAt = occurredAt;
            this.receivedAt = receivedAt;
        }

        public Builder userId(String value) {
            this.userId = value;
            return this;
        }

        public Builder anonymousId(String value) {
            this.anonymousId = value;
            return this;
        }

        public Builder sessionId(String value) {
            this.sessionId = value;
            return this;
        }

        /** Any map; keys and values are taken as text ({@code CharSequence}s such as Avro's Utf8 work). */
        public Builder properties(Map<? extends CharSequence, ? extends CharSequence> value) {
            if (value == null) {
                this.properties = null;
            } else {
                Map<String, String> copy = new LinkedHashMap<>();
                value.forEach((k, v) -> copy.put(k.toString(), v == null ? null : v.toString()));
                this.properties = copy;
            }
            return this;
        }

        public Builder country(String value) {
            this.country = value;
            return this;
        }

        public Builder plan(String value) {
            this.plan = value;
            return this;
        }

        public Builder signupCohort(String value) {
            this.signupCohort = value;
            return this;
        }

        public Builder deviceClass(String value) {
            this.deviceClass = value;
            return this;
        }

        public Builder enrichmentMissing(List<? extends CharSequence> value) {
            this.enrichmentMissing = value == null ? null : value.stream().map(CharSequence::toString).toList();
            return this;
        }

        public AnalyticsEvent build() {
            return new AnalyticsEvent(
                    eventId, type, userId, anonymousId, sessionId, occurredAt, receivedAt,
                    properties, country, plan, signupCohort, deviceClass, enrichmentMissing);
        }
    }

    /**
     * Converts events to Flink {@link RowData} in the column order of the table as it was when
     * this was built; columns the table has and events do not (added later) are null.
     */
    public static final class Rows implements Serializable {

        private static final long serialVersionUID = 1L;

        private static final Map<String, Function<AnalyticsEvent, Object>> COLUMNS = columns();

        private final List<String> columnNames;

        private Rows(Schema tableSchema) {
            List<String> names = new ArrayList<>();
            for (Types.NestedField column : tableSchema.columns()) {
                if (!COLUMNS.containsKey(column.name()) && column.isRequired()) {
                    throw new IllegalArgumentException(
                            "Table column " + column.name() + " is required but analytics events have no such field.");
                }
                names.add(column.name());
            }
            this.columnNames = List.copyOf(names);
        }

        public RowData toRow(AnalyticsEvent event) {
            GenericRowData row = new GenericRowData(columnNames.size());
            for (int i = 0; i < columnNames.size(); i++) {
                Function<AnalyticsEvent, Object> column = COLUMNS.get(columnNames.get(i));
                row.setField(i, column == null ? null : column.apply(event));
            }
            return row;
        }

        private static Map<String, Function<AnalyticsEvent, Object>> columns() {
            Map<String, Function<AnalyticsEvent, Object>> c = new HashMap<>();
            c.put("event_id", e -> text(e.eventId()));
            c.put("type", e -> text(e.type()));
            c.put("user_id", e -> text(e.userId()));
            c.put("anonymous_id", e -> text(e.anonymousId()));
            c.put("session_id", e -> text(e.sessionId()));
            c.put("occurred_at", e -> TimestampData.fromInstant(e.occurredAt()));
            c.put("received_at", e -> TimestampData.fromInstant(e.receivedAt()));
            c.put("properties", e -> {
                Map<Object, Object> map = new HashMap<>();
                e.properties().forEach((k, v) -> map.put(text(k), text(v)));
                return new GenericMapData(map);
            });
            c.put("country", e -> text(e.country()));
            c.put("plan", e -> text(e.plan()));
            c.put("signup_cohort", e -> text(e.signupCohort()));
            c.put("device_class", e -> text(e.deviceClass()));
            c.put("enrichment_missing", e -> new GenericArrayData(
                    e.enrichmentMissing().stream().map(StringData::fromString).toArray()));
            return Map.copyOf(c);
        }

        private static StringData text(String value) {
            return value == null ? null : StringData.fromString(value);
        }
    }
}
