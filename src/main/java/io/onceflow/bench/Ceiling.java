package io.onceflow.bench;

import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.records.SingleObjectCodec;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The ceiling: one plain {@code read_committed} KafkaConsumer that reads a topic from the start
 * and decodes every value as fast as it can, on one thread, with nothing else running. No job can
 * read the same topic faster on this machine; the jobs' rates are reported as a share of it.
 */
final class Ceiling {

    private Ceiling() {}

    /** Decodes a payment request value (Avro single-object); false when it is no such record. */
    static Predicate<byte[]> paymentDecoder() {
        SingleObjectCodec codec = SingleObjectCodec.forTopicRecords();
        return value -> {
            try {
                return value != null && codec.decode(value, PaymentRequest.class) != null;
            } catch (RuntimeException e) {
                return false;
            }
        };
    }

    /** Parses an analytics event value (JSON) into a tree; false when it is not JSON. */
    static Predicate<byte[]> jsonDecoder() {
        ObjectMapper json = new ObjectMapper();
        return value -> {
            try {
                return value != null && json.readTree(value) != null;
            } catch (Exception e) {
                return false;
            }
        };
    }

    record Result(long records, long decoded, double seconds, Machine.Sample start, Machine.Sample end) {}

    static Result run(String bootstrapServers, String topic, long records, Predicate<byte[]> decode) {
        try (var consumer = new KafkaConsumer<byte[], byte[]>(
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000,
                        ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 64 * 1024 * 1024,
                        ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Machine.Sample start = Machine.Sample.beforeRow();
            long read = 0;
            long decoded = 0;
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
            while (read < records && System.nanoTime() < deadline) {
                for (var record : consumer.poll(Duration.ofMillis(100))) {
                    read++;
                    if (decode.test(record.value())) {
                        decoded++;
                    }
                }
            }
            Machine.Sample end = Machine.Sample.now();
            return new Result(read, decoded, end.secondsSince(start), start, end);
        }
    }
}
