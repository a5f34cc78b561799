package io.onceflow.sinks.kafka;

import io.onceflow.records.OutboundRecord;

import org.apache.flink.connector.kafka.lineage.DefaultKafkaDatasetFacet;
import org.apache.flink.connector.kafka.lineage.DefaultKafkaDatasetIdentifier;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacet;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacetProvider;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * Sends each {@link OutboundRecord} to its own topic, partitioned by its key. Names the topics it
 * may write, which pooled transaction names need to find transactions left open after a crash.
 */
public final class OutboundRecordSerializer
        implements KafkaRecordSerializationSchema<OutboundRecord>, KafkaDatasetFacetProvider {

    private static final long serialVersionUID = 1L;

    private final List<String> topics;

    public OutboundRecordSerializer(List<String> topics) {
        this.topics = List.copyOf(topics);
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            OutboundRecord record, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(
                record.getTopic(), null, timestamp, bytes(record.getKey()), bytes(record.getValue()));
    }

    @Override
    public Optional<KafkaDatasetFacet> getKafkaDatasetFacet() {
        return Optional.of(new DefaultKafkaDatasetFacet(DefaultKafkaDatasetIdentifier.ofTopics(topics)));
    }

    private static byte[] bytes(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        ByteBuffer copy = buffer.duplicate();
        byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        return bytes;
    }
}
