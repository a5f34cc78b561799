package io.onceflow.lake;

import org.apache.avro.generic.IndexedRecord;
import org.apache.flink.table.data.GenericArrayData;
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
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * One row of {@code analytics.events}, for the analytics job to fill from its Avro records
 * without knowing Iceberg or Flink's row format:
 *
 * <pre>{@code
 * AnalyticsEvent.Rows rows = AnalyticsEvent.rows(catalog.table(LakeTables.ANALYTICS_EVENTS).schema());
 * DataStream<RowData> out = enriched.map(e -> rows.toRow(
 *         AnalyticsEvent.builder(eventId, type, occurredAt, receivedAt)
 *                 .userId(userId)
 *                 .anonymousId(anonymousId)
 *                 .sessionId(sessionId)
 *                 .context(contextRecord)            // EventContext, or null
 *                 .properties(propertiesRecord)      // e.g. PurchaseProperties: the column "purchase"
 *                 .country(country)
 *                 .plan(plan)
 *                 .signupCohort(signupCohort)
 *                 .deviceClass(deviceClass)
 *                 .enrichmentMissing(missing)
 *                 .late(late)
 *                 .build()));
 * LakeSinks.append(out, catalog, LakeTables.ANALYTICS_EVENTS, "analytics-lake-events");
 * }</pre>
 *
 * ({@code rows} is serializable, so the lambda can capture it.)
 *
 * <p>The typed properties land in the struct column named by the event's type, converted by
 * {@link AvroRowMapper}'s rules; the other types' columns are null. A table column the event has
 * no value for (a column added by a newer schema, the old {@code properties} map) is null.
 *
 * @param eventId unique per event: the dedup key
 * @param type the event type; a partition column, and the name of the properties column
 * @param context the shared {@code EventContext} record, or null
 * @param properties the type's own properties record
 * @param enrichmentMissing names of the enrichers that could not fill their columns
 * @param late whether the event came after its window's allowed lateness (not in the minute
 *     aggregates)
 */
public record AnalyticsEvent(
        String eventId,
        String type,
        String userId,
        String anonymousId,
        String sessionId,
        Instant occurredAt,
        Instant receivedAt,
        IndexedRecord context,
        IndexedRecord properties,
        String country,
        String plan,
        String signupCohort,
        String deviceClass,
        List<String> enrichmentMissing,
        boolean late)
        implements Serializable {

    public AnalyticsEvent {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(occurredAt, "occurredAt");
        Objects.requireNonNull(receivedAt, "receivedAt");
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
        private IndexedRecord context;
        private IndexedRecord properties;
        private String country;
        private String plan;
        private String signupCohort;
        private String deviceClass;
        private List<String> enrichmentMissing;
        private boolean late;

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

        /** The shared context record (user agent, ip, locale). */
        public Builder context(IndexedRecord value) {
            this.context = value;
            return this;
        }

        /** The type's properties record; it fills the struct column named by the event's type. */
        public Builder properties(IndexedRecord value) {
            this.properties = value;
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

        public Builder late(boolean value) {
            this.late = value;
            return this;
        }

        public AnalyticsEvent build() {
            return new AnalyticsEvent(
                    eventId, type, userId, anonymousId, sessionId, occurredAt, receivedAt, context,
                    properties, country, plan, signupCohort, deviceClass, enrichmentMissing, late);
        }
    }

    /**
     * Converts events to Flink {@link RowData} in the column order of the table as it was when
     * this was built; columns the table has and events do not (added later) are null.
     */
    public static final class Rows implements Serializable {

        private static final long serialVersionUID = 1L;

        private static final Map<String, Function<AnalyticsEvent, Object>> COLUMNS = columns();

        /** Struct columns filled from an Avro record of the event rather than a scalar. */
        private static final String CONTEXT = "context";

        private final Schema tableSchema;
        private final List<String> columnNames;
        private final Set<String> structColumns;
        private transient Map<String, AvroRowMapper<IndexedRecord>> structMappers;

        private Rows(Schema tableSchema) {
            List<String> names = new ArrayList<>();
            Set<String> structs = new java.util.HashSet<>();
            for (Types.NestedField column : tableSchema.columns()) {
                if (!COLUMNS.containsKey(column.name())) {
                    if (column.isRequired()) {
                        throw new IllegalArgumentException(
                                "Table column " + column.name() + " is required but analytics events have no such field.");
                    }
                    if (column.type().isStructType()) {
                        structs.add(column.name());
                    }
                }
                names.add(column.name());
            }
            this.tableSchema = tableSchema;
            this.columnNames = List.copyOf(names);
            this.structColumns = Set.copyOf(structs);
        }

        public RowData toRow(AnalyticsEvent event) {
            GenericRowData row = new GenericRowData(columnNames.size());
            for (int i = 0; i < columnNames.size(); i++) {
                String name = columnNames.get(i);
                Function<AnalyticsEvent, Object> column = COLUMNS.get(name);
                if (column != null) {
                    row.setField(i, column.apply(event));
                } else if (structColumns.contains(name)) {
                    IndexedRecord record =
                            name.equals(CONTEXT) ? event.context()
                                    : name.equals(event.type()) ? event.properties() : null;
                    row.setField(i, record == null ? null : struct(name, record));
                }
            }
            return row;
        }

        /** The record as a struct of the column's type, by {@link AvroRowMapper}'s naming rules. */
        private RowData struct(String column, IndexedRecord record) {
            if (structMappers == null) {
                structMappers = new HashMap<>();
            }
            return structMappers
                    .computeIfAbsent(column, c -> AvroRowMapper.of(
                            new Schema(tableSchema.findField(c).type().asStructType().fields()),
                            record.getSchema(),
                            Set.of()))
                    .map(record);
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
            c.put("country", e -> text(e.country()));
            c.put("plan", e -> text(e.plan()));
            c.put("signup_cohort", e -> text(e.signupCohort()));
            c.put("device_class", e -> text(e.deviceClass()));
            c.put("enrichment_missing", e -> new GenericArrayData(
                    e.enrichmentMissing().stream().map(StringData::fromString).toArray()));
            c.put("late", AnalyticsEvent::late);
            return Map.copyOf(c);
        }

        private static StringData text(String value) {
            return value == null ? null : StringData.fromString(value);
        }
    }
}
