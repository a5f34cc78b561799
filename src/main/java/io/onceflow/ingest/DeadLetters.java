package io.onceflow.ingest;

import io.onceflow.records.DeadLetter;
import io.onceflow.records.SourceRecord;

import io.onceflow.records.OutboundRecord;
import io.onceflow.records.SingleObjectCodec;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.util.OutputTag;

import java.nio.ByteBuffer;
import java.time.Instant;

/** Dead letters: records a job cannot accept, kept with their bytes, position and reason. */
public final class DeadLetters {

    /** The side output every job routes its dead letters to. */
    public static final OutputTag<DeadLetter> TAG =
            new OutputTag<>("dead-letters", new AvroTypeInfo<>(DeadLetter.class));

    private DeadLetters() {}

    public static DeadLetter of(SourceRecord record, String job, String reason, String error, Instant now) {
        return DeadLetter.newBuilder()
                .setSource(record.getSource())
                .setSourceTimestamp(record.getTimestamp())
                .setReason(reason)
                .setError(error == null ? reason : error)
                .setKey(record.getKey())
                .setValue(record.getValue())
                .setJob(job)
                .setFailedAt(now)
                .build();
    }

    /**
     * Each dead letter as a record for the job's transactional Kafka sink: to {@code topic}, under
     * the key the bad record had, Avro single-object encoded.
     */
    public static MapFunction<DeadLetter, OutboundRecord> toTopic(String topic) {
        return new ToTopic(topic);
    }

    private static final class ToTopic implements MapFunction<DeadLetter, OutboundRecord> {
        private static final long serialVersionUID = 1L;
        private final String topic;

        ToTopic(String topic) {
            this.topic = topic;
        }

        @Override
        public OutboundRecord map(DeadLetter deadLetter) {
            return OutboundRecord.newBuilder()
                    .setTopic(topic)
                    .setKey(deadLetter.getKey())
                    .setValue(ByteBuffer.wrap(SingleObjectCodec.encode(deadLetter)))
                    .build();
        }
    }
}
