package io.onceflow.lake;

import io.onceflow.payments.model.PaymentResult;
import io.onceflow.testing.FaultInjectingMap;
import io.onceflow.testing.Faults;
import io.onceflow.testing.TestServices;

import org.apache.avro.file.DataFileReader;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.connector.source.lib.NumberSequenceSource;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CheckpointStatsStatus;
import org.apache.flink.runtime.checkpoint.FailedCheckpointStats;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.data.RowData;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A real Flink job (MiniCluster, parallelism 2, checkpoints every 300 ms) writes N numbered
 * {@code payments.results} rows through {@link LakeSinks} into a table of a JDBC catalog on real
 * PostgreSQL and a local warehouse, while {@link FaultInjectingMap} fails it once right after a
 * completed checkpoint (the commit of that checkpoint may or may not have happened when the job
 * restarts) and once in the asynchronous phase of a checkpoint (after the writers closed that
 * checkpoint's files). Meanwhile {@link LakeMaintenance#rewriteManifests} merges the table's
 * manifests every 200 ms, as scheduled maintenance would, committing between the sink's commits
 * and its restores. Then the table must hold each of the N rows once, no Iceberg commit may
 * belong to a checkpoint that a restart abandoned, and no data file listed in the manifest of
 * such a checkpoint may be referenced by the table.
 *
 * <p>A checkpoint that failed without a restart is not abandoned. When one source subtask has
 * finished its bounded input, a checkpoint that reaches it fails ("checkpoint request for
 * unknown task") and the job runs on; the writers had already handed that checkpoint's files to
 * the committer, which keeps them in the state of the next checkpoint and commits them under
 * their own checkpoint id once that one completes (a CI run failed on asserting otherwise). So
 * "abandoned" is computed from the restarts {@link Faults#restores} recorded: failed, triggered
 * before a restart, and newer than the checkpoint that restart restored.
 *
 * <p>Each iteration ({@code onceflow.eo.iterations}, 3 by default) draws N, the rate and the
 * fault moments from its seed.
 */
class LakeSinkExactlyOnceITCase {

    private static final int PARALLELISM = 2;

    /** {@code <job>-<operator>-<subtask>-<attempt>-<checkpoint>-<n>.avro}: the sink's manifests. */
    private static final Pattern FLINK_MANIFEST =
            Pattern.compile("[0-9a-f]{32}-[0-9a-f]{32}-\\d{5}-\\d+-(\\d+)-\\d{5}\\.avro");

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(() -> {
                Configuration cluster = new Configuration();
                cluster.set(CoreOptions.TMP_DIRS, TestServices.newDirectory("tmp").toString());
                // Every checkpoint's outcome is looked up afterwards, not only the last ten.
                cluster.set(WebOptions.CHECKPOINTS_HISTORY_SIZE, 10_000);
                return new MiniClusterResourceConfiguration.Builder()
                        .setNumberTaskManagers(1)
                        .setNumberSlotsPerTaskManager(PARALLELISM)
                        .setConfiguration(cluster)
                        .build();
            });

    static Stream<Long> seeds() {
        int iterations = Integer.getInteger("onceflow.eo.iterations", 3);
        return LongStream.range(0, iterations).mapToObj(i -> 0x1A4E0000L + i);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void everyRowIsCommittedOnceAndNoAbortedFileIsReferenced(long seed, @InjectMiniCluster MiniCluster miniCluster)
            throws Exception {
        Random plan = new Random(seed);
        int rows = 1_200 + plan.nextInt(800);
        int recordsPerSecond = 200 + plan.nextInt(100);
        long afterCheckpoint = 2 + plan.nextInt(3);
        long inAsyncSnapshot = afterCheckpoint + 3 + plan.nextInt(3);
        String run = "lake-eo-" + Long.toHexString(seed) + "-" + System.nanoTime();

        try (TestLake lake = TestLake.create("lake_eo")) {
            Table table = lake.catalog.ensureTable(LakeTables.paymentResults(lake.settings));

            Configuration job = new Configuration();
            job.set(StateBackendOptions.STATE_BACKEND, "hashmap");
            job.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, TestServices.newDirectory("cp").toUri().toString());
            job.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            job.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 6);
            job.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(job);
            env.setParallelism(PARALLELISM);
            env.enableCheckpointing(300);

            // The fault injection is chained to the source (no shuffle before it), so barriers
            // never queue behind buffered records and checkpoints complete while rows flow.
            DataStream<RowData> results =
                    env.fromSource(new NumberSequenceSource(0, rows - 1), WatermarkStrategy.noWatermarks(), "numbers")
                            .map(new FaultInjectingMap<Long>(run, recordsPerSecond, afterCheckpoint, inAsyncSnapshot))
                            .name("fault injection")
                            .uid("fault-injection")
                            .map(new NumberedResult(LakeTables.paymentResultRows(table.schema())))
                            .returns(LakeSinks.rowType(table.schema()))
                            .name("payment result rows")
                            .uid("payment-result-rows");
            LakeSinks.append(results, lake.catalog, LakeTables.PAYMENT_RESULTS, "lake-eo-results");

            JobClient client = env.executeAsync("lake-exactly-once-" + seed);
            // What lake maintenance does next to a running job: merge the manifests its commits
            // leave (they never merge them), committing between its commits and its restores.
            ScheduledExecutorService maintenance = Executors.newSingleThreadScheduledExecutor();
            Table maintained = lake.catalog.table(LakeTables.PAYMENT_RESULTS);
            ScheduledFuture<?> rewrites = maintenance.scheduleWithFixedDelay(
                    () -> LakeMaintenance.rewriteManifests(maintained), 0, 200, TimeUnit.MILLISECONDS);
            try {
                client.getJobExecutionResult().get(5, TimeUnit.MINUTES);
            } finally {
                maintenance.shutdown();
            }
            assertThat(maintenance.awaitTermination(1, TimeUnit.MINUTES)).isTrue();
            // Shutting down cancels the periodic task; one that failed ended before with its error.
            assertThatThrownBy(rewrites::get).as("every manifest rewrite succeeded").isInstanceOf(CancellationException.class);

            assertThat(Faults.fired(run))
                    .as("both planned faults fired, so the run tested what it claims")
                    .contains("after-checkpoint", "async-snapshot");

            Map<Long, AbstractCheckpointStats> checkpoints = checkpoints(miniCluster, client.getJobID());
            Set<Long> failed = withStatus(checkpoints, CheckpointStatsStatus.FAILED);
            Set<Long> completed = withStatus(checkpoints, CheckpointStatsStatus.COMPLETED);
            List<Faults.Restore> restores = Faults.restores(run);
            Set<Long> abandoned = failed.stream()
                    .filter(id -> restores.stream()
                            .anyMatch(r -> r.abandons(id, checkpoints.get(id).getTriggerTimestamp())))
                    .collect(Collectors.toCollection(TreeSet::new));
            Map<Long, String> failures = new TreeMap<>();
            for (long id : failed) {
                failures.put(id, abandoned.contains(id) + " " + ((FailedCheckpointStats) checkpoints.get(id)).getFailureMessage());
            }
            System.out.printf("seed %x: restores %s, failed checkpoints (abandoned? reason) %s%n", seed, restores, failures);
            assertThat(restores).as("restarts, one per fault").hasSizeGreaterThanOrEqualTo(2);
            assertThat(abandoned).as("checkpoints a restart abandoned").isNotEmpty();

            table.refresh();
            List<Record> written = LakeReader.rows(table);
            List<String> keys = written.stream()
                    .map(r -> r.getField("source_topic") + "/" + r.getField("source_partition") + "/"
                            + r.getField("source_offset"))
                    .toList();
            assertThat(new HashSet<>(keys)).as("distinct dedup keys").hasSize(rows);
            assertThat(keys).as("rows, each once").hasSize(rows);
            assertThat(written.stream().map(r -> (Long) r.getField("source_offset")).sorted().toList())
                    .containsExactlyElementsOf(LongStream.range(0, rows).boxed().toList());
            assertThat(written).filteredOn(r -> r.getField("original") != null)
                    .as("DUPLICATE results keep their original")
                    .hasSize((rows + 6) / 7);

            List<Snapshot> manifestRewrites = new ArrayList<>();
            for (Snapshot snapshot : table.snapshots()) {
                if (snapshot.summary().containsKey(LakeMaintenance.MANIFEST_REWRITE_KEY)) {
                    manifestRewrites.add(snapshot);
                    continue;
                }
                String checkpoint = snapshot.summary().get(LakeMaintenance.FLINK_CHECKPOINT_KEY);
                assertThat(checkpoint).as("snapshot %s was committed by the sink", snapshot.snapshotId()).isNotNull();
                long committed = Long.parseLong(checkpoint);
                assertThat(abandoned)
                        .as("snapshot %s commits checkpoint %s, which no restart abandoned", snapshot.snapshotId(), committed)
                        .doesNotContain(committed);
                assertThat(completed)
                        .as("snapshot %s commits checkpoint %s, which a completed checkpoint covers", snapshot.snapshotId(), committed)
                        .anyMatch(c -> c >= committed);
            }

            assertThat(manifestRewrites).as("manifest rewrites committed while the job ran").isNotEmpty();

            Set<Path> live = TestLake.liveDataFiles(table).stream().map(LakeSinkExactlyOnceITCase::path)
                    .collect(Collectors.toSet());
            Path location = path(table.location());
            Map<Long, List<Path>> filesOfAbandonedCheckpoints = new TreeMap<>();
            Set<Long> partiallyWritten = new HashSet<>();
            for (Map.Entry<Long, List<Path>> manifests : flinkManifests(location.resolve("metadata")).entrySet()) {
                long checkpoint = manifests.getKey();
                for (Path manifest : manifests.getValue()) {
                    List<Path> files = dataFilesIn(manifest.toFile());
                    if (files == null) {
                        // The failover cancelled the aggregator while it wrote this manifest.
                        partiallyWritten.add(checkpoint);
                    } else if (abandoned.contains(checkpoint)) {
                        filesOfAbandonedCheckpoints.computeIfAbsent(checkpoint, c -> new ArrayList<>()).addAll(files);
                    }
                }
            }
            assertThat(partiallyWritten).as("checkpoints whose manifest is incomplete").noneMatch(completed::contains);
            assertThat(filesOfAbandonedCheckpoints.values().stream().flatMap(List::stream))
                    .as("data files of abandoned checkpoints %s", filesOfAbandonedCheckpoints.keySet())
                    .doesNotContainAnyElementsOf(live);

            List<Path> onDisk;
            try (Stream<Path> files = Files.walk(location.resolve("data"))) {
                onDisk = files.filter(f -> f.toString().endsWith(".parquet")).toList();
            }
            assertThat(onDisk).as("every live data file exists").containsAll(live);
            // The async fault fails a checkpoint after the writers closed its files: those files
            // exist and nothing references them.
            assertThat(onDisk.size()).as("data files on disk, some never committed").isGreaterThan(live.size());
            System.out.printf(
                    "seed %x: %d rows, %d snapshots (%d manifest rewrites), %d live files, %d files on disk,"
                            + " abandoned checkpoints %s, manifests of abandoned checkpoints %s, partially written %s%n",
                    seed, rows, count(table.snapshots()), manifestRewrites.size(), live.size(), onDisk.size(), abandoned,
                    filesOfAbandonedCheckpoints.entrySet().stream()
                            .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().size())),
                    partiallyWritten);
        }
    }

    /** Maps number n to the row of {@link PaymentResultFixtures#numbered}. */
    private static final class NumberedResult implements MapFunction<Long, RowData> {
        private final AvroRowMapper<PaymentResult> rows;

        NumberedResult(AvroRowMapper<PaymentResult> rows) {
            this.rows = rows;
        }

        @Override
        public RowData map(Long n) {
            return rows.map(PaymentResultFixtures.numbered(n));
        }
    }

    private static Map<Long, AbstractCheckpointStats> checkpoints(MiniCluster miniCluster, JobID job) throws Exception {
        Map<Long, AbstractCheckpointStats> byId = new TreeMap<>();
        for (AbstractCheckpointStats stats : miniCluster.getArchivedExecutionGraph(job).get(1, TimeUnit.MINUTES)
                .getCheckpointStatsSnapshot().getHistory().getCheckpoints()) {
            byId.put(stats.getCheckpointId(), stats);
        }
        return byId;
    }

    private static Set<Long> withStatus(Map<Long, AbstractCheckpointStats> checkpoints, CheckpointStatsStatus wanted) {
        return checkpoints.entrySet().stream().filter(e -> e.getValue().getStatus() == wanted).map(Map.Entry::getKey)
                .collect(Collectors.toSet());
    }

    /** The manifests the sink wrote and did not delete (uncommitted ones stay), by checkpoint id. */
    private static Map<Long, List<Path>> flinkManifests(Path metadata) throws IOException {
        Map<Long, List<Path>> byCheckpoint = new TreeMap<>();
        try (Stream<Path> files = Files.list(metadata)) {
            for (Path file : files.toList()) {
                Matcher name = FLINK_MANIFEST.matcher(file.getFileName().toString());
                if (name.matches()) {
                    byCheckpoint.computeIfAbsent(Long.parseLong(name.group(1)), c -> new ArrayList<>()).add(file);
                }
            }
        }
        return byCheckpoint;
    }

    /** The data files a manifest lists (Iceberg manifests are plain Avro files); null when cut short. */
    private static List<Path> dataFilesIn(File manifest) {
        List<Path> paths = new ArrayList<>();
        try (DataFileReader<GenericRecord> entries = new DataFileReader<>(manifest, new GenericDatumReader<>())) {
            for (GenericRecord entry : entries) {
                paths.add(path(((GenericRecord) entry.get("data_file")).get("file_path").toString()));
            }
        } catch (IOException | org.apache.avro.AvroRuntimeException e) {
            return null;
        }
        return paths;
    }

    private static Path path(String location) {
        return location.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location);
    }

    private static int count(Iterable<?> items) {
        int n = 0;
        for (Object ignored : items) {
            n++;
        }
        return n;
    }
}
