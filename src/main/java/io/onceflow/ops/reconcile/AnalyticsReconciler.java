package io.onceflow.ops.reconcile;

import io.onceflow.ingest.TopicRange;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.onceflow.analytics.AnalyticsConfig;
import io.onceflow.lake.LakeCatalog;
import io.onceflow.lake.LakeReader;
import io.onceflow.lake.LakeTables;
import io.onceflow.postgres.PostgresEndpoint;
import io.onceflow.records.DeadLetter;
import io.onceflow.records.SingleObjectCodec;
import io.onceflow.records.SourcePosition;

import org.apache.iceberg.Table;
import org.apache.iceberg.expressions.Expressions;
import org.apache.kafka.clients.consumer.KafkaConsumer;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The analytics job's audit for a range of {@code analytics.events}:
 *
 * <ul>
 *   <li><b>expected</b>: the distinct {@code eventId}s of the range's records that are not in
 *       {@code analytics.dlq} (SDK retries share an id; the first wins, so each id once);
 *   <li>the lake's {@code analytics.events}: rows by {@code event_id}, among the ids the range's
 *       records name (valid or not: a row for an id only an invalid record carries is unexpected);
 *   <li>{@code analytics_minute}: every (type, window) that a present, non-late expected event
 *       falls in, against a recomputation over all the lake's non-late rows of those windows
 *       (a window also counts events from outside the range).
 * </ul>
 *
 * The lake is read in this process ({@link LakeReader}), the whole table for the id check: for
 * the tables of a test or a chaos run, not a year of events.
 */
public final class AnalyticsReconciler {

    private static final Duration STALL = Duration.ofMinutes(1);
    private static final ObjectMapper JSON = new ObjectMapper();

    private AnalyticsReconciler() {}

    /** The records of a range of {@code analytics.events}: each position's eventId (null when it has none). */
    public record RangeEvents(TopicRange range, Map<String, String> idsByPosition, long oldestTimestamp) {
        /** Every eventId the range's records name, valid or not. */
        public Set<String> named() {
            Set<String> named = new HashSet<>();
            idsByPosition.values().stream().filter(Objects::nonNull).forEach(named::add);
            return named;
        }
    }

    /** Reads the records of {@code range} (already resolved) and their eventIds. */
    public static RangeEvents read(KafkaConsumer<byte[], byte[]> consumer, TopicRange range) {
        Map<String, String> idsByPosition = new HashMap<>();
        long[] oldest = {Long.MAX_VALUE};
        range.read(consumer, STALL, record -> {
            idsByPosition.put(PaymentsReconciler.key(record.partition(), record.offset()), eventId(record.value()));
            oldest[0] = Math.min(oldest[0], record.timestamp());
        });
        return new RangeEvents(range, idsByPosition, oldest[0]);
    }

    /** What the lake holds of a set of eventIds: rows per id, and the windows their non-late rows fall in. */
    public record LakeEvents(Map<String, Integer> rowsById, Set<String> windows, Instant firstWindow, Instant lastWindow) {}

    /** Scans the lake table for the rows of {@code ids}; windows only of the rows whose id is in {@code windowsOf}. */
    public static LakeEvents lakeEvents(Table table, Set<String> ids, Set<String> windowsOf, MinuteTotals totals) {
        Map<String, Integer> rows = new HashMap<>();
        Set<String> windows = new TreeSet<>();
        Instant[] span = {null, null};
        LakeReader.forEach(table, Expressions.alwaysTrue(), row -> {
            String id = (String) row.getField("event_id");
            if (!ids.contains(id)) {
                return;
            }
            rows.merge(id, 1, Integer::sum);
            if (windowsOf.contains(id) && !Boolean.TRUE.equals(row.getField("late"))) {
                windows.add(totals.keyOf(row));
                Instant start = totals.windowStart(((OffsetDateTime) row.getField("occurred_at")).toInstant());
                span[0] = span[0] == null || start.isBefore(span[0]) ? start : span[0];
                span[1] = span[1] == null || start.isAfter(span[1]) ? start : span[1];
            }
        });
        return new LakeEvents(rows, windows, span[0], span[1]);
    }

