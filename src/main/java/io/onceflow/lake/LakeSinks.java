package io.onceflow.lake;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSink;
import org.apache.flink.table.data.RowData;
import org.apache.iceberg.DistributionMode;
import org.apache.iceberg.PartitionField;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.FlinkSchemaUtil;
import org.apache.iceberg.flink.TableLoader;
import org.apache.iceberg.flink.sink.IcebergSink;
import org.apache.iceberg.flink.util.FlinkCompatibilityUtil;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The exactly-once Iceberg sink of the lake: Iceberg's Sink-v2 {@link IcebergSink}.
 *
 * <pre>{@code
 * Table table = lake.ensureTable(LakeTables.paymentResults(settings));
 * DataStream<RowData> rows = results.map(LakeTables.paymentResultRows(table.schema()))
 *         .returns(LakeSinks.rowType(table.schema()));
 * LakeSinks.append(rows, lake, LakeTables.PAYMENT_RESULTS, "payments-lake-results");
 * }</pre>
 *
 * <p><b>Why IcebergSink.</b> It is the Sink-v2 implementation that Iceberg builds for Flink 2.x
 * (the older {@code FlinkSink} builds its writer and committer from raw stream operators); it
 * runs on Flink 2.1 and takes a uid suffix from which every operator it adds gets a fixed uid
 * ({@code Sink Writer: <uid>}, {@code Sink Committer: <uid>}, {@code Sink pre-commit
 * aggregator: <uid>}). Iceberg marks it {@code @Experimental}; the exactly-once test of this
 * package ({@code LakeSinkExactlyOnceITCase}) is what this project relies on.
 *
 * <p><b>The guarantee.</b> Writers roll Parquet files continuously; at each checkpoint barrier
 * they close their files and send their list downstream, where one aggregator writes them into a
 * manifest that is part of that checkpoint's state. Only when the checkpoint completes does the
 * committer (subtask 0) commit one Iceberg snapshot with those files, recording the Flink job id,
 * the committer's operator id and the checkpoint id in the snapshot summary ({@code
 * flink.job-id}, {@code flink.operator-id}, {@code flink.max-committed-checkpoint-id}). Readers
 * see a checkpoint's rows all at once or not at all, and rows appear one checkpoint interval
 * late.
 *
 * <p><b>Failures.</b>
 *
 * <ul>
 *   <li>A checkpoint that fails (declined, timed out, a task failure before it completes) is
 *       never committed. Its data files and its manifest stay on storage, referenced by no
 *       snapshot: orphans, harmless to readers, removed by Iceberg's delete-orphan-files
 *       maintenance (not run here; it must only consider files older than any checkpoint
 *       interval plus restart time, or it deletes files a pending commit still needs).
 *   <li>A restore from checkpoint {@code n} re-sends the manifest of {@code n} to the committer,
 *       which commits it unless the table already has a snapshot of this job and operator with a
 *       checkpoint id of at least {@code n} (the commit happened before the failure). The rows
 *       after {@code n} are replayed by the source and written to new files.
 *   <li>That check walks back from the table's current snapshot through its parents. Expiring
 *       the sink's last snapshot, or one between it and the current snapshot, before a restore
 *       makes the check miss and the restored manifest is committed a second time: duplicates.
 *       {@link LakeMaintenance#expireSnapshots} never expires the newest snapshot of any Flink
 *       sink nor one after it, which covers a job restoring its own checkpoints however long
 *       it was down. It does expire the last snapshot of a run that another run of the job, or
 *       a replay, followed, once it is older than {@code lake.snapshot-max-age}: restoring
 *       that earlier run's checkpoint or savepoint then commits its manifest again (on top of
 *       the rows its rewound source writes again anyway).
 * </ul>
 *
 * <p><b>Never change the uid.</b> The committer's state (the manifests of checkpoints not yet
 * committed) is restored by operator uid, and the operator id in the snapshot summary is derived
 * from it. A new uid restores nothing ({@code --allowNonRestoredState} is then needed), so the
 * manifest of the last checkpoint, if its commit had not happened yet, is lost: rows are lost.
 * The uid also keys which snapshots count as already committed. Choose it once per job and
 * table, e.g. {@code payments-lake-results}.
 *
 * <p>Checkpointing must be enabled: without it a streaming job never commits. Data written
 * before a job's first completed checkpoint is invisible until then.
 */
public final class LakeSinks {

    private LakeSinks() {}

    /** Flink's type of the rows of a table with {@code schema}, for {@code .returns(...)}. */
    public static TypeInformation<RowData> rowType(Schema schema) {
        return FlinkCompatibilityUtil.toTypeInfo(FlinkSchemaUtil.convert(schema));
    }

