package io.onceflow.lake;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotSummary;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.actions.RewriteDataFilesActionResult;
import org.apache.iceberg.flink.actions.Actions;
import org.apache.iceberg.util.PropertyUtil;

import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Maintenance of a lake table, as plain calls for the CLI or a scheduled job.
 *
 * <pre>{@code
 * Table table = lake.table(LakeTables.PAYMENT_RESULTS);
 * LakeMaintenance.Compaction c = LakeMaintenance.compact(table, lake.settings().targetFileSize());
 * LakeMaintenance.ManifestRewrite m = LakeMaintenance.rewriteManifests(table);
 * LakeMaintenance.Expiry e = LakeMaintenance.expireSnapshots(
 *         table, Instant.now().minus(lake.settings().snapshotMaxAge()), lake.settings().snapshotsToKeep());
 * }</pre>
 *
 * All three commit a new table version with Iceberg's optimistic concurrency, so they can run
 * while a Flink job appends to the table: a compaction replaces only the files it read
 * (validated against the snapshot it started from), a manifest rewrite only the manifests it
 * read, and the sink's appends, which only add, conflict with neither; when a commit loses the
 * race it is retried ({@code commit.retry.num-retries}).
 */
public final class LakeMaintenance {

    /** The snapshot summary key by which Iceberg's Flink committer finds its last commit. */
    static final String FLINK_CHECKPOINT_KEY = "flink.max-committed-checkpoint-id";

    /** Marks the snapshots of {@link #rewriteManifests}, whose summary then tells what it did. */
    static final String MANIFEST_REWRITE_KEY = "onceflow.manifest-rewrite";

    private LakeMaintenance() {}

    /** What a compaction did. */
    public record Compaction(int filesRewritten, int filesAdded) {}

    /** What a manifest rewrite did. */
    public record ManifestRewrite(int manifestsRewritten, int manifestsAdded) {}

    /** What an expiry did. */
    public record Expiry(int snapshotsBefore, int snapshotsExpired, Instant effectiveCutoff) {}

    /**
     * Rewrites the small data files of each partition into files of about {@code
     * targetFileSize}, with Iceberg's Flink {@code RewriteDataFilesAction} run as a batch job in
     * a local Flink environment (or the one a test or job provides). The rewrite reads the rows
     * of the files it replaces and writes them again; the commit swaps exactly those files for
     * the new ones, so no row is lost or doubled, and a reader sees either set, never both.
     * Partitions with a single file are left alone.
     */
    public static Compaction compact(Table table, long targetFileSize) {
        return compact(StreamExecutionEnvironment.getExecutionEnvironment(Actions.CONFIG), table, targetFileSize);
    }

    /** {@link #compact(Table, long)} on {@code env}. */
    public static Compaction compact(StreamExecutionEnvironment env, Table table, long targetFileSize) {
        if (targetFileSize < 1) {
            throw new IllegalArgumentException("A compaction's target file size must be positive.");
        }
        table.refresh();
        RewriteDataFilesActionResult result =
                Actions.forTable(env, table)
                        .rewriteDataFiles()
                        .targetSizeInBytes(targetFileSize)
                        // Pack by bytes alone: the default counts every file as at least 4 MB
                        // (the cost of opening it for a read), which for a compaction of many
                        // small files would keep 32 times as many files as needed.
                        .splitOpenFileCost(1)
                        .execute();
        table.refresh();
        return new Compaction(result.deletedDataFiles().size(), result.addedDataFiles().size());
    }

