package io.onceflow.sinks.postgres;

import io.onceflow.testing.TestServices;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.lib.NumberSequenceSource;
import org.apache.flink.api.connector.source.util.ratelimit.GatedRateLimiter;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimitedSourceReader;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.testutils.junit.SharedObjectsExtension;
import org.apache.flink.testutils.junit.SharedReference;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real Flink job (MiniCluster, parallelism 2, checkpoints every 200 ms) writes the numbers 0..N-1
 * through {@link PostgresSink} while it fails twice: once in the asynchronous phase of a checkpoint
 * (the sink has already prepared that checkpoint's transactions) and once right after a checkpoint
 * completed. The table has a plain primary key and the statement no conflict clause, so a duplicate
 * would fail the job and a lost row would be missing from the count. The sink sends several rows
 * per statement ({@link PostgresStatement#insert}, batches of 17: statements of 16 rows and 1), as
 * the payments job does.
 *
 * <p>Runs {@code onceflow.eo.iterations} times (3 by default, 30 with {@code -Pexactly-once-soak}),
 * each against a fresh database.
 */
class PostgresSinkExactlyOnceITCase {

    private static final int PARALLELISM = 2;
    private static final long NUMBERS = 2_000;
    private static final int RECORDS_PER_SUBTASK_AND_CHECKPOINT = 40;

    private static final InMemoryReporter METRICS = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            new MiniClusterExtension(
                    () -> {
                        Configuration cluster = new Configuration();
                        // RocksDB and the checkpoint files dislike long paths.
                        cluster.set(
                                CoreOptions.TMP_DIRS, TestServices.newDirectory("tmp").toString());
                        METRICS.addToConfiguration(cluster);
                        return new MiniClusterResourceConfiguration.Builder()
                                .setNumberTaskManagers(1)
                                .setNumberSlotsPerTaskManager(PARALLELISM)
                                .setConfiguration(cluster)
                                .build();
                    });

    @RegisterExtension final SharedObjectsExtension shared = SharedObjectsExtension.create();

    static IntStream iterations() {
        return IntStream.rangeClosed(1, Integer.getInteger("onceflow.eo.iterations", 3));
    }

    @ParameterizedTest(name = "run {0}")
    @MethodSource("iterations")
    void everyNumberIsWrittenExactlyOnceDespiteFailuresBeforeAndAfterCommits(int run)
            throws Exception {
        try (SinkTestDatabase db = SinkTestDatabase.create("pg_sink_eo")) {
            SharedReference<AtomicBoolean> failedInAsyncPhase = shared.add(new AtomicBoolean());
            SharedReference<AtomicBoolean> failedAfterCompletedCheckpoint =
                    shared.add(new AtomicBoolean());

            Configuration job = new Configuration();
            job.set(StateBackendOptions.STATE_BACKEND, "hashmap");
            job.set(
                    CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                    TestServices.newDirectory("cp").toUri().toString());
            job.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            job.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 4);
            job.set(
                    RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY,
                    Duration.ofMillis(100));
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.getExecutionEnvironment(job);
            env.setParallelism(PARALLELISM);
            env.enableCheckpointing(200);

            // Everything up to the sink is chained into one task, so barriers never queue behind
            // buffered records and checkpoints complete while the numbers are still flowing.
            env.fromSource(
                            new NumbersPerCheckpointSource(NUMBERS),
                            WatermarkStrategy.noWatermarks(),
                            "numbers")
                    .map(new FailOnceInAsyncCheckpointPhase(failedInAsyncPhase))
                    .map(
                            new FailOnceAfterCompletedCheckpoint(
                                    failedInAsyncPhase, failedAfterCompletedCheckpoint))
                    .sinkTo(db.multiRowSink("").setBatchSize(17).build())
                    .name("numbers to PostgreSQL");

            JobClient client = env.executeAsync("postgres-sink-exactly-once-" + run);
            client.getJobExecutionResult().get(5, TimeUnit.MINUTES);

            assertThat(failedInAsyncPhase.get()).as("failed in an async checkpoint phase").isTrue();
            assertThat(failedAfterCompletedCheckpoint.get())
                    .as("failed after a completed checkpoint")
                    .isTrue();
            assertThat(sum(client, "transactionsRolledBack"))
                    .as("transactions of the failed checkpoint rolled back on restore")
                    .isPositive();
            assertThat(db.numbers())
                    .containsExactlyElementsOf(LongStream.range(0, NUMBERS).boxed().toList());
            assertThat(db.preparedTransactions()).isEmpty();
        }
    }

    /** The counter summed over all subtasks and all attempts (restarts) of the job. */
    private static long sum(JobClient client, String counterName) {
        String jobId = client.getJobID().toString();
        return METRICS.getMetricsByGroup().entrySet().stream()
                .filter(group -> jobId.equals(group.getKey().getAllVariables().get("<job_id>")))
                .map(group -> group.getValue().get(counterName))
                .mapToLong(PostgresSinkExactlyOnceITCase::count)
                .sum();
    }

    private static long count(Metric metric) {
        return metric instanceof Counter counter ? counter.getCount() : 0;
    }

    /**
     * The numbers, {@value #RECORDS_PER_SUBTASK_AND_CHECKPOINT} per subtask between two completed
     * checkpoints, so that the job spans many checkpoints whatever the machine's speed.
     */
    private static final class NumbersPerCheckpointSource extends NumberSequenceSource {

        NumbersPerCheckpointSource(long count) {
            super(0, count - 1);
        }

        @Override
        public SourceReader<Long, NumberSequenceSplit> createReader(SourceReaderContext context) {
            return new RateLimitedSourceReader<>(
                    super.createReader(context),
                    new GatedRateLimiter(RECORDS_PER_SUBTASK_AND_CHECKPOINT));
        }
    }

    /**
     * Fails the asynchronous phase of the first checkpoint after checkpoint 1, once per test: its
     * state serializer throws while the checkpoint is written, after the sink prepared the
     * checkpoint's transactions. The checkpoint is declined and the job restarts from an older one,
     * so those prepared transactions must be rolled back, never committed.
     */
    private static final class FailOnceInAsyncCheckpointPhase
            implements MapFunction<Long, Long>, CheckpointedFunction {

        private final SharedReference<AtomicBoolean> failed;
        private transient ListState<Integer> state;

        FailOnceInAsyncCheckpointPhase(SharedReference<AtomicBoolean> failed) {
            this.failed = failed;
        }

        @Override
        public Long map(Long value) {
            return value;
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) throws Exception {
            boolean failNow =
                    context.getCheckpointId() >= 2 && failed.get().compareAndSet(false, true);
            state.update(List.of(failNow ? FailingIntSerializer.FAIL : 1));
        }

        @Override
        public void initializeState(FunctionInitializationContext context) throws Exception {
            state =
                    context.getOperatorStateStore()
                            .getListState(
                                    new ListStateDescriptor<>(
                                            "fail-async", new FailingIntSerializer()));
        }
    }

    /**
     * Fails on the first record after a checkpoint completed, once per test and only after the
     * async failure, so the job restores twice: the rows of the completed checkpoint are already
     * committed (or committed on restore) and must not be written again.
     */
    private static final class FailOnceAfterCompletedCheckpoint
            implements MapFunction<Long, Long>, CheckpointListener {

        private final SharedReference<AtomicBoolean> previousFailure;
        private final SharedReference<AtomicBoolean> failed;
        private long lastCompletedCheckpoint;
        private int recordsSinceCompletedCheckpoint;

        FailOnceAfterCompletedCheckpoint(
                SharedReference<AtomicBoolean> previousFailure,
                SharedReference<AtomicBoolean> failed) {
            this.previousFailure = previousFailure;
            this.failed = failed;
        }

        @Override
        public Long map(Long value) {
            if (lastCompletedCheckpoint > 0
                    && recordsSinceCompletedCheckpoint > 0
                    && previousFailure.get().get()
                    && failed.get().compareAndSet(false, true)) {
                throw new IllegalStateException("Planned failure after a completed checkpoint.");
            }
            recordsSinceCompletedCheckpoint++;
            return value;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            lastCompletedCheckpoint = checkpointId;
            recordsSinceCompletedCheckpoint = 0;
        }
    }

    /** Serializes ints, except {@link #FAIL}, which makes the asynchronous snapshot fail. */
    private static final class FailingIntSerializer extends TypeSerializerSingleton<Integer> {

        static final int FAIL = -1;

        @Override
        public boolean isImmutableType() {
            return true;
        }

        @Override
        public Integer createInstance() {
            return 0;
        }

        @Override
        public Integer copy(Integer from) {
            return from;
        }

        @Override
        public Integer copy(Integer from, Integer reuse) {
            return from;
        }

        @Override
        public int getLength() {
            return 4;
        }

        @Override
        public void serialize(Integer record, DataOutputView target) throws java.io.IOException {
            if (record == FAIL) {
                throw new java.io.IOException("Planned failure in the async checkpoint phase.");
            }
            target.writeInt(record);
        }

        @Override
        public Integer deserialize(DataInputView source) throws java.io.IOException {
            return source.readInt();
        }

        @Override
        public Integer deserialize(Integer reuse, DataInputView source) throws java.io.IOException {
            return source.readInt();
        }

        @Override
        public void copy(DataInputView source, DataOutputView target) throws java.io.IOException {
            target.writeInt(source.readInt());
        }

        @Override
        public TypeSerializerSnapshot<Integer> snapshotConfiguration() {
            return new FailingIntSerializerSnapshot();
        }
    }

    /**
     * Snapshot of {@link FailingIntSerializer}; public with a no-argument constructor for Flink.
     */
    public static final class FailingIntSerializerSnapshot
            extends SimpleTypeSerializerSnapshot<Integer> {
        public FailingIntSerializerSnapshot() {
            super(FailingIntSerializer::new);
        }
    }
}
