package io.onceflow.ops.cli;

import io.onceflow.analytics.AnalyticsConfig;
import io.onceflow.lake.LakeCatalog;
import io.onceflow.lake.LakeTables;
import io.onceflow.postgres.PostgresEndpoint;
import io.onceflow.records.DeadLetter;
import io.onceflow.records.SingleObjectCodec;

import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The analytics half of the demo's summary: events sent, rows committed to the lake table {@code
 * analytics.events} (from its current snapshot), dead letters by reason (a read_committed
 * consumer of {@code analytics.dlq}), rows of {@code analytics_minute} (SQL) and the lake's
 * commits (snapshots of {@code analytics.events} and {@code payments.results}), read as an
 * outside system sees them.
 */
final class AnalyticsSummary implements AutoCloseable {

    private static final String FORMAT = "%6s %8s %6s %9s %6s %8s %5s  %-11s %s%n";

    private final AnalyticsConfig config;
    private final PostgresEndpoint postgres;
    private final LakeCatalog lake;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final SingleObjectCodec codec = SingleObjectCodec.forTopicRecords();
    private final Map<String, Long> deadLettersByReason = new TreeMap<>();
    private long lastSent;
    private long lastLakeRows;
    private long lastLineAt = System.nanoTime();

    AnalyticsSummary(AnalyticsConfig config, PostgresEndpoint postgres, LakeCatalog lake) {
        this.config = config;
        this.postgres = postgres;
        this.lake = lake;
        this.consumer = new KafkaConsumer<>(
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().bootstrapServers(),
                        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        consumer.partitionsFor(config.topics().deadLetters(), Duration.ofSeconds(30))
                .forEach(info -> partitions.add(new TopicPartition(info.topic(), info.partition())));
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    void printHeader(PrintWriter out) {
        out.printf(FORMAT, "time", "events", "ev/s", "lake rows", "rows/s", "minutes", "DLQ", "lake commits", "DLQ by reason");
    }

    private void poll(Duration budget) {
        long deadline = System.nanoTime() + budget.toNanos();
        do {
            for (var record : consumer.poll(Duration.ofMillis(100))) {
                try {
                    deadLettersByReason.merge(codec.decode(record.value(), DeadLetter.class).getReason(), 1L, Long::sum);
                } catch (RuntimeException unreadable) {
                    // Another producer's record on the dead-letter topic; not the job's.
                }
            }
        } while (System.nanoTime() < deadline);
    }

    long deadLetters() {
        return deadLettersByReason.values().stream().mapToLong(Long::longValue).sum();
    }

    void printLine(PrintWriter out, long sent, long startedAt) {
        poll(Duration.ofMillis(200));
        long lakeRows = lakeRows();
        long now = System.nanoTime();
        double seconds = Math.max(0.001, (now - lastLineAt) / 1e9);
        long elapsed = TimeUnit.NANOSECONDS.toSeconds(now - startedAt);
        out.printf(
                FORMAT,
                String.format("%d:%02d", elapsed / 60, elapsed % 60),
                sent,
                Math.round((sent - lastSent) / seconds),
                lakeRows,
                Math.round((lakeRows - lastLakeRows) / seconds),
                minuteRows(),
                deadLetters(),
                snapshots(LakeTables.ANALYTICS_EVENTS) + "+" + snapshots(LakeTables.PAYMENT_RESULTS),
                deadLettersByReason.entrySet().stream()
                        .map(e -> e.getKey() + "=" + e.getValue())
                        .collect(Collectors.joining(" ")));
        out.flush();
        lastSent = sent;
        lastLakeRows = lakeRows;
        lastLineAt = now;
    }

    /** Waits until the lake and the dead letters hold {@code valid} and {@code invalid} events; false on timeout. */
    boolean awaitAllStored(long valid, long invalid, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while ((lakeRows() < valid || deadLetters() < invalid) && System.nanoTime() < deadline) {
            poll(Duration.ofMillis(500));
        }
        return lakeRows() >= valid && deadLetters() >= invalid;
    }

    void printTotals(PrintWriter out, long sent, long valid, boolean caughtUp, String savepoint) {
        out.println();
        out.printf("Sent %d analytics events (%d distinct valid ones); %d rows in the lake's analytics.events and %d dead letters%s.%n",
                sent, valid, lakeRows(), deadLetters(),
                caughtUp ? ", each once" : " so far (the job had not caught up when the demo stopped)");
        out.printf("Dead letters by reason: %s%n", deadLettersByReason);
        out.printf("Rows in analytics_minute (one per event type and minute): %d; lake commits: analytics.events %d, payments.results %d%n",
                minuteRows(), snapshots(LakeTables.ANALYTICS_EVENTS), snapshots(LakeTables.PAYMENT_RESULTS));
        out.println(savepoint != null
                ? "Analytics job stopped with savepoint " + savepoint + "; the next demo run resumes from it."
                : "Analytics job cancelled without a savepoint; the next demo run starts from the committed Kafka offsets.");
    }

    private long lakeRows() {
        try {
            Table table = lake.table(LakeTables.ANALYTICS_EVENTS);
            Snapshot current = table.currentSnapshot();
            return current == null ? 0 : Long.parseLong(current.summary().getOrDefault("total-records", "0"));
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private long snapshots(TableIdentifier identifier) {
        try {
            long n = 0;
            for (Snapshot ignored : lake.table(identifier).snapshots()) {
                n++;
            }
            return n;
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private long minuteRows() {
        try (Connection connection = postgres.connect();
                Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT count(*) FROM analytics_minute")) {
            rows.next();
            return rows.getLong(1);
        } catch (Exception e) {
            return -1;
        }
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}
