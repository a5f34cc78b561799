package io.onceflow.lake;

import io.onceflow.analytics.EventTypes;
import io.onceflow.analytics.events.EventContext;
import io.onceflow.payments.model.PaymentResult;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.apache.iceberg.types.Types.NestedField.optional;
import static org.apache.iceberg.types.Types.NestedField.required;

/**
 * The lake's tables.
 *
 * <h2>{@code payments.results}</h2>
 *
 * One row per {@link PaymentResult}, its columns derived from the Avro schema by {@link
 * AvroColumns}: {@code source} is flattened into {@code source_topic}, {@code source_partition}
 * and {@code source_offset} (the dedup key, and what reconciliation joins on, so top-level and
 * required); {@code status} is a string; {@code original} stays a nullable struct, since it is
 * one optional thing that only DUPLICATE results carry: Parquet still stores each of its fields
 * as a column of its own, a field added to {@code OriginalResult} lands inside it, and queries
 * read {@code original.status}. Partitioned by {@code day(processed_at)}; distribution {@code
 * none}, since results arrive in processing-time order and nearly all rows of a checkpoint fall
 * into the current day: hashing by partition would send everything to one writer.
 *
 * <p>The dedup key is recorded in the table property {@value #DEDUP_KEY_PROPERTY}, not as
 * Iceberg identifier fields: with identifier fields the Flink sink treats the table as keyed
 * and writes equality-delete files, which the results, an append-only stream written exactly
 * once, do not need, and which would hide a duplicate instead of exposing it.
 *
 * <h2>{@code analytics.events}</h2>
 *
 * See {@link AnalyticsEvent} for the columns: the common fields of every event type, the shared
 * {@code context} struct, the enrichment columns, {@code late}, and one optional struct column
 * per event type ({@code page_view}, {@code purchase}, ...) holding that type's typed properties,
 * derived from its Avro schema like {@code payments.results}: a query reads {@code
 * purchase.revenue_minor} with its type, and a field added to a type's {@code .avsc} becomes a
 * field of its column. (An earlier version had a {@code properties map<string,string>} column;
 * tables created then keep it, null in new rows, since columns are never dropped.) Partitioned by
 * {@code day(occurred_at)} and {@code type}; distribution {@code hash} on those, so each writer
 * holds open files for a share of the (day, type) partitions instead of every writer one file
 * for each: fewer, larger files. The price is skew when one type dominates a day: that
 * partition's rows go through one writer.
 *
 * <p>Both tables: Parquet (zstd), format version 2, {@code write.target-file-size-bytes} and the
 * commit and snapshot-retention properties from {@link LakeSettings}, and old {@code
 * metadata.json} files deleted after commits (a streaming job commits on every checkpoint).
 *
 * <p>Commits never merge manifests ({@code commit.manifest-merge.enabled=false}): by Iceberg's
 * default every 100th append merges the table's small manifests into one, and a streaming job
 * appends on every checkpoint on its committer's task thread, so that merge (0.5 to 3 s for 99
 * manifests in the benchmark) delays the next checkpoint and every Kafka and PostgreSQL commit
 * waiting for it. Each append adds one small manifest instead, and {@link
 * LakeMaintenance#rewriteManifests} merges them off the jobs' path ({@code onceflow lake
 * maintain}, scheduled by {@code deploy/k8s/lake-maintenance-cronjob.yaml}). Unmaintained, the
 * manifest list grows by one entry per checkpoint and so does the cost of planning a read.
 */
public final class LakeTables {

    public static final TableIdentifier PAYMENT_RESULTS = TableIdentifier.of("payments", "results");
    public static final TableIdentifier ANALYTICS_EVENTS = TableIdentifier.of("analytics", "events");

    /** Table property naming the columns that identify a row once. */
    public static final String DEDUP_KEY_PROPERTY = "onceflow.dedup-key";

    /** The {@code PaymentResult} record fields flattened into top-level columns. */
    public static final Set<String> PAYMENT_RESULT_FLATTENED = Set.of("source");

    private LakeTables() {}

    /** {@code payments.results} with the columns of the current {@link PaymentResult}. */
    public static LakeTable paymentResults(LakeSettings settings) {
        return paymentResults(settings, PaymentResult.getClassSchema());
    }

    /** {@code payments.results} with the columns of {@code paymentResultSchema}. */
    public static LakeTable paymentResults(LakeSettings settings, org.apache.avro.Schema paymentResultSchema) {
        Map<String, String> properties = common(settings);
        properties.put(TableProperties.WRITE_DISTRIBUTION_MODE, TableProperties.WRITE_DISTRIBUTION_MODE_NONE);
        properties.put(DEDUP_KEY_PROPERTY, "source_topic,source_partition,source_offset");
        return new LakeTable(
                PAYMENT_RESULTS,
                AvroColumns.schema(paymentResultSchema, PAYMENT_RESULT_FLATTENED),
                schema -> PartitionSpec.builderFor(schema).day("processed_at").build(),
                properties);
    }

    /** Converts {@code PaymentResult}s to rows of {@code payments.results} as it is now. */
    public static AvroRowMapper<PaymentResult> paymentResultRows(Schema tableSchema) {
        return AvroRowMapper.of(tableSchema, PaymentResult.getClassSchema(), PAYMENT_RESULT_FLATTENED);
    }

