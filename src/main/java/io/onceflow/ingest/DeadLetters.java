package io.onceflow.ingest;

import io.onceflow.records.DeadLetter;
import io.onceflow.records.SourceRecord;

import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.util.OutputTag;

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
}
