package io.onceflow.ingest;

import io.onceflow.records.SourcePosition;
import io.onceflow.records.SourceRecord;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.nio.ByteBuffer;
import java.time.Instant;

/**
 * Hands every Kafka record on as bytes with its position, and never fails: a record that cannot
 * be decoded must reach the dead-letter topic, and a deserializer that throws would instead fail
 * the source and restart the job on the same record forever.
 */
public final class SourceRecordDeserializer implements KafkaRecordDeserializationSchema<SourceRecord> {

    private static final long serialVersionUID = 1L;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<SourceRecord> out) {
        out.collect(
                SourceRecord.newBuilder()
                        .setSource(new SourcePosition(record.topic(), record.partition(), record.offset()))
                        .setTimestamp(Instant.ofEpochMilli(Math.max(0, record.timestamp())))
                        .setKey(record.key() == null ? null : ByteBuffer.wrap(record.key()))
                        .setValue(record.value() == null ? null : ByteBuffer.wrap(record.value()))
                        .build());
    }

    @Override
    public TypeInformation<SourceRecord> getProducedType() {
        return new AvroTypeInfo<>(SourceRecord.class);
    }
}
