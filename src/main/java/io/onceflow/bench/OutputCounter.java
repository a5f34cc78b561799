package io.onceflow.bench;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Counts what an outside reader sees of a job's output topics: a {@code read_committed} consumer
 * from the beginning of every partition, in its own thread, so a record counts only once its
 * transaction committed (with exactly-once sinks, once the checkpoint that wrote it completed).
 *
 * <p>Two ways to read. {@link #immediate} fetches whatever became visible as soon as it did, and
 * optionally hands every record to a callback (the latency runs decode results there).
 * {@link #batched} lets the broker hold each fetch until {@value #BATCH_BYTES} bytes are visible
 * or {@value #BATCH_WAIT_MS} ms passed: a reader that fetches as soon as anything is visible makes
 * many small fetches while outputs appear continuously (at-least-once) and few large ones when
 * they appear once per checkpoint (exactly-once), which charged at-least-once runs about 3 us
 * more CPU per record (broker and reader) than exactly-once ones on a 2-core machine.
 */
final class OutputCounter implements AutoCloseable {

    /** The name of the reading thread, so the CPU tables count it as the benchmark's own. */
    static final String THREAD_NAME = "bench-output-counter";
    static final int BATCH_BYTES = 256 * 1024;
    static final int BATCH_WAIT_MS = 100;

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AtomicLong count = new AtomicLong();
    private final Consumer<ConsumerRecord<byte[], byte[]>> onRecord;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;

    /** Reads each output as soon as it is visible; {@code onRecord} may be null. */
    static OutputCounter immediate(String bootstrapServers, List<String> topics,
            Consumer<ConsumerRecord<byte[], byte[]>> onRecord) {
        return new OutputCounter(bootstrapServers, topics, onRecord, Map.of());
    }

    /** Counts outputs in fetches of at least {@value #BATCH_BYTES} bytes or {@value #BATCH_WAIT_MS} ms. */
    static OutputCounter batched(String bootstrapServers, List<String> topics) {
        return new OutputCounter(bootstrapServers, topics, null, Map.of(
                ConsumerConfig.FETCH_MIN_BYTES_CONFIG, BATCH_BYTES,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, BATCH_WAIT_MS));
    }

    private OutputCounter(String bootstrapServers, List<String> topics, Consumer<ConsumerRecord<byte[], byte[]>> onRecord,
            Map<String, Object> fetching) {
        this.onRecord = onRecord;
        Map<String, Object> config = new HashMap<>(fetching);
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        this.consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : topics) {
            consumer.partitionsFor(topic, Duration.ofSeconds(30))
                    .forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        this.thread = new Thread(this::run, THREAD_NAME);
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
