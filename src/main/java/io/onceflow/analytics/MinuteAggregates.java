package io.onceflow.analytics;

import io.onceflow.analytics.events.Purchase;
import io.onceflow.analytics.model.AnalyticsMinute;
import io.onceflow.analytics.model.AnalyticsRecord;
import io.onceflow.analytics.model.MinuteAccumulator;

import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.typeutils.TupleTypeInfo;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The real-time aggregates: per event type, event-time tumbling windows (one minute by default)
 * with allowed lateness, each giving the number of events, the distinct users ({@link
 * EventTypes#actor}: userId, else anonymousId) and, for purchases, revenue per currency.
 *
 * <p>Every firing is an {@link AnalyticsMinute}: the on-time firing when the watermark passes the
 * window's end, and a re-firing with the updated totals for each partial of events that arrive within the
 * allowed lateness, numbered by {@code firing}. The sink upserts them by (type, window start), so
 * the row holds the latest totals. Once the watermark passes end + allowed lateness, Flink drops
 * the window's state and timers; {@link LatenessMarker} keeps later events away from here.
 *
 * <p>Distinct users are counted exactly, with a set per window: memory and the cost of RocksDB's
 * read-modify-write of it grow with the distinct users of one type in one minute. The
 * pre-aggregation pays that cost once per partial (per subtask, type and window, at each
 * watermark and checkpoint) instead of once per event. That is fine to tens of thousands of users;
 * beyond, a HyperLogLog sketch would bound it at the price of an estimate that no batch
 * recomputation can check exactly.
 */
public final class MinuteAggregates {

    private MinuteAggregates() {}

    /** Uid of the per-subtask pre-aggregation in front of the windows (stateless). */
    public static final String PRE_AGGREGATE_UID = "analytics-minute-pre-aggregates";

    /**
     * Aggregates {@code onTime} (events not marked late) per type and window. Each subtask first
     * adds its events up per (type, window) in memory ({@link PreAggregator}) and hands the partial
     * totals to the windows at every watermark and before every checkpoint barrier, so the keyed
     * window state (RocksDB) is read and rewritten once per partial instead of once per event: the
     * distinct-users set makes that read-modify-write cost grow with the users of a minute, and
     * per event it was most of the job's CPU (JFR, {@code onceflow bench}).
     */
    public static SingleOutputStreamOperator<AnalyticsMinute> apply(
            DataStream<AnalyticsRecord> onTime, AnalyticsConfig.Windows settings) {
        AvroTypeInfo<MinuteAccumulator> accumulatorType = new AvroTypeInfo<>(MinuteAccumulator.class);
        return onTime.transform(
                        "Minute pre-aggregates per subtask",
                        new TupleTypeInfo<Tuple2<String, MinuteAccumulator>>(Types.STRING, accumulatorType),
                        new PreAggregator(settings.size().toMillis()))
                .uid(PRE_AGGREGATE_UID)
                .keyBy(partial -> partial.f0, Types.STRING)
                .window(TumblingEventTimeWindows.of(settings.size()))
                .allowedLateness(settings.allowedLateness())
                .aggregate(
                        new MergePartials(),
                        new Firing(),
                        accumulatorType,
                        accumulatorType,
                        new AvroTypeInfo<>(AnalyticsMinute.class));
    }

    /**
     * Adds events up per (type, window start) in memory and emits the partial totals, each stamped
     * with its window's last millisecond, before forwarding a watermark, before a checkpoint barrier
     * and at the end of input. Nothing is held across a checkpoint, so it has no state; and since
     * every event is emitted before the watermark that follows it, the windows classify it on time
     * or late exactly as they would the event itself. Several late events of one window between two
     * watermarks become one partial, so they re-fire the window once, with all of them.
     */
    static final class PreAggregator extends AbstractStreamOperator<Tuple2<String, MinuteAccumulator>>
            implements OneInputStreamOperator<AnalyticsRecord, Tuple2<String, MinuteAccumulator>> {
        private static final long serialVersionUID = 1L;

        private final long windowSize;
        private transient Map<Long, Map<String, MinuteAccumulator>> partials;
        private transient Accumulate accumulate;

        PreAggregator(long windowSize) {
            this.windowSize = windowSize;
        }

        @Override
        public void open() throws Exception {
            super.open();
            partials = new HashMap<>();
            accumulate = new Accumulate();
        }

        @Override
        public void processElement(StreamRecord<AnalyticsRecord> element) {
            long start = TimeWindow.getWindowStartWithOffset(element.getTimestamp(), 0, windowSize);
            AnalyticsRecord record = element.getValue();
            MinuteAccumulator partial = partials.computeIfAbsent(start, s -> new HashMap<>())
                    .computeIfAbsent(typeOf(record), t -> accumulate.createAccumulator());
            accumulate.add(record, partial);
        }

        @Override
        public void processWatermark(Watermark mark) throws Exception {
            flush();
            super.processWatermark(mark);
        }

        @Override
        public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
            flush();
            super.prepareSnapshotPreBarrier(checkpointId);
        }

        @Override
        public void finish() throws Exception {
            flush();
            super.finish();
        }

        private void flush() {
            if (partials.isEmpty()) {
                return;
            }
            partials.forEach((start, byType) -> byType.forEach((type, partial) ->
                    output.collect(new StreamRecord<>(Tuple2.of(type, partial), start + windowSize - 1))));
            partials.clear();
        }
    }

    /** Adds partial totals into the window's totals. */
    static final class MergePartials
            implements AggregateFunction<Tuple2<String, MinuteAccumulator>, MinuteAccumulator, MinuteAccumulator> {
        private static final long serialVersionUID = 1L;
        private final Accumulate accumulate = new Accumulate();

        @Override
        public MinuteAccumulator createAccumulator() {
            return accumulate.createAccumulator();
        }

        @Override
        public MinuteAccumulator add(Tuple2<String, MinuteAccumulator> partial, MinuteAccumulator accumulator) {
            return accumulate.merge(accumulator, partial.f1);
        }

        @Override
        public MinuteAccumulator getResult(MinuteAccumulator accumulator) {
            return accumulator;
        }

        @Override
        public MinuteAccumulator merge(MinuteAccumulator a, MinuteAccumulator b) {
            return accumulate.merge(a, b);
        }
    }

    static String typeOf(AnalyticsRecord record) {
        return EventTypes.type(EventTypes.event(record));
    }

    /** Counts, users and revenue of one window, added to in place. */
    static final class Accumulate implements AggregateFunction<AnalyticsRecord, MinuteAccumulator, MinuteAccumulator> {
        private static final long serialVersionUID = 1L;

        @Override
        public MinuteAccumulator createAccumulator() {
            return MinuteAccumulator.newBuilder()
                    .setEvents(0)
                    .setUsers(new HashMap<>())
                    .setRevenueByCurrency(new HashMap<>())
                    .build();
        }

        @Override
        public MinuteAccumulator add(AnalyticsRecord record, MinuteAccumulator accumulator) {
            SpecificRecord event = EventTypes.event(record);
            accumulator.setEvents(accumulator.getEvents() + 1);
            accumulator.getUsers().put(EventTypes.actor(event), true);
            if (event instanceof Purchase purchase) {
                accumulator.getRevenueByCurrency().merge(
                        purchase.getProperties().getCurrency(),
                        purchase.getProperties().getRevenueMinor(),
                        Long::sum);
            }
            return accumulator;
        }

        @Override
        public MinuteAccumulator getResult(MinuteAccumulator accumulator) {
            return accumulator;
        }

        @Override
        public MinuteAccumulator merge(MinuteAccumulator a, MinuteAccumulator b) {
            a.setEvents(a.getEvents() + b.getEvents());
            a.getUsers().putAll(b.getUsers());
            b.getRevenueByCurrency().forEach((currency, minor) -> a.getRevenueByCurrency().merge(currency, minor, Long::sum));
            return a;
        }
    }

    /** Turns a window's totals into a row, numbering the firings of the window. */
    static final class Firing extends ProcessWindowFunction<MinuteAccumulator, AnalyticsMinute, String, TimeWindow> {
        private static final long serialVersionUID = 1L;

        private final ValueStateDescriptor<Integer> firingsDescriptor = new ValueStateDescriptor<>("firings", Types.INT);

        @Override
        public void process(
                String type, Context context, Iterable<MinuteAccumulator> totals, Collector<AnalyticsMinute> out)
                throws Exception {
            ValueState<Integer> firings = context.windowState().getState(firingsDescriptor);
            int firing = firings.value() == null ? 1 : firings.value() + 1;
            firings.update(firing);
            MinuteAccumulator total = totals.iterator().next();
            out.collect(
                    AnalyticsMinute.newBuilder()
                            .setEventType(type)
                            .setWindowStart(Instant.ofEpochMilli(context.window().getStart()))
                            .setEvents(total.getEvents())
                            .setUniqueUsers(total.getUsers().size())
                            .setRevenueByCurrency(new TreeMap<>(total.getRevenueByCurrency()))
                            .setFiring(firing)
                            .build());
        }

        @Override
        public void clear(Context context) {
            context.windowState().getState(firingsDescriptor).clear();
        }
    }
}
