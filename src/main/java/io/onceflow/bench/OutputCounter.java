package io.onceflow.bench;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Counts what an outside reader sees of a job's output topics: a {@code read_committed} consumer
 * from the beginning of every partition, in its own thread, so a record counts only once its
 * transaction committed (with exactly-once sinks, once the checkpoint that wrote it completed).
 * Optionally hands every record to a callback (the latency runs decode results there).
 */
final class OutputCounter implements AutoCloseable {

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AtomicLong count = new AtomicLong();
    private final Consumer<ConsumerRecord<byte[], byte[]>> onRecord;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;

    OutputCounter(String bootstrapServers, List<String> topics, Consumer<ConsumerRecord<byte[], byte[]>> onRecord) {
        this.onRecord = onRecord;
        this.consumer = new KafkaConsumer<>(
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : topics) {
            consumer.partitionsFor(topic, Duration.ofSeconds(30))
                    .forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        this.thread = new Thread(this::run, "bench-output-counter");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            while (running) {
                var records = consumer.poll(Duration.ofMillis(50));
                if (onRecord != null) {
                    records.forEach(onRecord);
                }
                count.addAndGet(records.count());
            }
        } catch (org.apache.kafka.common.errors.WakeupException e) {
            // closing
        } catch (Throwable t) {
            failure = t;
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    long count() {
        if (failure != null) {
            throw new IllegalStateException("The output consumer failed: " + failure, failure);
        }
        return count.get();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        thread.join(10_000);
    }
}
