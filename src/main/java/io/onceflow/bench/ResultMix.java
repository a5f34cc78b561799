package io.onceflow.bench;

import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.records.SingleObjectCodec;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * What a payments run answered, by status and, for rejections and failures, by reason: read from
 * its results topic after the run, outside the measured time. The mix decides what a request
 * costs (a request rejected for its daily limit never reaches the gateway), so a run's CPU per
 * request compares with another's only if their mixes are alike.
 */
final class ResultMix {

    private ResultMix() {}

    /** Counts of the committed results in {@code topic} by {@link #outcome}, largest first. */
    static Map<String, Long> read(String bootstrapServers, String topic, Duration timeout) {
        SingleObjectCodec codec = SingleObjectCodec.forTopicRecords();
        Map<String, Long> counts = new HashMap<>();
        try (var consumer = new KafkaConsumer<>(
                Map.<String, Object>of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic, timeout).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            // With read_committed these are the last stable offsets: everything committed by now.
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!readTo(consumer, end)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Could not read " + topic + " to its end within " + timeout);
                }
                consumer.poll(Duration.ofMillis(200)).forEach(record ->
                        counts.merge(outcome(codec.decode(record.value(), PaymentResult.class)), 1L, Long::sum));
            }
        }
        return largestFirst(counts);
    }

    private static boolean readTo(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        return end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
    }

    /** A result's status, with its reason when it was rejected or failed. */
    static String outcome(PaymentResult result) {
        PaymentStatus status = result.getStatus();
        boolean withReason = (status == PaymentStatus.REJECTED || status == PaymentStatus.FAILED) && result.getReason() != null;
        return withReason ? status + " " + result.getReason() : status.name();
    }

    /**
     * One line: the share the gateway decided (completed and declined), then every outcome's share
     * of all results, largest first.
     */
    static String describe(Map<String, Long> outcomes) {
        long total = outcomes.values().stream().mapToLong(Long::longValue).sum();
        if (total == 0) {
            return "no results read";
        }
        long decided = outcomes.getOrDefault(PaymentStatus.COMPLETED.name(), 0L)
                + outcomes.getOrDefault(PaymentStatus.DECLINED.name(), 0L);
        StringJoiner shares = new StringJoiner(", ");
        outcomes.forEach((outcome, count) -> shares.add(outcome + " " + share(count, total)));
        return String.format(Locale.ROOT, "%,d results; decided by the gateway %s (%s)", total, share(decided, total), shares);
    }

    private static String share(long count, long total) {
        return String.format(Locale.ROOT, "%.1f%%", 100.0 * count / total);
    }

    private static Map<String, Long> largestFirst(Map<String, Long> counts) {
        Map<String, Long> sorted = new LinkedHashMap<>();
        counts.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }
}
