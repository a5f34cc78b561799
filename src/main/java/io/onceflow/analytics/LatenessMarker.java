package io.onceflow.analytics;

import io.onceflow.analytics.model.AnalyticsRecord;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

import java.time.Duration;

/**
 * Decides, in one place, which events are too late for the minute aggregates, and records the
 * decision on the event ({@code late}): late when its window's last timestamp plus the allowed
 * lateness is at or below the current watermark, the window operator's own rule. The lake gets
 * every event with its flag; the windows get only the events not marked late. Counts {@code
 * lateEvents}.
 *
 * <p>Why here and not the window operator's late side output: watermarks are not checkpointed,
 * so which events are too late differs between runs and after each restore. Recording the
 * decision next to the event, in the same attempt that feeds the windows, is what makes {@code
 * analytics_minute} exactly the aggregate of the lake's non-late rows. The window operator after
 * the {@code keyBy} sees a watermark never ahead of this operator's (it is the minimum over its
 * inputs, and each input's watermark trails the records it already sent), so it drops nothing
 * this operator kept.
 */
public final class LatenessMarker extends ProcessFunction<AnalyticsRecord, AnalyticsRecord> {

    private static final long serialVersionUID = 1L;

    private final long windowSizeMillis;
    private final long allowedLatenessMillis;
    private transient Counter lateEvents;

    public LatenessMarker(Duration windowSize, Duration allowedLateness) {
        this.windowSizeMillis = windowSize.toMillis();
        this.allowedLatenessMillis = allowedLateness.toMillis();
    }

    @Override
    public void open(OpenContext openContext) {
        lateEvents = getRuntimeContext().getMetricGroup().counter("lateEvents");
    }

    @Override
    public void processElement(AnalyticsRecord record, Context context, Collector<AnalyticsRecord> out) {
        long timestamp = context.timestamp();
        long windowEnd = TimeWindow.getWindowStartWithOffset(timestamp, 0, windowSizeMillis) + windowSizeMillis;
        long cleanupTime = windowEnd - 1 + allowedLatenessMillis;
        boolean late = cleanupTime <= context.timerService().currentWatermark();
        if (late) {
            lateEvents.inc();
        }
        record.setLate(late);
        out.collect(record);
    }
}
