package io.onceflow.sinks.postgres;

import org.apache.flink.api.common.JobID;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.clusterframework.types.ResourceID;
import org.apache.flink.runtime.executiongraph.ExecutionAttemptID;
import org.apache.flink.runtime.metrics.groups.TaskManagerMetricGroup;
import org.apache.flink.runtime.metrics.groups.TaskMetricGroup;
import org.apache.flink.runtime.metrics.util.TestingMetricRegistry;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.apache.flink.streaming.api.connector.sink2.CommittableMessage;
import org.apache.flink.streaming.api.connector.sink2.CommittableWithLineage;
import org.apache.flink.streaming.runtime.operators.sink.CommitterOperatorFactory;
import org.apache.flink.streaming.runtime.operators.sink.SinkWriterOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One subtask of a {@link PostgresSink} as Flink runs it: the real {@code SinkWriterOperator} and
 * {@code CommitterOperator} in operator test harnesses, with the committables of each checkpoint
 * handed from writer to committer as the runtime does, and the metrics they register captured.
 */
final class SinkSubtask<IN> implements AutoCloseable {

    static final int MAX_PARALLELISM = 128;

    /** The operator states of one checkpoint of one subtask, as a restore gets them. */
    record Snapshot(
            long checkpointId, OperatorSubtaskState writer, OperatorSubtaskState committer) {

        /**
         * The states of several old subtasks, as new subtask {@code subtask} of a rescaled job gets
         * them.
         */
        static Snapshot rescaled(List<Snapshot> oldSubtasks, int newParallelism, int subtask)
                throws Exception {
            long checkpointId = oldSubtasks.get(0).checkpointId();
            int oldParallelism = oldSubtasks.size();
            OperatorSubtaskState writer =
                    AbstractStreamOperatorTestHarness.repartitionOperatorState(
                            AbstractStreamOperatorTestHarness.repackageState(
                                    oldSubtasks.stream()
                                            .map(Snapshot::writer)
                                            .toArray(OperatorSubtaskState[]::new)),
                            MAX_PARALLELISM,
                            oldParallelism,
                            newParallelism,
                            subtask);
            OperatorSubtaskState committer =
                    AbstractStreamOperatorTestHarness.repartitionOperatorState(
                            AbstractStreamOperatorTestHarness.repackageState(
                                    oldSubtasks.stream()
                                            .map(Snapshot::committer)
                                            .toArray(OperatorSubtaskState[]::new)),
                            MAX_PARALLELISM,
                            oldParallelism,
                            newParallelism,
                            subtask);
            return new Snapshot(checkpointId, writer, committer);
        }
    }

    private final OneInputStreamOperatorTestHarness<IN, CommittableMessage<PostgresCommittable>>
            writer;
    private final OneInputStreamOperatorTestHarness<
                    CommittableMessage<PostgresCommittable>,
                    CommittableMessage<PostgresCommittable>>
            committer;
    private final Map<String, Metric> writerMetrics;
    private final Map<String, Metric> committerMetrics;
    private final List<PostgresCommittable> committablesSent = new ArrayList<>();

    private SinkSubtask(PostgresSink<IN> sink, int parallelism, int subtask) throws Exception {
        writerMetrics = new ConcurrentHashMap<>();
        committerMetrics = new ConcurrentHashMap<>();
        writer =
                new OneInputStreamOperatorTestHarness<>(
                        new SinkWriterOperatorFactory<IN, PostgresCommittable>(sink),
                        environment(parallelism, subtask, writerMetrics));
        committer =
                new OneInputStreamOperatorTestHarness<>(
                        new CommitterOperatorFactory<>(sink, false, true),
                        environment(parallelism, subtask, committerMetrics));
    }

    /** A subtask of a job started without state. */
    static <IN> SinkSubtask<IN> start(PostgresSink<IN> sink, int parallelism, int subtask)
            throws Exception {
        SinkSubtask<IN> started = new SinkSubtask<>(sink, parallelism, subtask);
        try {
            started.committer.open();
            started.writer.open();
        } catch (Exception e) {
            started.close();
            throw e;
        }
        return started;
    }

