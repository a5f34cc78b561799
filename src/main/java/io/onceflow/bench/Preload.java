package io.onceflow.bench;

import io.onceflow.local.AnalyticsWorkload;
import io.onceflow.local.PaymentWorkload;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Writes the benchmark's input into the broker before any job runs, and notes what each job must
 * produce from it, so a run can be watched until it drained the input. The records come from the
 * project's workload generators: payments with ~5% client retries (same key and payload), key
 * reuse, undecodable and invalid records, unknown customers and a skew towards a few customers;
 * analytics events as SDKs send them with ~5% SDK retries, ~4% invalid, ~3% late, skewed users.
 */
final class Preload {

    /** What was written and what must come out. */
    record Loaded(
            String topic,
            long records,
            long bytes,
            long expectedOutputs,
            long distinctPaymentKeys,
            long preloadMillis) {

        double megabytes() {
            return bytes / 1e6;
        }
    }

    private Preload() {}

    private static KafkaProducer<byte[], byte[]> producer(String bootstrapServers) {
        return new KafkaProducer<>(
                Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                        ProducerConfig.ACKS_CONFIG, "all",
                        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                        ProducerConfig.LINGER_MS_CONFIG, 20,
                        ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024,
                        ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"),
                new ByteArraySerializer(),
                new ByteArraySerializer());
    }

    /**
     * {@code count} payment requests, requested now (they must pass the job's age check). Every
     * record gets exactly one output, a result or a dead letter: expected = count. The Flink SQL
     * peer writes one row per distinct (customer, key) of a decodable record.
     */
    static Loaded payments(String bootstrapServers, String topic, PaymentWorkload workload, long count) {
        long started = System.nanoTime();
        long bytes = 0;
        Set<String> distinct = new HashSet<>();
        try (var producer = producer(bootstrapServers)) {
            for (long i = 0; i < count; i++) {
                PaymentWorkload.Generated record = workload.next(Instant.now());
                bytes += record.key().length + record.value().length;
                if (record.request() != null) {
                    distinct.add(record.request().getCustomerId() + "\u0000" + record.request().getIdempotencyKey());
                }
                producer.send(new ProducerRecord<>(topic, record.key(), record.value()));
            }
            producer.flush();
        }
        return new Loaded(topic, count, bytes, count, distinct.size(), (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * {@code count} analytics events happening now. Outputs: one lake row per distinct valid event
     * (retries dropped) and one dead letter per invalid one.
     */
    static Loaded analytics(String bootstrapServers, String topic, AnalyticsWorkload workload, long count) {
        long started = System.nanoTime();
        long bytes = 0;
        long expected = 0;
        try (var producer = producer(bootstrapServers)) {
            for (long i = 0; i < count; i++) {
                AnalyticsWorkload.Generated event = workload.next(Instant.now());
                bytes += (event.key() == null ? 0 : event.key().length) + event.value().length;
                if (event.kind() != AnalyticsWorkload.Kind.RETRY) {
                    expected++;
                }
                producer.send(new ProducerRecord<>(topic, event.key(), event.value()));
            }
            producer.flush();
        }
        return new Loaded(topic, count, bytes, expected, 0, (System.nanoTime() - started) / 1_000_000);
    }
}
