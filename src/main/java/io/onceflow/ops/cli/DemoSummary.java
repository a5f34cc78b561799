package io.onceflow.ops.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.onceflow.payments.PaymentsConfig;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.postgres.PostgresEndpoint;
import io.onceflow.records.SingleObjectCodec;

import org.apache.flink.api.common.JobID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What the demo prints: counts of committed results by status, dead letters, rows in {@code
 * payments} and completed checkpoints, read the way an outside system would see them (a
 * read_committed consumer, SQL, Flink's REST API), so the numbers show what was really committed.
 */
final class DemoSummary implements AutoCloseable {

    private static final String FORMAT = "%6s %8s %6s %8s %6s %9s %8s %8s %9s %6s %5s %8s %6s%n";

    private final PaymentsConfig config;
    private final PostgresEndpoint postgres;
    private final JobID job;
    private final int restPort;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final SingleObjectCodec codec = SingleObjectCodec.forTopicRecords();
    private final Map<PaymentStatus, Long> byStatus = new EnumMap<>(PaymentStatus.class);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final ObjectMapper json = new ObjectMapper();
    private long results;
    private long deadLetters;
    private long lastSent;
    private long lastResults;
    private long lastLineAt = System.nanoTime();

    DemoSummary(PaymentsConfig config, PostgresEndpoint postgres, JobID job, int restPort) {
        this.config = config;
        this.postgres = postgres;
        this.job = job;
        this.restPort = restPort;
        this.consumer =
                new KafkaConsumer<>(
                        Map.of(
                                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().bootstrapServers(),
                                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                        new ByteArrayDeserializer(),
                        new ByteArrayDeserializer());
        // Assigned, not subscribed: no group to join, so counts start with the first poll.
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : List.of(config.topics().results(), config.topics().deadLetters())) {
            consumer.partitionsFor(topic, Duration.ofSeconds(30))
                    .forEach(info -> partitions.add(new TopicPartition(topic, info.partition())));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        for (PaymentStatus status : PaymentStatus.values()) {
            byStatus.put(status, 0L);
        }
    }

    void printHeader(PrintWriter out) {
        out.printf(FORMAT, "time", "sent", "req/s", "results", "res/s", "COMPLETED", "DECLINED",
                "REJECTED", "DUPLICATE", "FAILED", "DLQ", "db rows", "ckpts");
    }

    private void poll(Duration budget) {
        long deadline = System.nanoTime() + budget.toNanos();
        do {
            for (var record : consumer.poll(Duration.ofMillis(100))) {
                if (record.topic().equals(config.topics().deadLetters())) {
                    deadLetters++;
                } else {
                    try {
                        PaymentResult result = codec.decode(record.value(), PaymentResult.class);
                        byStatus.merge(result.getStatus(), 1L, Long::sum);
                        results++;
                    } catch (RuntimeException unreadable) {
                        // Another producer's record on the results topic; not the job's.
                    }
                }
            }
        } while (System.nanoTime() < deadline);
    }

    void printLine(PrintWriter out, long sent, long startedAt) {
        poll(Duration.ofMillis(300));
        long now = System.nanoTime();
        double seconds = Math.max(0.001, (now - lastLineAt) / 1e9);
        long elapsed = TimeUnit.NANOSECONDS.toSeconds(now - startedAt);
        out.printf(
                FORMAT,
                String.format("%d:%02d", elapsed / 60, elapsed % 60),
                sent,
                Math.round((sent - lastSent) / seconds),
                results,
                Math.round((results - lastResults) / seconds),
                byStatus.get(PaymentStatus.COMPLETED),
                byStatus.get(PaymentStatus.DECLINED),
                byStatus.get(PaymentStatus.REJECTED),
                byStatus.get(PaymentStatus.DUPLICATE),
                byStatus.get(PaymentStatus.FAILED),
                deadLetters,
                paymentRows(),
                completedCheckpoints());
        out.flush();
        lastSent = sent;
        lastResults = results;
        lastLineAt = now;
    }

    /** Waits until every record sent has a committed result or dead letter; false on timeout. */
    boolean awaitAllAnswered(long sent, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (results + deadLetters < sent && System.nanoTime() < deadline) {
            poll(Duration.ofMillis(500));
        }
        return results + deadLetters >= sent;
    }

    void printTotals(PrintWriter out, long sent, boolean caughtUp, String savepoint) {
        out.println();
        out.printf("Sent %d requests; %d committed results and %d dead letters%s.%n",
                sent, results, deadLetters,
                caughtUp ? ", one per request" : " so far (the job had not caught up when the demo stopped)");
        out.printf("Results by status: %s%n", byStatus);
        out.printf("Rows in payments (COMPLETED and DECLINED, one per payment): %d%n", paymentRows());
        out.println(savepoint != null
                ? "Job stopped with savepoint " + savepoint + "; the next demo run resumes from it."
                : "Job cancelled without a savepoint; the next demo run starts from the committed Kafka offsets.");
    }

    private long paymentRows() {
        try (Connection connection = postgres.connect();
                Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT count(*) FROM payments")) {
            rows.next();
            return rows.getLong(1);
        } catch (Exception e) {
            return -1;
        }
    }

    private long completedCheckpoints() {
        try {
            HttpResponse<String> response =
                    http.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + restPort + "/jobs/" + job + "/checkpoints"))
                                    .timeout(Duration.ofSeconds(2))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            JsonNode counts = json.readTree(response.body()).path("counts");
            return counts.path("completed").asLong(-1);
        } catch (Exception e) {
            return -1;
        }
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}