    /**
     * Appends {@code rows} to {@code table} of {@code lake}, exactly once.
     *
     * @param rows rows in the column order of the table's current schema (see {@link
     *     AvroRowMapper}, {@link AnalyticsEvent.Rows})
     * @param uid stable for the life of the job, unique within it; see the class comment
     */
    public static DataStreamSink<RowData> append(
            DataStream<RowData> rows, LakeCatalog lake, TableIdentifier table, String uid) {
        return append(rows, lake.tableLoader(table), table.toString(), uid);
    }

    /**
     * Appends {@code rows} to the table of {@code tableLoader}, exactly once.
     *
     * <p>Rows are not redistributed by partition ({@link DistributionMode#NONE}): each writer
     * writes the partitions its own rows fall in. Iceberg's default for a partitioned table, hash
     * distribution, computes every row's partition path as a string to key a shuffle on, and
     * sends every row over the network once more: 14% of the analytics job's busiest thread in a
     * JFR profile of {@code onceflow bench}. The price is up to one file per partition per writer
     * and checkpoint, instead of per partition; compaction merges them either way.
     */
    public static DataStreamSink<RowData> append(
            DataStream<RowData> rows, TableLoader tableLoader, String tableName, String uid) {
        return builder(rows, tableLoader, tableName, uid)
                .distributionMode(DistributionMode.NONE)
                .append()
                .name("Iceberg " + tableName);
    }

    /** How a job writes its rows to the lake. */
    public enum Write {
        /** Every row is added: the live jobs, whose rows are new. */
        APPEND,
        /** Every row replaces the rows with its key: a replay rewriting a range. See {@link #replace}. */
        REPLACE
    }

    /** {@link #append} or {@link #replace}, as {@code write} says. */
    public static DataStreamSink<RowData> write(
            DataStream<RowData> rows, LakeCatalog lake, TableIdentifier table, String uid, Write write) {
        return write == Write.APPEND ? append(rows, lake, table, uid) : replace(rows, lake, table, uid);
    }

    /**
     * Writes {@code rows} to {@code table} of {@code lake} so that each replaces every row already
     * there with the same key: its dedup key ({@value LakeTables#DEDUP_KEY_PROPERTY}) plus the
     * source columns of the table's partitioning. Iceberg's upsert mode: with each checkpoint's
     * data files the committer commits equality-delete files for their keys, in the same snapshot,
     * so a reader sees a key's old rows or its new row, never both and never neither; a key
     * written twice by the job keeps its last row.
     *
     * <p>Pitfalls:
     *
     * <ul>
     *   <li>A row's partition columns are part of its key because equality deletes only apply
     *       within their partition: a row whose partition columns changed (say, a corrected event
     *       time on another day) does not replace its old row, which stays.
     *   <li>Readers merge the delete files on every read until compaction rewrites the data
     *       files; a replay of a large range should be followed by one.
     *   <li>The table must be format version 2 or later.
     * </ul>
     */
    public static DataStreamSink<RowData> replace(
            DataStream<RowData> rows, LakeCatalog lake, TableIdentifier tableId, String uid) {
        Table table = lake.table(tableId);
        String dedupKey = table.properties().get(LakeTables.DEDUP_KEY_PROPERTY);
        if (dedupKey == null) {
            throw new IllegalStateException(
                    "The lake table " + tableId + " has no " + LakeTables.DEDUP_KEY_PROPERTY + " property, so its rows have no key to replace by.");
        }
        Set<String> key = new LinkedHashSet<>(List.of(dedupKey.split(",")));
        for (PartitionField field : table.spec().fields()) {
            key.add(table.schema().findColumnName(field.sourceId()));
        }
        return builder(rows, lake.tableLoader(tableId), tableId.toString(), uid)
                .upsert(true)
                .equalityFieldColumns(List.copyOf(key))
                .append()
                .name("Iceberg " + tableId + " (replacing by " + String.join(", ", key) + ")");
    }

    private static IcebergSink.Builder builder(
            DataStream<RowData> rows, TableLoader tableLoader, String tableName, String uid) {
        if (uid == null || !uid.matches("[A-Za-z0-9._-]{1,100}")) {
            throw new IllegalArgumentException(
                    "An Iceberg sink uid may hold only letters, digits, '.', '_' and '-' (1 to 100), but is '"
                            + uid + "'.");
        }
        boolean streaming =
                rows.getExecutionEnvironment().getConfiguration().get(ExecutionOptions.RUNTIME_MODE)
                        != RuntimeExecutionMode.BATCH;
        if (streaming && !rows.getExecutionEnvironment().getCheckpointConfig().isCheckpointingEnabled()) {
            throw new IllegalStateException(
                    "The Iceberg sink to " + tableName
                            + " commits only when a checkpoint completes, but checkpointing is disabled.");
        }
        return IcebergSink.forRowData(rows)
                .tableLoader(tableLoader)
                .uidSuffix(uid);
    }
}
