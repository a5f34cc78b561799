package io.onceflow.bench;

import io.onceflow.analytics.AnalyticsConfig;
import io.onceflow.analytics.AnalyticsJob;
import io.onceflow.config.JobSubmission;
import io.onceflow.lake.LakeTables;
import io.onceflow.local.LocalEnvironment;
import io.onceflow.local.LocalFlink;
import io.onceflow.payments.PaymentsConfig;
import io.onceflow.payments.PaymentsJob;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CheckpointStatsStatus;
import org.apache.flink.runtime.checkpoint.SubtaskStateStats;
import org.apache.flink.runtime.checkpoint.TaskStateStats;
import org.apache.flink.runtime.execution.ExecutionState;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.executiongraph.AccessExecutionJobVertex;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.jobgraph.JobVertexID;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;
import java.util.function.UnaryOperator;

/**
 * Runs the real jobs, built by {@link PaymentsJob} and {@link AnalyticsJob} from the shipped job
 * files, on the benchmark's Flink cluster against the local broker, PostgreSQL and gateway. Each
 * run gets its own namespace, consumer group and output topics, starts from the earliest offset
 * of its input and is watched through what an outside reader sees until it drained the input;
 * then its checkpoint statistics are read and it is cancelled.
 */
final class JobRuns {

    /** Checkpoint figures of one run, from the JobManager's checkpoint statistics. */
    record Checkpoints(long completed, long failed, double p50Millis, double p99Millis,
            long lastStateBytes, long p50CheckpointedBytes, long maxCheckpointedBytes) {

        static final Checkpoints NONE = new Checkpoints(0, 0, Double.NaN, Double.NaN, -1, -1, -1);
    }

    /** One drained run; {@code outcomes} is a payments run's {@link ResultMix}, empty for others. */
    record Run(String job, String variant, Preload.Loaded input, Drain drain, Machine.Sample start,
            Machine.Sample end, Map<String, Long> cpuNanosByGroup, Checkpoints checkpoints, long heapBytes,
            long residentBytes, String settings, Map<String, Long> outcomes) {

        Run withOutcomes(Map<String, Long> read) {
            return new Run(job, variant, input, drain, start, end, cpuNanosByGroup, checkpoints, heapBytes,
                    residentBytes, settings, read);
        }

        double rate() {
            return drain.sustainedRate(input.records());
        }

        double megabytesPerSecond() {
            return rate() * input.bytes() / input.records() / 1e6;
        }

        /** CPU microseconds of this JVM per input record over the whole run (every stage, broker and gateway included). */
        double processCpuMicrosPerRecord() {
            return end.processCpuSecondsSince(start) * 1e6 / input.records();
        }

        /** CPU nanoseconds of every {@link ThreadCpu} group together: the JVM's threads and PostgreSQL. */
        long cpuNanos() {
            return cpuNanosByGroup.values().stream().mapToLong(Long::longValue).sum();
        }

        /** The JIT compilers' share of {@link #cpuNanos()}; 0 for a run that measured no CPU. */
        double jitShare() {
            long all = cpuNanos();
            return all == 0 ? 0 : (double) cpuNanosByGroup.getOrDefault(ThreadCpu.JIT, 0L) / all;
        }

        /** CPU microseconds per input record of one {@link ThreadCpu} group over the whole run. */
        double cpuMicrosPerRecord(String group) {
            Long nanos = cpuNanosByGroup.get(group);
            return nanos == null ? Double.NaN : nanos / 1e3 / input.records();
        }
    }

    private final LocalEnvironment local;
    private final LocalFlink flink;
    private final Path data;
    private final Path paymentsFile;
    private final Path analyticsFile;
    private int runs;

    JobRuns(LocalEnvironment local, LocalFlink flink, Path data, Path paymentsFile, Path analyticsFile) {
        this.local = local;
        this.flink = flink;
        this.data = data;
        this.paymentsFile = paymentsFile;
        this.analyticsFile = analyticsFile;
    }

    LocalEnvironment local() {
        return local;
    }

    LocalFlink flink() {
        return flink;
    }

    String nextRunName(String job) {
        return "bench" + (++runs) + "-" + job;
    }

