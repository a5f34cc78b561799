package io.onceflow.lake;

import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotSummary;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.CloseableIterable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The size of a lake table now:
 *
 * <pre>{@code
 * System.out.print(LakeStats.of(lake.table(LakeTables.PAYMENT_RESULTS)).toText());
 * }</pre>
 *
 * Totals come from the current snapshot's summary ({@code total-records}, {@code
 * total-data-files}, {@code total-files-size}), which Iceberg keeps with every commit; the
 * partitions from the data files the current snapshot references (what the {@code files}
 * metadata table lists). {@code rows} counts the rows in data files: where a replay replaced rows
 * ({@link LakeSinks#replace}) or rows were deleted, readers also drop those matched by the
 * {@code deleteRecords} of delete files, until a compaction rewrites them away.
 *
 * @param currentSnapshotId null for a table without snapshots, as is {@code currentSnapshotAt}
 */
public record LakeStats(
        String table,
        int snapshots,
        Long currentSnapshotId,
        Instant currentSnapshotAt,
        long rows,
        long deleteRecords,
        long dataFiles,
        long bytes,
        List<Partition> partitions) {

    /** One partition: its path ({@code processed_at_day=2025-06-01}) and what it holds. */
    public record Partition(String path, long rows, long dataFiles, long bytes) {}

    public static LakeStats of(Table table) {
        table.refresh();
        int snapshots = 0;
        for (Snapshot ignored : table.snapshots()) {
            snapshots++;
        }
        Snapshot current = table.currentSnapshot();
        if (current == null) {
            return new LakeStats(table.name(), snapshots, null, null, 0, 0, 0, 0, List.of());
        }
        Map<String, String> summary = current.summary();
        Map<String, long[]> byPartition = new TreeMap<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan().useSnapshot(current.snapshotId()).planFiles()) {
            for (FileScanTask task : tasks) {
                DataFile file = task.file();
                PartitionSpec spec = table.specs().get(file.specId());
                String path = spec.isUnpartitioned() ? "(unpartitioned)" : spec.partitionToPath(file.partition());
                long[] totals = byPartition.computeIfAbsent(path, p -> new long[3]);
                totals[0] += file.recordCount();
                totals[1]++;
                totals[2] += file.fileSizeInBytes();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Partition> partitions = new ArrayList<>();
        byPartition.forEach((path, t) -> partitions.add(new Partition(path, t[0], t[1], t[2])));
        return new LakeStats(
                table.name(),
                snapshots,
                current.snapshotId(),
                Instant.ofEpochMilli(current.timestampMillis()),
                total(summary, SnapshotSummary.TOTAL_RECORDS_PROP),
                total(summary, SnapshotSummary.TOTAL_EQ_DELETES_PROP) + total(summary, SnapshotSummary.TOTAL_POS_DELETES_PROP),
                total(summary, SnapshotSummary.TOTAL_DATA_FILES_PROP),
                total(summary, SnapshotSummary.TOTAL_FILE_SIZE_PROP),
                List.copyOf(partitions));
    }

    private static long total(Map<String, String> summary, String key) {
        String value = summary == null ? null : summary.get(key);
        return value == null ? 0 : Long.parseLong(value);
    }

    /** A small table for a terminal: the totals, then one line per partition. */
    public String toText() {
        StringBuilder out = new StringBuilder();
        line(out, "table", table);
        line(out, "snapshots", Integer.toString(snapshots));
        line(out, "current snapshot", currentSnapshotId == null ? "-" : currentSnapshotId.toString());
        line(out, "committed at", currentSnapshotAt == null ? "-" : currentSnapshotAt.toString());
        line(out, "rows", Long.toString(rows));
        if (deleteRecords > 0) {
            line(out, "delete records", deleteRecords + " (rows replaced or deleted: readers drop them until a compaction)");
        }
        line(out, "data files", Long.toString(dataFiles));
        line(out, "bytes", Long.toString(bytes));
        line(out, "partitions", Integer.toString(partitions.size()));
        if (!partitions.isEmpty()) {
            int width = Math.max("partition".length(), partitions.stream().mapToInt(p -> p.path().length()).max().orElse(0));
            out.append('\n');
            out.append(String.format("%-" + width + "s %12s %8s %14s%n", "partition", "rows", "files", "bytes"));
            for (Partition p : partitions) {
                out.append(String.format("%-" + width + "s %12d %8d %14d%n", p.path(), p.rows(), p.dataFiles(), p.bytes()));
            }
        }
        return out.toString();
    }

    private static void line(StringBuilder out, String key, String value) {
        out.append(String.format("%-17s %s%n", key, value));
    }
}
