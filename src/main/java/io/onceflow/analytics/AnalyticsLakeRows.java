package io.onceflow.analytics;

import io.onceflow.analytics.model.AnalyticsRecord;
import io.onceflow.analytics.model.Enrichment;
import io.onceflow.lake.AnalyticsEvent;

import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.metrics.Counter;
import org.apache.flink.table.data.RowData;
import org.apache.iceberg.Schema;
import org.apache.iceberg.avro.AvroSchemaUtil;

/**
 * Each event as a row of the lake's {@code analytics.events} (as the table is when the job is
 * built), with its typed properties in its type's column, its enrichment and its late flag.
 * Counts the events that leave the job with an enrichment missing ({@code enrichmentMissing}),
 * once each, whatever retries happened before.
 */
public final class AnalyticsLakeRows extends RichMapFunction<AnalyticsRecord, RowData> {

    private static final long serialVersionUID = 1L;

    private final Schema tableSchema;
    private final AnalyticsEvent.Rows rows;
    private transient Counter enrichmentMissing;

    public AnalyticsLakeRows(Schema tableSchema) {
        this.tableSchema = tableSchema;
        this.rows = AnalyticsEvent.rows(tableSchema);
    }

    @Override
    public void open(OpenContext openContext) {
        enrichmentMissing = getRuntimeContext().getMetricGroup().counter("enrichmentMissing");
        // Iceberg initializes its Avro conversion classes lazily, when a writer closes its first
        // file. If that happens while the task is being cancelled (any failover), the interrupt
        // fails the static initializer and the class stays unusable for the class loader's life:
        // every later attempt fails with NoClassDefFoundError (seen in the exactly-once test).
        // Initializing them here, while nothing is cancelled, avoids that.
        AvroSchemaUtil.convert(tableSchema, "warm_up");
    }

    @Override
    public RowData map(AnalyticsRecord record) {
        if (!record.getEnrichment().getMissing().isEmpty()) {
            enrichmentMissing.inc();
        }
        return rows.toRow(event(record));
    }

    static AnalyticsEvent event(AnalyticsRecord record) {
        SpecificRecord event = EventTypes.event(record);
        Enrichment enrichment = record.getEnrichment();
        return AnalyticsEvent.builder(
                        EventTypes.eventId(event), EventTypes.type(event), EventTypes.occurredAt(event),
                        record.getReceivedAt())
                .userId(EventTypes.userId(event))
                .anonymousId(EventTypes.anonymousId(event))
                .sessionId(EventTypes.sessionId(event))
                .context(EventTypes.context(event))
                .properties(EventTypes.properties(event))
                .country(enrichment.getCountry())
                .plan(enrichment.getPlan())
                .signupCohort(enrichment.getSignupCohort())
                .deviceClass(enrichment.getDeviceClass())
                .enrichmentMissing(enrichment.getMissing())
                .late(record.getLate())
                .build();
    }
}
