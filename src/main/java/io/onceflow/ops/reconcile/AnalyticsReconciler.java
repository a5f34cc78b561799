package io.onceflow.ops.reconcile;

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

    public static ReconcileReport reconcile(AnalyticsConfig config, Instant from, Instant to, int examples) {
        var topics = config.topics();
        SingleObjectCodec codec = SingleObjectCodec.forTopicRecords();
        Map<String, String> idsByPosition = new HashMap<>();
        Set<String> deadLettered = new HashSet<>();
        TopicRange range;
        try (KafkaConsumer<byte[], byte[]> consumer = TopicRange.consumer(config.kafka().bootstrapServers(), config.kafka().properties())) {
            range = TopicRange.of(consumer, topics.events(), from, to);
            long[] oldest = {Long.MAX_VALUE};
            range.read(consumer, STALL, record -> {
                idsByPosition.put(PaymentsReconciler.key(record.partition(), record.offset()), eventId(record.value()));
                oldest[0] = Math.min(oldest[0], record.timestamp());
            });
            Instant since = oldest[0] == Long.MAX_VALUE ? from : Instant.ofEpochMilli(oldest[0]);
            TopicRange.of(consumer, topics.deadLetters(), since, null).read(consumer, STALL, record -> {
                SourcePosition source = codec.decode(record.value(), DeadLetter.class).getSource();
                if (range.contains(source.getTopic(), source.getPartition(), source.getOffset())) {
                    deadLettered.add(PaymentsReconciler.key(source.getPartition(), source.getOffset()));
                }
            });
        }
        Set<String> expected = new HashSet<>();
        Set<String> named = new HashSet<>();
        idsByPosition.forEach((position, id) -> {
            if (id != null) {
                named.add(id);
            }
            if (!deadLettered.contains(position)) {
                // Validation passed, so the record has an eventId.
                expected.add(Objects.requireNonNull(id, "a valid event without eventId at " + position));
            }
        });

        PostgresEndpoint postgres = config.postgres().endpoint();
        MinuteTotals windows = new MinuteTotals(config.windows().size());
        Map<String, Integer> lakeRows = new HashMap<>();
        Set<String> touched = new TreeSet<>();
        Instant[] span = {null, null};
        ReconcileReport.MinuteCheck minutes;
        try (LakeCatalog lake = LakeCatalog.open(config.lake(), config.lake().catalogEndpoint(config.postgres()))) {
            Table table = lake.table(LakeTables.ANALYTICS_EVENTS);
            LakeReader.forEach(table, Expressions.alwaysTrue(), row -> {
                String id = (String) row.getField("event_id");
                if (!named.contains(id)) {
                    return;
                }
                lakeRows.merge(id, 1, Integer::sum);
                if (expected.contains(id) && !Boolean.TRUE.equals(row.getField("late"))) {
                    touched.add(windows.keyOf(row));
                    Instant start = windows.windowStart(((OffsetDateTime) row.getField("occurred_at")).toInstant());
                    span[0] = span[0] == null || start.isBefore(span[0]) ? start : span[0];
                    span[1] = span[1] == null || start.isAfter(span[1]) ? start : span[1];
                }
            });
            minutes = span[0] == null
                    ? new ReconcileReport.MinuteCheck(0, 0, 0, List.of())
                    : checkMinutes(table, postgres, windows, touched, span[0], span[1].plus(config.windows().size()), examples);
        }
        List<StoreCheck> stores = List.of(StoreCheck.compare("lake " + LakeTables.ANALYTICS_EVENTS, expected, lakeRows, examples));
        return new ReconcileReport("analytics", range + " (" + deadLettered.size() + " dead letters)", idsByPosition.size(), stores, minutes,
                PostgresChecks.preparedTransactions(postgres));
    }

    /** The windows {@code touched}, recomputed from every non-late lake row in {@code [from, to)}, against the table. */
    private static ReconcileReport.MinuteCheck checkMinutes(
            Table table, PostgresEndpoint postgres, MinuteTotals windows, Set<String> touched, Instant from, Instant to, int examples) {
        LakeReader.forEach(table, Expressions.and(
                Expressions.greaterThanOrEqual("occurred_at", micros(from)),
                Expressions.lessThan("occurred_at", micros(to))), windows::add);
        Map<String, MinuteTotals.Minute> recomputed = windows.totals();
        Map<String, MinuteTotals.Minute> rows = MinuteTotals.table(postgres, from, to);
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
