package io.onceflow.ingest;

import io.onceflow.config.KafkaSettings;
import io.onceflow.records.SourceRecord;

import org.apache.flink.api.connector.source.Source;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * The one way a job reads a topic: every record as {@link SourceRecord} bytes with its position
 * ({@link SourceRecordDeserializer}, which never fails), {@code read_committed}, offsets
 * committed to the group on checkpoints for monitoring only (positions are restored from the
 * job's own checkpoints).
 */
public final class KafkaSources {

    private KafkaSources() {}

    /**
     * {@code topic} as a source. Bounded stops at the offsets that are latest when the job starts
     * (tests, replays) and is wrapped in {@link BoundedKafkaSource} (FLINK-31006); unbounded runs
     * forever.
     */
    public static Source<SourceRecord, ?, ?> records(KafkaSettings kafka, String topic, boolean bounded) {
        var builder =
                KafkaSource.<SourceRecord>builder()
                        .setBootstrapServers(kafka.bootstrapServers())
                        .setGroupId(kafka.groupId())
                        .setTopics(topic)
                        .setDeserializer(new SourceRecordDeserializer())
                        .setStartingOffsets(startingOffsets(kafka.startingOffsets()))
                        .setProperty("isolation.level", "read_committed")
                        .setProperty("commit.offsets.on.checkpoint", "true");
        kafka.properties().forEach(builder::setProperty);
        if (bounded) {
            builder.setBounded(OffsetsInitializer.latest());
            return new BoundedKafkaSource<>(builder.build());
        }
        return builder.build();
    }

    /**
     * Exactly the offsets of {@code range} as a bounded source ({@link BoundedKafkaSource}):
     * replays, with fresh source state. Offsets are committed to no group, so a replay never moves
     * the live job's consumer group.
     */
    public static Source<SourceRecord, ?, ?> range(KafkaSettings kafka, TopicRange range) {
        java.util.Map<org.apache.kafka.common.TopicPartition, Long> starts = new java.util.HashMap<>();
        java.util.Map<org.apache.kafka.common.TopicPartition, Long> ends = new java.util.HashMap<>();
        range.partitions().forEach(p -> {
            starts.put(new org.apache.kafka.common.TopicPartition(range.topic(), p.partition()), p.start());
            ends.put(new org.apache.kafka.common.TopicPartition(range.topic(), p.partition()), p.end());
        });
        var builder =
                KafkaSource.<SourceRecord>builder()
                        .setBootstrapServers(kafka.bootstrapServers())
                        .setGroupId(kafka.groupId() + "-replay")
                        .setTopics(range.topic())
                        .setDeserializer(new SourceRecordDeserializer())
                        .setStartingOffsets(OffsetsInitializer.offsets(starts))
                        .setBounded(OffsetsInitializer.offsets(ends))
                        .setProperty("isolation.level", "read_committed")
                        .setProperty("commit.offsets.on.checkpoint", "false");
        kafka.properties().forEach(builder::setProperty);
        return new BoundedKafkaSource<>(builder.build());
    }

    private static OffsetsInitializer startingOffsets(String mode) {
        switch (mode) {
            case "earliest":
                return OffsetsInitializer.earliest();
            case "latest":
                return OffsetsInitializer.latest();
            default:
                return OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
        }
    }
}
