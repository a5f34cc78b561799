package io.onceflow.bench;

import io.onceflow.ingest.TopicRange;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.records.SingleObjectCodec;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
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

    /**
     * Counts of the committed results in {@code topic} by {@link #outcome}, largest first; fails
     * when reading stalls for {@code stall}.
     */
    static Map<String, Long> read(String bootstrapServers, String topic, Duration stall) {
        SingleObjectCodec codec = SingleObjectCodec.forTopicRecords();
        Map<String, Long> counts = new HashMap<>();
        try (var consumer = TopicRange.consumer(bootstrapServers, Map.of())) {
            TopicRange.of(consumer, topic, Instant.EPOCH, null).read(consumer, stall, record ->
                    counts.merge(outcome(codec.decode(record.value(), PaymentResult.class)), 1L, Long::sum));
        }
        return largestFirst(counts);
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
