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
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

import java.time.Instant;
import java.util.HashMap;
import java.util.TreeMap;

/**
 * The real-time aggregates: per event type, event-time tumbling windows (one minute by default)
 * with allowed lateness, each giving the number of events, the distinct users ({@link
 * EventTypes#actor}: userId, else anonymousId) and, for purchases, revenue per currency.
 *
 * <p>Every firing is an {@link AnalyticsMinute}: the on-time firing when the watermark passes the
 * window's end, and a re-firing with the updated totals for each event that arrives within the
 * allowed lateness, numbered by {@code firing}. The sink upserts them by (type, window start), so
 * the row holds the latest totals. Once the watermark passes end + allowed lateness, Flink drops
 * the window's state and timers; {@link LatenessMarker} keeps later events away from here.
 *
 * <p>Distinct users are counted exactly, with a set per window: memory and the per-event cost of
 * RocksDB's read-modify-write grow with the distinct users of one type in one minute. That is
 * fine to tens of thousands; beyond, a HyperLogLog sketch would bound it at the price of an
 * estimate that no batch recomputation can check exactly.
 */
public final class MinuteAggregates {

    private MinuteAggregates() {}

    /** Aggregates {@code onTime} (events not marked late) per type and window. */
    public static SingleOutputStreamOperator<AnalyticsMinute> apply(
            DataStream<AnalyticsRecord> onTime, AnalyticsConfig.Windows settings) {
        return onTime.keyBy(MinuteAggregates::typeOf, Types.STRING)
                .window(TumblingEventTimeWindows.of(settings.size()))
                .allowedLateness(settings.allowedLateness())
                .aggregate(
                        new Accumulate(),
                        new Firing(),
                        new AvroTypeInfo<>(MinuteAccumulator.class),
                        new AvroTypeInfo<>(MinuteAccumulator.class),
                        new AvroTypeInfo<>(AnalyticsMinute.class));
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
