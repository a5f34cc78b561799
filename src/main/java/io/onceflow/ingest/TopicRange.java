package io.onceflow.ingest;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A time range of a topic as offsets, per partition: from the first record stamped at or after
 * {@code from} to the first stamped at or after {@code to} (exclusive), by Kafka's {@code
 * offsetsForTimes}; without {@code to}, to the end (the last stable offset, as a {@code
 * read_committed} consumer sees it). What {@code reconcile} audits and {@code replay} reruns.
 *
 * <p>Record timestamps are the producers' (CreateTime): a producer whose clock goes backwards can
 * put a record stamped before {@code from} after the start offset. The range is the offsets, so
 * the audit and the replay of a range always agree on which records it holds.
 */
public record TopicRange(String topic, List<Partition> partitions) {

    /** Offsets {@code [start, end)} of one partition. */
    public record Partition(int partition, long start, long end) {
        public long size() {
            return Math.max(0, end - start);
        }
    }

    public TopicRange {
        partitions = List.copyOf(partitions);
    }

    /** A consumer that reads only committed records, joins no group and commits nothing. */
    public static KafkaConsumer<byte[], byte[]> consumer(String bootstrapServers, Map<String, String> properties) {
        Map<String, Object> config = new HashMap<>(properties);
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** The offsets of {@code topic} whose records were stamped in {@code [from, to)}; {@code to} null: up to the end. */
    public static TopicRange of(Consumer<?, ?> consumer, String topic, Instant from, Instant to) {
        List<TopicPartition> partitions = partitionsOf(consumer, topic);
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(30));
        Map<TopicPartition, Long> starts = offsetsAt(consumer, partitions, from, ends);
        Map<TopicPartition, Long> stops = to == null ? ends : offsetsAt(consumer, partitions, to, ends);
        List<Partition> ranges = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            long start = starts.get(tp);
            ranges.add(new Partition(tp.partition(), start, Math.max(start, stops.get(tp))));
        }
        return new TopicRange(topic, ranges);
    }

    private static List<TopicPartition> partitionsOf(Consumer<?, ?> consumer, String topic) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
            throw new IllegalStateException("Topic " + topic + " does not exist.");
        }
        return infos.stream().map(i -> new TopicPartition(topic, i.partition()))
                .sorted((a, b) -> Integer.compare(a.partition(), b.partition())).toList();
    }

    private static Map<TopicPartition, Long> offsetsAt(
            Consumer<?, ?> consumer, List<TopicPartition> partitions, Instant time, Map<TopicPartition, Long> ends) {
        Map<TopicPartition, Long> query = new HashMap<>();
        partitions.forEach(tp -> query.put(tp, time.toEpochMilli()));
        Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(query, Duration.ofSeconds(30));
        Map<TopicPartition, Long> offsets = new HashMap<>();
        for (TopicPartition tp : partitions) {
            OffsetAndTimestamp at = found.get(tp);
            // No record stamped at or after the time: the range begins (or ends) at the end.
            offsets.put(tp, at == null ? ends.get(tp) : Math.min(at.offset(), ends.get(tp)));
        }
        return offsets;
    }

    /** Offsets in the range (control records of transactions included): an upper bound of its records. */
    public long size() {
        return partitions.stream().mapToLong(Partition::size).sum();
    }

    public boolean contains(int partition, long offset) {
        for (Partition p : partitions) {
            if (p.partition() == partition) {
                return offset >= p.start() && offset < p.end();
            }
        }
        return false;
    }

    public boolean contains(String topic, int partition, long offset) {
        return this.topic.equals(topic) && contains(partition, offset);
    }

    /**
     * The range as text, {@code topic:partition=start-end,...}: how the CLI hands a range it
     * resolved to a job, so both read the same offsets.
     */
    public String encode() {
        StringBuilder text = new StringBuilder(topic).append(':');
        for (int i = 0; i < partitions.size(); i++) {
            Partition p = partitions.get(i);
            text.append(i == 0 ? "" : ",").append(p.partition()).append('=').append(p.start()).append('-').append(p.end());
        }
        return text.toString();
    }

    /** Reads {@link #encode()}'s form. */
    public static TopicRange decode(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("A topic range is topic:partition=start-end,..., not " + text);
        }
        List<Partition> partitions = new ArrayList<>();
        String rest = text.substring(colon + 1);
        if (!rest.isEmpty()) {
            for (String part : rest.split(",")) {
                String[] pe = part.split("=", 2);
                String[] se = pe.length == 2 ? pe[1].split("-", 2) : new String[0];
                if (se.length != 2) {
                    throw new IllegalArgumentException("A topic range is topic:partition=start-end,..., not " + text);
                }
                partitions.add(new Partition(Integer.parseInt(pe[0]), Long.parseLong(se[0]), Long.parseLong(se[1])));
            }
        }
        return new TopicRange(text.substring(0, colon), partitions);
    }

    /** start → end offsets, for a bounded source. */
    public Map<Integer, Long> starts() {
        Map<Integer, Long> starts = new TreeMap<>();
        partitions.forEach(p -> starts.put(p.partition(), p.start()));
        return starts;
    }

    public Map<Integer, Long> ends() {
        Map<Integer, Long> ends = new TreeMap<>();
        partitions.forEach(p -> ends.put(p.partition(), p.end()));
        return ends;
    }

    /**
     * Reads every committed record of the range with {@code consumer} (assigned, so it joins no
     * group). Fails when no record arrives for {@code stall} while offsets remain.
     */
    public void read(Consumer<byte[], byte[]> consumer, Duration stall, java.util.function.Consumer<ConsumerRecord<byte[], byte[]>> action) {
        Map<TopicPartition, Long> remaining = new HashMap<>();
        for (Partition p : partitions) {
            if (p.size() > 0) {
                remaining.put(new TopicPartition(topic, p.partition()), p.end());
            }
        }
        if (remaining.isEmpty()) {
            return;
        }
        consumer.assign(remaining.keySet());
        for (Partition p : partitions) {
            if (p.size() > 0) {
                consumer.seek(new TopicPartition(topic, p.partition()), p.start());
            }
        }
        long lastProgress = System.nanoTime();
        while (!remaining.isEmpty()) {
            var records = consumer.poll(Duration.ofMillis(200));
            for (ConsumerRecord<byte[], byte[]> record : records) {
                TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                Long end = remaining.get(tp);
                if (end != null && record.offset() < end) {
                    action.accept(record);
                }
            }
            boolean progressed = !records.isEmpty();
            for (var it = remaining.entrySet().iterator(); it.hasNext(); ) {
                var entry = it.next();
                // The position passes aborted records and transaction markers too.
                if (consumer.position(entry.getKey()) >= entry.getValue()) {
                    it.remove();
                    progressed = true;
                }
            }
            if (progressed) {
                lastProgress = System.nanoTime();
            } else if (System.nanoTime() - lastProgress > stall.toNanos()) {
                throw new IllegalStateException("Reading " + topic + " stalled for " + stall.toSeconds() + " s before the end of the range " + remaining + ".");
            }
        }
        consumer.unsubscribe();
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder(topic).append(' ');
        for (Partition p : partitions) {
            text.append(p.partition()).append(":[").append(p.start()).append(',').append(p.end()).append(") ");
        }
        return text.toString().strip();
    }
}