    /**
     * Merges the current snapshot's small data manifests (below the table's {@code
     * commit.manifest.target-size-bytes}, 8 MB by default) into one manifest per partition of the
     * first partition field (per day for both lake tables), each split at that size. The
     * tables' own commits never merge manifests (see {@link LakeTables}), so without this a
     * table gains one manifest per checkpoint, and a reader plans over all of them. Data files
     * and rows are untouched: the rewrite lists the same files in fewer manifests, which Iceberg
     * validates before it commits. Does nothing, and commits nothing, when fewer than two
     * manifests are small or when every small one is from an earlier rewrite.
     */
    public static ManifestRewrite rewriteManifests(Table table) {
        table.refresh();
        Snapshot before = table.currentSnapshot();
        if (before == null) {
            return new ManifestRewrite(0, 0);
        }
        long targetSize = PropertyUtil.propertyAsLong(
                table.properties(),
                TableProperties.MANIFEST_TARGET_SIZE_BYTES,
                TableProperties.MANIFEST_TARGET_SIZE_BYTES_DEFAULT);
        Set<String> small = new HashSet<>();
        boolean anyNew = false;
        for (ManifestFile manifest : before.dataManifests(table.io())) {
            if (manifest.length() < targetSize) {
                small.add(manifest.path());
                anyNew |= !writtenByRewrite(table, manifest);
            }
        }
        if (small.size() < 2 || !anyNew) {
            return new ManifestRewrite(0, 0);
        }
        table.rewriteManifests()
                .rewriteIf(manifest -> small.contains(manifest.path()))
                // Arrays.asList: a partition value may be null, and the key compares by value.
                .clusterBy(file -> Arrays.asList(file.specId(), firstPartitionValue(file)))
                .set(MANIFEST_REWRITE_KEY, "true")
                .commit();
        table.refresh();
        Snapshot rewrite = table.currentSnapshot();
        // Appends a job committed after the rewrite lie between it and the current snapshot.
        while (!rewrite.summary().containsKey(MANIFEST_REWRITE_KEY)) {
            rewrite = table.snapshot(rewrite.parentId());
        }
        return new ManifestRewrite(
                Integer.parseInt(rewrite.summary().get(SnapshotSummary.REPLACED_MANIFESTS_COUNT)),
                Integer.parseInt(rewrite.summary().get(SnapshotSummary.CREATED_MANIFESTS_COUNT)));
    }

    /** Whether an earlier rewrite wrote {@code manifest}; unknown (false) once its snapshot expired. */
    private static boolean writtenByRewrite(Table table, ManifestFile manifest) {
        Snapshot added = manifest.snapshotId() == null ? null : table.snapshot(manifest.snapshotId());
        return added != null && added.summary() != null && added.summary().containsKey(MANIFEST_REWRITE_KEY);
    }

    private static Object firstPartitionValue(DataFile file) {
        return file.partition().size() == 0 ? null : file.partition().get(0, Object.class);
    }

    /**
     * Expires the snapshots older than {@code olderThan} except the last {@code retainLast}, and
     * deletes the files only they referenced (time travel to them ends). As everywhere in Iceberg,
     * a data file is deleted when the snapshot that removed it expires: the small files a
     * compaction replaced stay on storage until the compaction's own snapshot has expired.
     *
     * <p>Never expires the newest snapshot committed by a Flink job nor any snapshot after it:
     * Iceberg's Flink committer walks back to that snapshot on a restore to learn which
     * checkpoint it committed last, and without it would commit a restored checkpoint twice (see
     * {@link LakeSinks}). The cutoff moves back to that snapshot when needed; {@link
     * Expiry#effectiveCutoff()} tells which cutoff was used.
     *
     * @param retainLast at least 1
     */
    public static Expiry expireSnapshots(Table table, Instant olderThan, int retainLast) {
        if (retainLast < 1) {
            throw new IllegalArgumentException("An expiry must retain at least the current snapshot.");
        }
        table.refresh();
        int before = count(table.snapshots());
        long cutoff = olderThan.toEpochMilli();
        Snapshot flinkCommit = newestFlinkCommit(table);
        if (flinkCommit != null && flinkCommit.timestampMillis() < cutoff) {
            cutoff = flinkCommit.timestampMillis();
        }
        table.expireSnapshots()
                .expireOlderThan(cutoff)
                .retainLast(retainLast)
                .cleanExpiredFiles(true)
                .commit();
        table.refresh();
        return new Expiry(before, before - count(table.snapshots()), Instant.ofEpochMilli(cutoff));
    }

    /** The newest snapshot in the current snapshot's history that a Flink sink committed. */
    static Snapshot newestFlinkCommit(Table table) {
        Snapshot snapshot = table.currentSnapshot();
        while (snapshot != null) {
            Map<String, String> summary = snapshot.summary();
            if (summary != null && summary.containsKey(FLINK_CHECKPOINT_KEY)) {
                return snapshot;
            }
            Long parent = snapshot.parentId();
            snapshot = parent == null ? null : table.snapshot(parent);
        }
        return null;
    }

    private static int count(Iterable<?> items) {
        int n = 0;
        for (Object ignored : items) {
            n++;
        }
        return n;
    }
}