    private Map<String, String> overrides(String run, Duration checkpointInterval) {
        Map<String, String> overrides = new LinkedHashMap<>();
        overrides.put("kafka.bootstrap-servers", local.kafka().bootstrapServers());
        overrides.put("kafka.group-id", run);
        overrides.put("kafka.starting-offsets", "earliest");
        overrides.put("postgres.url", local.postgresEndpoint().jdbcUrl());
        overrides.put("postgres.user", local.postgresEndpoint().user());
        overrides.put("postgres.password-env", "");
        overrides.put("postgres.password-file", "");
        overrides.put("job.name", run);
        overrides.put("job.namespace", run);
        overrides.put("job.parallelism", "2");
        overrides.put("job.checkpoint-interval", checkpointInterval.toMillis() + "ms");
        overrides.put("job.checkpoint-directory", data.resolve("checkpoints").toUri().toString());
        overrides.put("lake.warehouse", data.resolve("lake").toUri().toString());
        return overrides;
    }

    PaymentsConfig paymentsConfig(String run, String requestsTopic, Duration checkpointInterval) throws Exception {
        Map<String, String> overrides = overrides(run, checkpointInterval);
        overrides.put("gateway.url", local.gateway().baseUrl());
        overrides.put("topics.requests", requestsTopic);
        overrides.put("topics.results", run + ".results");
        overrides.put("topics.completed", run + ".completed");
        overrides.put("topics.dead-letters", run + ".dlq");
        return PaymentsConfig.load(paymentsFile, overrides);
    }

    /** {@code config} with its output topics created, for a run of the whole payments job. */
    PaymentsConfig withOutputTopics(PaymentsConfig config) throws Exception {
        local.kafka().createTopics(2, List.of(config.topics().results(), config.topics().completed(), config.topics().deadLetters()));
        return config;
    }

    AnalyticsConfig analyticsConfig(String run, String eventsTopic, Duration checkpointInterval) throws Exception {
        Map<String, String> overrides = overrides(run, checkpointInterval);
        overrides.put("topics.events", eventsTopic);
        overrides.put("topics.dead-letters", run + ".dlq");
        AnalyticsConfig config = AnalyticsConfig.load(analyticsFile, overrides);
        local.kafka().createTopics(2, List.of(config.topics().deadLetters()));
        return config;
    }

