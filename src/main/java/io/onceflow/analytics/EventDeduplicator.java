package io.onceflow.analytics;

import io.onceflow.analytics.model.AnalyticsRecord;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.time.Duration;

/**
 * Keyed by {@code eventId}: the first event with an id goes on, repeats within the TTL (SDK
 * retries) are dropped and counted ({@code duplicates}). The state is one marker per id, with a
 * processing-time TTL from its first write; RocksDB drops expired markers in compaction, the
 * heap backend while it accesses state, so nothing needs a timer per id.
 *
 * <p>Pitfall: a retry later than the TTL is taken as a new event (and counted twice downstream);
 * set the TTL above the longest time SDKs keep retrying. Dedup is by id only: a second event
 * with the same id and other content is dropped too, since the first one wins.
 */
public final class EventDeduplicator extends KeyedProcessFunction<String, AnalyticsRecord, AnalyticsRecord> {

    private static final long serialVersionUID = 1L;

    private final Duration ttl;
    private transient ValueState<Boolean> seen;
    private transient Counter duplicates;

    public EventDeduplicator(Duration ttl) {
        this.ttl = ttl;
    }

    @Override
    public void open(OpenContext openContext) {
        ValueStateDescriptor<Boolean> descriptor = new ValueStateDescriptor<>("seen", Types.BOOLEAN);
        descriptor.enableTimeToLive(
                StateTtlConfig.newBuilder(ttl)
                        .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                        .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                        .cleanupIncrementally(10, false)
                        .cleanupInRocksdbCompactFilter(1000)
                        .build());
        seen = getRuntimeContext().getState(descriptor);
        duplicates = getRuntimeContext().getMetricGroup().counter("duplicates");
    }

    @Override
    public void processElement(AnalyticsRecord record, Context context, Collector<AnalyticsRecord> out)
            throws Exception {
        if (seen.value() != null) {
            duplicates.inc();
            return;
        }
        seen.update(true);
        out.collect(record);
    }
}
