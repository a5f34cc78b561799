package io.onceflow.testing;

import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;

import java.util.concurrent.locks.LockSupport;

/**
 * Chained right after a test job's source: throttles it so the job runs long enough for several
 * checkpoints, and injects two failures once per run, on subtask 0:
 *
 * <ul>
 *   <li>{@code afterCheckpoint}: throws from {@code map} once a checkpoint with at least that id
 *       completed and a record passed since, so uncommitted output exists when the job restarts
 *       (ids, not a count per attempt: other faults restart the job, and a count would start
 *       over each time);
 *   <li>{@code inAsyncSnapshot}: fails the asynchronous part of that checkpoint, after every sink
 *       prepared its transaction for it and before the checkpoint can complete, so those prepared
 *       transactions must be rolled back and never committed.
 * </ul>
 *
 * Which faults have fired, and which checkpoints the job restarted from, is kept in {@link
 * Faults}, outside the job, since the job restarts.
 */
public final class FaultInjectingMap<T> extends RichMapFunction<T, T>
        implements CheckpointedFunction, CheckpointListener {

    private static final long serialVersionUID = 1L;

    private final String run;
    private final long afterCheckpoint;
    private final long inAsyncSnapshot;
    private final long nanosPerRecord;

    private transient ListState<Integer> poisonable;
    private transient long lastCompletedCheckpoint;
    private transient long sinceCheckpoint;
    private transient long nextRecordAt;

    /**
     * @param recordsPerSecond per subtask; 0 for no throttling
     * @param afterCheckpoint fail after a checkpoint with at least this id completed (0: never)
     * @param inAsyncSnapshot fail the async phase of the first checkpoint with at least this id
     *     (0: never)
     */
    public FaultInjectingMap(String run, int recordsPerSecond, long afterCheckpoint, long inAsyncSnapshot) {
        this.run = run;
        this.afterCheckpoint = afterCheckpoint;
        this.inAsyncSnapshot = inAsyncSnapshot;
        this.nanosPerRecord = recordsPerSecond == 0 ? 0 : 1_000_000_000L / recordsPerSecond;
    }

    private boolean injecting() {
        return getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0;
    }

    @Override
    public T map(T value) {
        if (nanosPerRecord > 0) {
            long now = System.nanoTime();
            if (nextRecordAt > now) {
                LockSupport.parkNanos(nextRecordAt - now);
            }
            nextRecordAt = Math.max(now, nextRecordAt) + nanosPerRecord;
        }
        if (injecting()
                && afterCheckpoint > 0
                && lastCompletedCheckpoint >= afterCheckpoint
                && sinceCheckpoint > 0
                && Faults.fire(run, "after-checkpoint")) {
            throw new InjectedFault("after checkpoint " + lastCompletedCheckpoint + " completed");
        }
        sinceCheckpoint++;
        Faults.pass(run);
        return value;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        lastCompletedCheckpoint = Math.max(lastCompletedCheckpoint, checkpointId);
        sinceCheckpoint = 0;
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        poisonable.clear();
        if (injecting()
                && inAsyncSnapshot > 0
                && context.getCheckpointId() >= inAsyncSnapshot
                && Faults.fire(run, "async-snapshot")) {
            poisonable.add(FailingSerializer.POISON);
        } else {
            poisonable.add(1);
        }
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        poisonable =
                context.getOperatorStateStore()
                        .getListState(new ListStateDescriptor<>("fault-injection", new FailingSerializer()));
        if (injecting() && getRuntimeContext().getTaskInfo().getAttemptNumber() > 0) {
            // Checkpoint ids start at 1: a restart before any completed checkpoint restarts from 0.
            Faults.restored(run, context.getRestoredCheckpointId().orElse(0));
        }
    }

    /** A failure the test planted. */
    public static final class InjectedFault extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InjectedFault(String message) {
            super("Injected fault: " + message);
        }
    }

    /** Serializes nothing, except that it throws on {@link #POISON}: in a snapshot's async phase. */
    public static final class FailingSerializer extends TypeSerializerSingleton<Integer> {
        private static final long serialVersionUID = 1L;
        static final int POISON = -1;

        @Override
        public boolean isImmutableType() {
            return true;
        }

        @Override
        public Integer createInstance() {
            return 1;
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
            return 0;
        }

        @Override
        public void serialize(Integer record, DataOutputView target) {
            if (record == POISON) {
                throw new InjectedFault("in the asynchronous phase of a checkpoint");
            }
        }

        @Override
        public Integer deserialize(DataInputView source) {
            return 1;
        }

        @Override
        public Integer deserialize(Integer reuse, DataInputView source) {
            return 1;
        }

        @Override
        public void copy(DataInputView source, DataOutputView target) {}

        @Override
        public TypeSerializerSnapshot<Integer> snapshotConfiguration() {
            return new FailingSerializerSnapshot();
        }
    }

    /** Snapshot of {@link FailingSerializer}. */
    public static final class FailingSerializerSnapshot extends SimpleTypeSerializerSnapshot<Integer> {
        public FailingSerializerSnapshot() {
            super(FailingSerializer::new);
        }
    }
}
