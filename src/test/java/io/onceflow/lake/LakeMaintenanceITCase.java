package io.onceflow.lake;

import io.onceflow.testing.TestServices;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.data.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Compaction, manifest rewrites, snapshot expiry and stats on a real table: JDBC catalog, local warehouse, Flink. */
class LakeMaintenanceITCase {

    private static final int COMMITS = 20;
    private static final int ROWS_PER_COMMIT = 15;

    /** Compaction runs as a Flink batch job; here on a MiniCluster, from the CLI on a local one. */
    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(() -> {
                Configuration cluster = new Configuration();
                cluster.set(CoreOptions.TMP_DIRS, TestServices.newDirectory("tmp").toString());
                return new MiniClusterResourceConfiguration.Builder()
                        .setNumberTaskManagers(1)
                        .setNumberSlotsPerTaskManager(2)
                        .setConfiguration(cluster)
                        .build();
            });

    @Test
    void compactionRewritesManySmallFilesIntoOnePerPartitionWithTheSameRows() {
        try (TestLake lake = TestLake.create("lake_compact")) {
            Table table = lake.catalog.ensureTable(LakeTables.paymentResults(lake.settings));
            List<DataFile> written = smallCommits(table);
            List<String> before = sortedRows(table);
            assertThat(LakeStats.of(table).dataFiles()).isEqualTo(written.size());

            LakeMaintenance.Compaction compaction = LakeMaintenance.compact(table, lake.settings.targetFileSize());

            // Three day partitions, each small enough for one file of the target size.
            assertThat(compaction.filesRewritten()).isEqualTo(written.size());
            assertThat(compaction.filesAdded()).isEqualTo(3);
            assertThat(TestLake.liveDataFiles(table)).hasSize(3);
            assertThat(sortedRows(table)).as("the same rows, none lost or doubled").isEqualTo(before);
            LakeStats stats = LakeStats.of(table);
            assertThat(stats.dataFiles()).isEqualTo(3);
            assertThat(stats.rows()).isEqualTo((long) COMMITS * ROWS_PER_COMMIT);
            assertThat(stats.snapshots()).isEqualTo(COMMITS + 1);

            // A second compaction finds nothing to do.
            assertThat(LakeMaintenance.compact(table, lake.settings.targetFileSize()))
                    .isEqualTo(new LakeMaintenance.Compaction(0, 0));
        }
    }

    @Test
    void manifestRewriteMergesTheManifestOfEachAppendIntoOnePerDayWithTheSameFiles() {
        try (TestLake lake = TestLake.create("lake_manifests")) {
            Table table = lake.catalog.ensureTable(LakeTables.paymentResults(lake.settings));
            // With merging on, Iceberg would merge the manifests at every second append.
            table.updateProperties().set(TableProperties.MANIFEST_MIN_MERGE_COUNT, "2").commit();
            smallCommits(table);
            Set<String> files = TestLake.liveDataFiles(table);
            List<String> rows = sortedRows(table);
            assertThat(table.currentSnapshot().dataManifests(table.io()))
                    .as("appends do not merge manifests: one each").hasSize(COMMITS);

            LakeMaintenance.ManifestRewrite rewrite = LakeMaintenance.rewriteManifests(table);

            // Every append wrote a file into each of the three days; now one manifest per day.
            assertThat(rewrite).isEqualTo(new LakeMaintenance.ManifestRewrite(COMMITS, 3));
            List<ManifestFile> perDay = table.currentSnapshot().dataManifests(table.io());
            assertThat(perDay).hasSize(3).allSatisfy(manifest -> {
                ManifestFile.PartitionFieldSummary day = manifest.partitions().get(0);
                assertThat(day.lowerBound()).isEqualTo(day.upperBound());
            });
            assertThat(TestLake.liveDataFiles(table)).isEqualTo(files);
            assertThat(sortedRows(table)).as("the same rows, none lost or doubled").isEqualTo(rows);
            assertThat(LakeMaintenance.rewriteManifests(table))
                    .as("nothing new since the last rewrite").isEqualTo(new LakeMaintenance.ManifestRewrite(0, 0));

            TestLake.append(table, rows(table, 1_000, 1_003));
            assertThat(LakeMaintenance.rewriteManifests(table))
                    .as("the new append's manifest merged into the days' manifests")
                    .isEqualTo(new LakeMaintenance.ManifestRewrite(4, 3));
            assertThat(LakeReader.count(table)).isEqualTo(rows.size() + 3);
        }
    }

    @Test
    void expiryKeepsTheLastSnapshotsAndDeletesOnlyFilesNoSnapshotNeeds() throws Exception {
        try (TestLake lake = TestLake.create("lake_expire")) {
            Table table = lake.catalog.ensureTable(LakeTables.paymentResults(lake.settings));
            List<DataFile> small = smallCommits(table);
            List<String> rows = sortedRows(table);
            LakeMaintenance.compact(table, lake.settings.targetFileSize());
            List<Long> newestFirst = new ArrayList<>();
            for (Snapshot s = table.currentSnapshot(); s != null; s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
                newestFirst.add(s.snapshotId());
            }

            LakeMaintenance.Expiry keepFive = LakeMaintenance.expireSnapshots(table, Instant.now().plusSeconds(60), 5);

            assertThat(keepFive.snapshotsBefore()).isEqualTo(COMMITS + 1);
            assertThat(keepFive.snapshotsExpired()).isEqualTo(COMMITS + 1 - 5);
            assertThat(table.snapshots()).extracting(Snapshot::snapshotId)
                    .containsExactlyInAnyOrderElementsOf(newestFirst.subList(0, 5));
            // The oldest append still kept sees the small files of every append before it, so
            // time travel to it needs them all.
            assertThat(small).allMatch(f -> Files.exists(path(f.location())));

            // Iceberg deletes a file when the snapshot that removed it expires: for the small
            // files that is the compaction, so it needs a successor before it can expire.
            TestLake.append(table, rows(table, 1_000, 1_003));
            LakeMaintenance.Expiry keepOne = LakeMaintenance.expireSnapshots(table, Instant.now().plusSeconds(60), 1);

            assertThat(keepOne.snapshotsExpired()).isEqualTo(5);
            assertThat(table.snapshots()).extracting(Snapshot::snapshotId)
                    .containsExactly(table.currentSnapshot().snapshotId());
            assertThat(small).as("the compacted small files are gone from storage")
                    .noneMatch(f -> Files.exists(path(f.location())));
            assertThat(LakeReader.count(table)).isEqualTo(rows.size() + 3);
            assertThat(sortedRows(table)).containsAll(rows);
        }
    }