    /** Adds every lake row of the windows starting in {@code [first, last]} to {@code totals}. */
    public static Map<String, MinuteTotals.Minute> recompute(Table table, MinuteTotals totals, Instant first, Instant last, Duration window) {
        LakeReader.forEach(table, Expressions.and(
                Expressions.greaterThanOrEqual("occurred_at", micros(first)),
                Expressions.lessThan("occurred_at", micros(last.plus(window)))), totals::add);
        return totals.totals();
    }

    public static ReconcileReport reconcile(AnalyticsConfig config, Instant from, Instant to, int examples) {
        var topics = config.topics();
        SingleObjectCodec codec = SingleObjectCodec.forTopicRecords();
        Set<String> deadLettered = new HashSet<>();
        RangeEvents events;
        try (KafkaConsumer<byte[], byte[]> consumer = TopicRange.consumer(config.kafka().bootstrapServers(), config.kafka().properties())) {
            TopicRange range = TopicRange.of(consumer, topics.events(), from, to);
            events = read(consumer, range);
            Instant since = events.oldestTimestamp() == Long.MAX_VALUE ? from : Instant.ofEpochMilli(events.oldestTimestamp());
            TopicRange.of(consumer, topics.deadLetters(), since, null).read(consumer, STALL, record -> {
                SourcePosition source = codec.decode(record.value(), DeadLetter.class).getSource();
                if (range.contains(source.getTopic(), source.getPartition(), source.getOffset())) {
                    deadLettered.add(PaymentsReconciler.key(source.getPartition(), source.getOffset()));
                }
            });
        }
        Set<String> expected = new HashSet<>();
        events.idsByPosition().forEach((position, id) -> {
            if (!deadLettered.contains(position)) {
                // Validation passed, so the record has an eventId.
                expected.add(Objects.requireNonNull(id, "a valid event without eventId at " + position));
            }
        });

        PostgresEndpoint postgres = config.postgres().endpoint();
        Duration window = config.windows().size();
        ReconcileReport.MinuteCheck minutes;
        LakeEvents lake;
        try (LakeCatalog catalog = LakeCatalog.open(config.lake(), config.lake().catalogEndpoint(config.postgres()))) {
            Table table = catalog.table(LakeTables.ANALYTICS_EVENTS);
            MinuteTotals totals = new MinuteTotals(window);
            lake = lakeEvents(table, events.named(), expected, totals);
            if (lake.firstWindow() == null) {
                minutes = new ReconcileReport.MinuteCheck(0, 0, 0, List.of());
            } else {
                Map<String, MinuteTotals.Minute> recomputed = recompute(table, totals, lake.firstWindow(), lake.lastWindow(), window);
                minutes = checkMinutes(recomputed, MinuteTotals.table(postgres, lake.firstWindow(), lake.lastWindow()), lake.windows(), examples);
            }
        }
        List<StoreCheck> stores = List.of(StoreCheck.compare("lake " + LakeTables.ANALYTICS_EVENTS, expected, lake.rowsById(), examples));
        return new ReconcileReport("analytics", events.range() + " (" + deadLettered.size() + " dead letters)", events.idsByPosition().size(),
                stores, minutes, PostgresChecks.preparedTransactions(postgres));
    }

    /** The rows of the {@code touched} windows against their recomputation. */
    static ReconcileReport.MinuteCheck checkMinutes(
            Map<String, MinuteTotals.Minute> recomputed, Map<String, MinuteTotals.Minute> rows, Set<String> touched, int examples) {
        long matching = 0;
        List<String> differing = new ArrayList<>();
        for (String key : touched) {
            MinuteTotals.Minute expected = recomputed.get(key);
            MinuteTotals.Minute row = rows.get(key);
            if (Objects.equals(expected, row)) {
                matching++;
            } else {
                differing.add(key + ": lake " + expected + ", table " + row);
            }
        }
        return new ReconcileReport.MinuteCheck(touched.size(), matching, differing.size(),
                differing.subList(0, Math.min(examples, differing.size())));
    }

    /** An instant as Iceberg's timestamp literal: microseconds since the epoch. */
    static long micros(Instant instant) {
        return java.util.concurrent.TimeUnit.SECONDS.toMicros(instant.getEpochSecond()) + instant.getNano() / 1000;
    }

    /** The record's {@code eventId}, or null when it is not a JSON object with one. */
    static String eventId(byte[] value) {
        if (value == null) {
            return null;
        }
        try {
            JsonNode node = JSON.readTree(value);
            JsonNode id = node == null ? null : node.get("eventId");
            return id != null && id.isTextual() ? id.asText() : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
