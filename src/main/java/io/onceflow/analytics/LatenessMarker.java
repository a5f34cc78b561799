package io.onceflow.analytics;

import io.onceflow.analytics.model.AnalyticsRecord;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.time.Duration;
import java.util.List;

/**
 * Decides, in one place, which events are too late for the minute aggregates, and records the
 * decision on the event ({@code late}): late when its window's last timestamp plus the allowed
 * lateness is at or below the watermark, the window operator's own rule. The lake gets every
 * event with its flag; the windows get only the events not marked late. Counts {@code
 * lateEvents}.
 *
 * <p>Why here and not the window operator's late side output: watermarks are not checkpointed,
 * so which events are too late differs between runs and after each restore. Recording the
 * decision next to the event, in the same attempt that feeds the windows, is what makes {@code
 * analytics_minute} exactly the aggregate of the lake's non-late rows. The window operator after
 * the {@code keyBy} sees a watermark never ahead of this operator's (it is the minimum over its
 * inputs, and each input's watermark trails the records it already sent), so it drops nothing
 * this operator kept.
 *
 * <p>The watermark this operator judges by is checkpointed, as a floor. Flink restarts
 * watermarks from nothing after a restore, so without it events replayed after a restore would
 * be judged on time although their window was final and dropped before the checkpoint: the
 * window would be created anew from those events alone and its row in {@code analytics_minute}
 * overwritten with a partial total (the exactly-once test caught exactly that). The floor after
 * a restore is the lowest watermark any subtask had at the checkpoint (union state, so
 * rescaling works): the window operator, whose watermark is the minimum over these subtasks, had
 * at most that one, so every window it had dropped ends at or below the floor.
 */
public final class LatenessMarker extends AbstractStreamOperator<AnalyticsRecord>
        implements OneInputStreamOperator<AnalyticsRecord, AnalyticsRecord> {

    private static final long serialVersionUID = 1L;

    private final long windowSizeMillis;
    private final long allowedLatenessMillis;
    private transient Counter lateEvents;
    private transient ListState<Long> checkpointedWatermarks;
    private transient long watermark;

    public LatenessMarker(Duration windowSize, Duration allowedLateness) {
        this.windowSizeMillis = windowSize.toMillis();
        this.allowedLatenessMillis = allowedLateness.toMillis();
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        checkpointedWatermarks = context.getOperatorStateStore()
                .getUnionListState(new ListStateDescriptor<>("lateness-watermark", Types.LONG));
        long lowest = Long.MAX_VALUE;
        for (Long restored : checkpointedWatermarks.get()) {
            lowest = Math.min(lowest, restored);
        }
        watermark = lowest == Long.MAX_VALUE ? Long.MIN_VALUE : lowest;
    }

    @Override
    public void open() throws Exception {
        super.open();
        lateEvents = getMetricGroup().counter("lateEvents");
    }

    @Override
    public void processElement(StreamRecord<AnalyticsRecord> element) {
        long timestamp = element.getTimestamp();
        long windowEnd = TimeWindow.getWindowStartWithOffset(timestamp, 0, windowSizeMillis) + windowSizeMillis;
        boolean late = windowEnd - 1 + allowedLatenessMillis <= watermark;
        if (late) {
            lateEvents.inc();
        }
        element.getValue().setLate(late);
        output.collect(element);
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        watermark = Math.max(watermark, mark.getTimestamp());
        super.processWatermark(mark);
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        checkpointedWatermarks.update(List.of(watermark));
    }
}
