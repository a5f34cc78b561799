package io.onceflow.payments;

import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.records.OutboundRecord;
import io.onceflow.records.SingleObjectCodec;

import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.util.Collector;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** What the payments job writes to Kafka, encoded for the wire contract. */
final class PaymentOutputs {

    private PaymentOutputs() {}

    /** Each result to the results topic and, when COMPLETED, its event to the completed topic. */
    static final class ResultRecords implements FlatMapFunction<PaymentResult, OutboundRecord> {
        private static final long serialVersionUID = 1L;
        private final PaymentsConfig.Topics topics;

        ResultRecords(PaymentsConfig.Topics topics) {
            this.topics = topics;
        }

        @Override
        public void flatMap(PaymentResult result, Collector<OutboundRecord> out) {
            out.collect(record(topics.results(), result.getIdempotencyKey(), result));
            if (result.getStatus() == PaymentStatus.COMPLETED) {
                out.collect(
                        record(
                                topics.completed(),
                                result.getPaymentId(),
                                PaymentResults.completedEvent(result)));
            }
        }
    }

    static OutboundRecord record(String topic, String key, SpecificRecord value) {
        return OutboundRecord.newBuilder()
                .setTopic(topic)
                .setKey(key == null ? null : ByteBuffer.wrap(key.getBytes(StandardCharsets.UTF_8)))
                .setValue(ByteBuffer.wrap(SingleObjectCodec.encode(value)))
                .build();
    }
}
