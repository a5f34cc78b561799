package io.onceflow.payments;

import io.onceflow.ingest.DeadLetters;
import io.onceflow.payments.model.AuthorizationRequest;
import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.records.RecordDecodeException;
import io.onceflow.records.SingleObjectCodec;
import io.onceflow.records.SourceRecord;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import java.nio.ByteBuffer;
import java.time.Instant;

/**
 * Turns {@code payments.requests} bytes into requests. A record that is not a single-object
 * encoded {@link PaymentRequest} goes to the dead letters with its position, bytes and reason
 * ({@code missing_value}, {@code not_single_object}, {@code unknown_schema}, {@code
 * undecodable}); nothing here throws, so no record can put the job into a restart loop.
 */
public final class PaymentRequestDecoder extends ProcessFunction<SourceRecord, AuthorizationRequest> {

    private static final long serialVersionUID = 1L;

    private final String jobName;
    private final SingleObjectCodec codec = SingleObjectCodec.forTopicRecords();
    private transient Counter deadLetters;

    public PaymentRequestDecoder(String jobName) {
        this.jobName = jobName;
    }

    @Override
    public void open(OpenContext openContext) {
        deadLetters = getRuntimeContext().getMetricGroup().counter("deadLetters");
    }

    @Override
    public void processElement(SourceRecord record, Context context, Collector<AuthorizationRequest> out) {
        if (record.getValue() == null) {
            reject(record, context, "missing_value", "The record has no value");
            return;
        }
        try {
            PaymentRequest request = codec.decode(bytes(record.getValue()), PaymentRequest.class);
            out.collect(
                    AuthorizationRequest.newBuilder()
                            .setRequest(request)
                            .setSource(record.getSource())
                            .setCustomer(null)
                            .setLookupFailure(null)
                            .build());
        } catch (RecordDecodeException e) {
            reject(record, context, e.reason().code(), e.getMessage());
        }
    }

    private void reject(SourceRecord record, Context context, String reason, String error) {
        deadLetters.inc();
        context.output(DeadLetters.TAG, DeadLetters.of(record, jobName, reason, error, Instant.now()));
    }

    private static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer copy = buffer.duplicate();
        byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        return bytes;
    }
}
