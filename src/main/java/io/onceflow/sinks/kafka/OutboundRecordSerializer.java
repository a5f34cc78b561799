package io.onceflow.sinks.kafka;

import io.onceflow.records.OutboundRecord;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.ByteBuffer;

/** Sends each {@link OutboundRecord} to its own topic, partitioned by its key. */
public final class OutboundRecordSerializer implements KafkaRecordSerializationSchema<OutboundRecord> {

    private static final long serialVersionUID = 1L;

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            OutboundRecord record, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(
                record.getTopic(), null, timestamp, bytes(record.getKey()), bytes(record.getValue()));
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