    /** A job environment as the job's main sets it up; full (not incremental) RocksDB checkpoints when asked. */
    StreamExecutionEnvironment environment(io.onceflow.config.JobSettings job, boolean incremental) {
        StreamExecutionEnvironment env = flink.environment();
        JobSubmission.configure(env, job);
        if (!incremental) {
            Configuration full = new Configuration();
            full.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, false);
            env.configure(full);
        }
        return env;
    }

    void truncate(String table) throws Exception {
        try (Connection connection = local.postgresEndpoint().connect(); Statement statement = connection.createStatement()) {
            statement.execute("TRUNCATE " + table);
        }
    }

    /** The payments job over {@code input} until every request has its committed result or dead letter. */
    Run payments(String variant, Preload.Loaded input, DeliveryGuarantee guarantee, Duration checkpointInterval,
            boolean incremental, Duration timeout) throws Exception {
        String run = nextRunName("payments");
        PaymentsConfig config = withOutputTopics(paymentsConfig(run, input.topic(), checkpointInterval));
        truncate("payments");
        StreamExecutionEnvironment env = environment(config.job(), incremental);
        PaymentsJob.Connectors connectors = PaymentsJob.Connectors.of(config, false, guarantee);
        try (var lake = connectors.lake();
                OutputCounter outputs = OutputCounter.batched(local.kafka().bootstrapServers(),
                        List.of(config.topics().results(), config.topics().deadLetters()))) {
            new PaymentsJob(config).build(env, connectors);
            Run drained = drain("payments", variant, input, env, run, outputs::count, input.expectedOutputs(), timeout,
                    settings(guarantee, checkpointInterval, incremental), 20);
            return drained.drain().complete()
                    ? drained.withOutcomes(ResultMix.read(local.kafka().bootstrapServers(), config.topics().results(), Duration.ofMinutes(1)))
                    : drained;
        }
    }

    /** The analytics job over {@code input} until every distinct valid event is in the lake and every invalid one a dead letter. */
    Run analytics(String variant, Preload.Loaded input, DeliveryGuarantee guarantee, Duration checkpointInterval,
            boolean incremental, Duration timeout) throws Exception {
        String run = nextRunName("analytics");
        AnalyticsConfig config = analyticsConfig(run, input.topic(), checkpointInterval);
        StreamExecutionEnvironment env = environment(config.job(), incremental);
        AnalyticsJob.Connectors connectors = AnalyticsJob.Connectors.of(config, false, guarantee);
        try (var lake = connectors.lake();
                OutputCounter deadLetters = OutputCounter.batched(local.kafka().bootstrapServers(),
                        List.of(config.topics().deadLetters()))) {
            long before = lakeRows(lake);
            new AnalyticsJob(config).build(env, connectors);
            LongSupplier visible = () -> lakeRows(lake) - before + deadLetters.count();
            return drain("analytics", variant, input, env, run, visible, input.expectedOutputs(), timeout,
                    settings(guarantee, checkpointInterval, incremental), 200);
        }
    }

    private static long lakeRows(io.onceflow.lake.LakeCatalog lake) {
        var table = lake.table(LakeTables.ANALYTICS_EVENTS);
        table.refresh();
        var current = table.currentSnapshot();
        return current == null ? 0 : Long.parseLong(current.summary().getOrDefault("total-records", "0"));
    }

    static String settings(DeliveryGuarantee guarantee, Duration checkpointInterval, boolean incremental) {
        return String.format("%s, RocksDB %s, checkpoints every %s ms, parallelism 2",
                guarantee == DeliveryGuarantee.EXACTLY_ONCE ? "exactly-once" : "at-least-once",
                incremental ? "incremental" : "full", checkpointInterval.toMillis());
    }

    /**
     * Clears what earlier runs left behind before a run starts: the gateway simulator forgets
     * their idempotency keys and the JVM collects their garbage. One JVM holds the broker, the
     * gateway and every run here, where a deployment gives each job TaskManagers of its own.
     * Without this, a run paid for collecting the garbage of the runs before it: after the
     * payments runs, the analytics runs' garbage collector took 2.4-7.8 µs per event in two full
     * runs, and 0.6-0.7 in a run where two full collections (heap histograms) came before them.
     * And every run after the first on a topic got the simulator's replays where the first got
     * charges (docs/benchmarks-profile.md, stop 21).
     */
    void startClean() {
        local.gateway().forgetKeys();
        System.gc();
    }

    Run drain(String job, String variant, Preload.Loaded input, StreamExecutionEnvironment env, String run,
            LongSupplier visible, long expected, Duration timeout, String settings, long pollMillis) throws Exception {
        startClean();
        // The reference work first: it runs on this thread, whose CPU the table would count.
        Machine.Sample start = Machine.Sample.beforeRow();
        ThreadCpu.Reading threadsAtStart = ThreadCpu.now(local.postgres().serverPid());
        JobClient client = flink.submit(env, run, null);
        try {
            Drain drain = Drain.watch(visible, expected, timeout, start.nanoTime(), pollMillis);
            Machine.Sample end = Machine.Sample.now();
            ThreadCpu.Reading threadsAtEnd = ThreadCpu.now(local.postgres().serverPid());
            Checkpoints checkpoints = checkpoints(client.getJobID());
            return new Run(job, variant, input, drain, start, end, ThreadCpu.between(threadsAtStart, threadsAtEnd),
                    checkpoints, Machine.heapUsedBytes(), Machine.residentBytes(), settings, Map.of());
        } finally {
            cancel(client);
        }
    }

    void cancel(JobClient client) {
        try {
            client.cancel().get(60, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!client.getJobStatus().get().isGloballyTerminalState() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
        } catch (Exception e) {
            // already ended
        }
    }

    Checkpoints checkpoints(JobID job) throws Exception {
        return checkpointHistory(job, Long.MIN_VALUE, UnaryOperator.identity()).totals();
    }

    /**
     * One stage (job vertex) over a run's checkpoints: in each checkpoint the longest of each time
     * over the stage's subtasks, then its p50 and p90 over the checkpoints, in milliseconds. The
     * times: when the last subtask acknowledged, counted from the trigger ({@code ack}); when a
     * subtask had its last barrier ({@code barrier}: Flink's start delay plus alignment); its
     * synchronous and its asynchronous phase. The last stage to acknowledge is the one a
     * checkpoint waits for; a subtask's ack is roughly its barrier + sync + async.
     */
    record StageTimes(String stage, Percentiles ack, Percentiles barrier, Percentiles sync, Percentiles async) {}

    /** The p50 and p90 of one of a stage's checkpoint times, in milliseconds. */
    record Percentiles(double p50, double p90) {
        static Percentiles of(List<Long> millis) {
            Collections.sort(millis);
            return new Percentiles(Stats.percentile(millis, 0.50), Stats.percentile(millis, 0.90));
        }
    }

    /** A run's checkpoints as a whole and by stage, the stages in topological order. */
    record CheckpointHistory(Checkpoints totals, List<StageTimes> stages) {}

    /**
     * The completed checkpoints triggered at or after {@code triggeredFromMillis} (epoch ms), from
     * one read of the job's checkpoint statistics; the counts are the whole job's. {@code
     * stageName} turns a job vertex's name into the name the report shows.
     */
    CheckpointHistory checkpointHistory(JobID job, long triggeredFromMillis, UnaryOperator<String> stageName)
            throws Exception {
        AccessExecutionGraph graph = flink.miniCluster().getExecutionGraph(job).get(30, TimeUnit.SECONDS);
        var snapshot = graph.getCheckpointStatsSnapshot();
        if (snapshot == null) {
            return new CheckpointHistory(Checkpoints.NONE, List.of());
        }
        List<Long> durations = new ArrayList<>();
        List<Long> checkpointed = new ArrayList<>();
        Map<JobVertexID, List<Long>> acks = new LinkedHashMap<>();
        Map<JobVertexID, List<Long>> barriers = new LinkedHashMap<>();
        Map<JobVertexID, List<Long>> syncs = new LinkedHashMap<>();
        Map<JobVertexID, List<Long>> asyncs = new LinkedHashMap<>();
        long lastState = -1;
        long lastId = -1;
        for (AbstractCheckpointStats stats : snapshot.getHistory().getCheckpoints()) {
            if (stats.getStatus() != CheckpointStatsStatus.COMPLETED || stats.getTriggerTimestamp() < triggeredFromMillis) {
                continue;
            }
            durations.add(stats.getEndToEndDuration());
            checkpointed.add(stats.getCheckpointedSize());
            if (stats.getCheckpointId() > lastId) {
                lastId = stats.getCheckpointId();
                lastState = stats.getStateSize();
            }
            for (TaskStateStats task : stats.getAllTaskStateStats()) {
                acks.computeIfAbsent(task.getJobVertexId(), id -> new ArrayList<>())
                        .add(task.getLatestAckTimestamp() - stats.getTriggerTimestamp());
                addSlowest(barriers, task, subtask -> subtask.getCheckpointStartDelay() + subtask.getAlignmentDuration());
                addSlowest(syncs, task, SubtaskStateStats::getSyncCheckpointDuration);
                addSlowest(asyncs, task, SubtaskStateStats::getAsyncCheckpointDuration);
            }
        }
        Collections.sort(durations);
        Collections.sort(checkpointed);
        Checkpoints totals = new Checkpoints(
                snapshot.getCounts().getNumberOfCompletedCheckpoints(),
                snapshot.getCounts().getNumberOfFailedCheckpoints(),
                Stats.percentile(durations, 0.50),
                Stats.percentile(durations, 0.99),
                lastState,
                checkpointed.isEmpty() ? -1 : Math.round(Stats.percentile(checkpointed, 0.50)),
                checkpointed.isEmpty() ? -1 : checkpointed.get(checkpointed.size() - 1));
        List<StageTimes> stages = new ArrayList<>();
        for (AccessExecutionJobVertex vertex : graph.getVerticesTopologically()) {
            JobVertexID id = vertex.getJobVertexId();
            if (!acks.containsKey(id)) {
                continue;
            }
            stages.add(new StageTimes(stageName.apply(vertex.getName()), Percentiles.of(acks.get(id)),
                    Percentiles.of(barriers.get(id)), Percentiles.of(syncs.get(id)), Percentiles.of(asyncs.get(id))));
        }
        return new CheckpointHistory(totals, stages);
    }

    /** The longest of one time over a stage's subtasks in one checkpoint. */
    private static void addSlowest(Map<JobVertexID, List<Long>> times, TaskStateStats task,
            ToLongFunction<SubtaskStateStats> time) {
        times.computeIfAbsent(task.getJobVertexId(), id -> new ArrayList<>())
                .add(Arrays.stream(task.getSubtaskStats()).filter(Objects::nonNull).mapToLong(time).max().orElse(0));
    }

    /** Whether the job is RUNNING with every task RUNNING. */
    boolean allTasksRunning(JobID job) {
        try {
            AccessExecutionGraph graph = flink.miniCluster().getExecutionGraph(job).get(5, TimeUnit.SECONDS);
            if (graph.getState() != JobStatus.RUNNING) {
                return false;
            }
            for (AccessExecutionVertex vertex : graph.getAllExecutionVertices()) {
                if (vertex.getExecutionState() != ExecutionState.RUNNING) {
                    return false;
                }
            }
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    long completedCheckpoints(JobID job) {
        try {
            var snapshot = flink.miniCluster().getExecutionGraph(job).get(5, TimeUnit.SECONDS).getCheckpointStatsSnapshot();
            return snapshot == null ? 0 : snapshot.getCounts().getNumberOfCompletedCheckpoints();
        } catch (Exception e) {
            return 0;
        }
    }

    /** Waits until every task runs and a checkpoint completed; false on timeout. */
    boolean awaitRunningAndCheckpointed(JobID job, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (allTasksRunning(job) && completedCheckpoints(job) > 0) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }
}