    /**
     * A subtask restored from {@code snapshot}, committer first, as in a task where the writer is
     * chained to the committer (operators initialize from the end of the chain).
     */
    static <IN> SinkSubtask<IN> restore(
            PostgresSink<IN> sink, int parallelism, int subtask, Snapshot snapshot)
            throws Exception {
        SinkSubtask<IN> restored = unrestored(sink, parallelism, subtask);
        try {
            restored.restoreCommitter(snapshot);
            restored.restoreWriter(snapshot);
        } catch (Exception e) {
            restored.close();
            throw e;
        }
        return restored;
    }

    /**
     * A subtask whose operators are not started yet, for restoring them one at a time: when writer
     * and committer run in different tasks, either may start first.
     */
    static <IN> SinkSubtask<IN> unrestored(PostgresSink<IN> sink, int parallelism, int subtask)
            throws Exception {
        return new SinkSubtask<>(sink, parallelism, subtask);
    }

    void restoreWriter(Snapshot snapshot) throws Exception {
        writer.setRestoredCheckpointId(snapshot.checkpointId());
        writer.initializeState(snapshot.writer());
        writer.open();
    }

    void restoreCommitter(Snapshot snapshot) throws Exception {
        committer.setRestoredCheckpointId(snapshot.checkpointId());
        committer.initializeState(snapshot.committer());
        committer.open();
    }

    @SafeVarargs
    final void write(IN... records) throws Exception {
        for (IN record : records) {
            writer.processElement(record, 0L);
        }
    }

    /**
     * Takes checkpoint {@code checkpointId} as the task does: the writer prepares before the
     * barrier, its committables reach the committer before the barrier does, then both snapshot.
     */
    Snapshot checkpoint(long checkpointId) throws Exception {
        writer.prepareSnapshotPreBarrier(checkpointId);
        OperatorSubtaskState writerState = writer.snapshot(checkpointId, checkpointId);
        for (CommittableMessage<PostgresCommittable> message : writer.extractOutputValues()) {
            if (message instanceof CommittableWithLineage<PostgresCommittable> withLineage) {
                committablesSent.add(withLineage.getCommittable());
            }
            committer.processElement(new StreamRecord<>(message));
        }
        writer.getOutput().clear();
        OperatorSubtaskState committerState = committer.snapshot(checkpointId, checkpointId);
        return new Snapshot(checkpointId, writerState, committerState);
    }

    /** Flink's notification that checkpoint {@code checkpointId} completed. */
    void complete(long checkpointId) throws Exception {
        writer.notifyOfCompletedCheckpoint(checkpointId);
        committer.notifyOfCompletedCheckpoint(checkpointId);
    }

    /** Every committable the writer handed to the committer so far. */
    List<PostgresCommittable> committablesSent() {
        return committablesSent;
    }

    long writerCounter(String name) {
        return counter(writerMetrics, name);
    }

    long committerCounter(String name) {
        return counter(committerMetrics, name);
    }

    private static long counter(Map<String, Metric> metrics, String name) {
        Metric metric = metrics.get(name);
        if (!(metric instanceof Counter counter)) {
            throw new AssertionError("No counter " + name + " among " + metrics.keySet());
        }
        return counter.getCount();
    }

    @Override
    public void close() throws Exception {
        Exception failure = null;
        for (AbstractStreamOperatorTestHarness<?> harness : List.of(writer, committer)) {
            if (harness.getOperator() == null) {
                continue; // never started, nothing to close
            }
            try {
                harness.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static MockEnvironment environment(
            int parallelism, int subtask, Map<String, Metric> metrics) {
        TestingMetricRegistry registry =
                TestingMetricRegistry.builder()
                        .setRegisterConsumer((metric, name, group) -> metrics.put(name, metric))
                        .build();
        TaskMetricGroup taskMetrics =
                TaskManagerMetricGroup.createTaskManagerMetricGroup(
                                registry, "localhost", ResourceID.generate())
                        .addJob(new JobID(), "postgres-sink-test")
                        .addTask(ExecutionAttemptID.randomId(), "sink");
        return new MockEnvironmentBuilder()
                .setParallelism(parallelism)
                .setMaxParallelism(MAX_PARALLELISM)
                .setSubtaskIndex(subtask)
                .setMetricGroup(taskMetrics)
                .build();
    }
}