    /** {@code analytics.events} with the properties of the analytics job's current event schemas. */
    public static LakeTable analyticsEvents(LakeSettings settings) {
        return analyticsEvents(
                settings, EventTypes.propertiesSchemas(), EventContext.getClassSchema());
    }

    /**
     * {@code analytics.events} with one optional struct column per event type, named by the type
     * and derived from its Avro properties record by {@link AvroColumns}, so a field added to a
     * type's {@code .avsc} becomes a field of its column at the next {@link
     * LakeCatalog#ensureTable}.
     *
     * @param propertiesByType event type ({@code purchase}) → the schema of its properties record
     * @param contextSchema the schema of the context record all types share
     */
    public static LakeTable analyticsEvents(
            LakeSettings settings,
            Map<String, org.apache.avro.Schema> propertiesByType,
            org.apache.avro.Schema contextSchema) {
        Map<String, String> properties = common(settings);
        properties.put(TableProperties.WRITE_DISTRIBUTION_MODE, TableProperties.WRITE_DISTRIBUTION_MODE_HASH);
        properties.put(DEDUP_KEY_PROPERTY, "event_id");
        AtomicInteger ids = new AtomicInteger();
        List<Types.NestedField> columns = new ArrayList<>(List.of(
                required(ids.incrementAndGet(), "event_id", Types.StringType.get(), "Unique per event; the dedup key."),
                required(ids.incrementAndGet(), "type", Types.StringType.get(),
                        "page_view, purchase, ...: also the name of the column with the event's properties."),
                optional(ids.incrementAndGet(), "user_id", Types.StringType.get()),
                optional(ids.incrementAndGet(), "anonymous_id", Types.StringType.get()),
                optional(ids.incrementAndGet(), "session_id", Types.StringType.get()),
                required(ids.incrementAndGet(), "occurred_at", Types.TimestampType.withZone(),
                        "When it happened, on the device (event time)."),
                required(ids.incrementAndGet(), "received_at", Types.TimestampType.withZone(),
                        "When the collector received it."),
                optional(ids.incrementAndGet(), "context", struct(contextSchema, ids), "User agent, ip, locale."),
                optional(ids.incrementAndGet(), "country", Types.StringType.get(), "Enrichment: ISO 3166 country."),
                optional(ids.incrementAndGet(), "plan", Types.StringType.get(), "Enrichment: the user's plan."),
                optional(ids.incrementAndGet(), "signup_cohort", Types.StringType.get(),
                        "Enrichment: ISO week of signup, e.g. 2025-W14."),
                optional(ids.incrementAndGet(), "device_class", Types.StringType.get(),
                        "Enrichment: desktop, mobile, tablet, bot, other."),
                optional(ids.incrementAndGet(), "enrichment_missing",
                        Types.ListType.ofRequired(ids.incrementAndGet(), Types.StringType.get()),
                        "Enrichers that failed or timed out for this event, by name."),
                optional(ids.incrementAndGet(), "late", Types.BooleanType.get(),
                        "Came after its window's allowed lateness: not in analytics_minute.")));
        propertiesByType.forEach((type, schema) -> columns.add(
                optional(ids.incrementAndGet(), type, struct(schema, ids), "Properties of " + type + " events.")));
        return new LakeTable(
                ANALYTICS_EVENTS,
                new Schema(columns),
                s -> PartitionSpec.builderFor(s).day("occurred_at").identity("type").build(),
                properties);
    }

    /** The struct of an Avro record's columns, with field ids continuing from {@code ids}. */
    private static Types.StructType struct(org.apache.avro.Schema record, AtomicInteger ids) {
        Types.StructType struct = AvroColumns.schema(AvroColumns.nonNull(record), Set.of()).asStruct();
        return TypeUtil.assignFreshIds(struct, ids::incrementAndGet).asStructType();
    }

    private static Map<String, String> common(LakeSettings settings) {
        Map<String, String> properties = new HashMap<>();
        properties.put(TableProperties.FORMAT_VERSION, "2");
        properties.put(TableProperties.DEFAULT_FILE_FORMAT, "parquet");
        properties.put(TableProperties.PARQUET_COMPRESSION, "zstd");
        properties.put(TableProperties.WRITE_TARGET_FILE_SIZE_BYTES, Long.toString(settings.targetFileSize()));
        properties.put(TableProperties.COMMIT_NUM_RETRIES, Integer.toString(settings.commitRetries()));
        properties.put(TableProperties.COMMIT_MAX_RETRY_WAIT_MS, Long.toString(settings.commitRetryMaxWait().toMillis()));
        properties.put(TableProperties.MAX_SNAPSHOT_AGE_MS, Long.toString(settings.snapshotMaxAge().toMillis()));
        properties.put(TableProperties.MIN_SNAPSHOTS_TO_KEEP, Integer.toString(settings.snapshotsToKeep()));
        properties.put(TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED, "true");
        properties.put(TableProperties.METADATA_PREVIOUS_VERSIONS_MAX, "100");
        properties.put(TableProperties.MANIFEST_MERGE_ENABLED, "false");
        return properties;
    }
}