    @Test
    void expiryNeverRemovesTheSnapshotTheFlinkCommitterRestoresFrom() {
        try (TestLake lake = TestLake.create("lake_marker")) {
            Table table = lake.catalog.ensureTable(LakeTables.paymentResults(lake.settings));
            TestLake.append(table, rows(table, 0, 5));
            // What the Iceberg sink records with each commit.
            var append = table.newAppend();
            TestLake.write(table, rows(table, 5, 6)).forEach(append::appendFile);
            append
                    .set(LakeMaintenance.FLINK_CHECKPOINT_KEY, "42")
                    .set("flink.job-id", "0123456789abcdef0123456789abcdef")
                    .set("flink.operator-id", "fedcba9876543210fedcba9876543210")
                    .commit();
            long sinkCommit = table.currentSnapshot().snapshotId();
            // Later commits by others: a compaction replaces files, nothing more of the sink.
            TestLake.append(table, rows(table, 6, 10));
            LakeMaintenance.compact(table, lake.settings.targetFileSize());

            LakeMaintenance.Expiry expiry = LakeMaintenance.expireSnapshots(table, Instant.now().plusSeconds(60), 1);

            assertThat(expiry.effectiveCutoff()).isEqualTo(Instant.ofEpochMilli(table.snapshot(sinkCommit).timestampMillis()));
            assertThat(table.snapshot(sinkCommit)).as("the sink's last commit").isNotNull();
            assertThat(LakeMaintenance.newestFlinkCommit(table).snapshotId()).isEqualTo(sinkCommit);
            assertThat(expiry.snapshotsExpired()).as("only what came before the sink's commit").isGreaterThan(0);
        }
    }

    @Test
    void statsReportWhatWasWritten() {
        try (TestLake lake = TestLake.create("lake_stats")) {
            Table table = lake.catalog.ensureTable(LakeTables.paymentResults(lake.settings));
            LakeStats empty = LakeStats.of(table);
            assertThat(empty.snapshots()).isZero();
            assertThat(empty.currentSnapshotId()).isNull();
            assertThat(empty.rows()).isZero();

            List<DataFile> written = smallCommits(table);

            LakeStats stats = LakeStats.of(table);
            assertThat(stats.table()).isEqualTo("onceflow.payments.results");
            assertThat(stats.snapshots()).isEqualTo(COMMITS);
            assertThat(stats.currentSnapshotId()).isEqualTo(table.currentSnapshot().snapshotId());
            assertThat(stats.currentSnapshotAt()).isEqualTo(Instant.ofEpochMilli(table.currentSnapshot().timestampMillis()));
            assertThat(stats.rows()).isEqualTo((long) COMMITS * ROWS_PER_COMMIT).isEqualTo(LakeReader.count(table));
            assertThat(stats.dataFiles()).isEqualTo(written.size());
            assertThat(stats.bytes()).isEqualTo(written.stream().mapToLong(DataFile::fileSizeInBytes).sum());
            assertThat(stats.partitions()).extracting(LakeStats.Partition::path).containsExactly(
                    "processed_at_day=2025-06-01", "processed_at_day=2025-06-02", "processed_at_day=2025-06-03");
            assertThat(stats.partitions()).allSatisfy(p -> {
                assertThat(p.rows()).isEqualTo(COMMITS * ROWS_PER_COMMIT / 3);
                assertThat(p.dataFiles()).isEqualTo(COMMITS);
            });
            assertThat(stats.partitions().stream().mapToLong(LakeStats.Partition::bytes).sum()).isEqualTo(stats.bytes());

            String text = stats.toText();
            assertThat(text).contains("rows              " + COMMITS * ROWS_PER_COMMIT)
                    .contains("partitions        3")
                    .contains("processed_at_day=2025-06-02");
        }
    }

    /** {@value #COMMITS} appends of {@value #ROWS_PER_COMMIT} rows, one file per day partition each. */
    private static List<DataFile> smallCommits(Table table) {
        List<DataFile> files = new ArrayList<>();
        for (int commit = 0; commit < COMMITS; commit++) {
            files.addAll(TestLake.append(table, rows(table, (long) commit * ROWS_PER_COMMIT, (long) (commit + 1) * ROWS_PER_COMMIT)));
        }
        return files;
    }

    private static List<Record> rows(Table table, long from, long to) {
        return LongStream.range(from, to).mapToObj(n -> TestLake.paymentResult(table.schema(), n)).toList();
    }

    /** Every row as text, sorted: equal lists mean the same rows, each as often. */
    private static List<String> sortedRows(Table table) {
        return LakeReader.rows(table).stream().map(Object::toString).sorted().toList();
    }

    private static Path path(String location) {
        return location.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location);
    }
}
