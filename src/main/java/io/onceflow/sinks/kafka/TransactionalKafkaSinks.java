package io.onceflow.sinks.kafka;

import io.onceflow.config.JobSettings;
import io.onceflow.config.KafkaSettings;
import io.onceflow.records.OutboundRecord;

import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.TransactionNamingStrategy;

import java.time.Duration;
import java.util.List;

/**
 * The one Kafka sink of a job: {@link DeliveryGuarantee#EXACTLY_ONCE}, one transaction per
 * checkpoint covering every output topic, committed when the checkpoint completes.
 *
 * <p>Transactional ids are {@code <namespace>-<sink>-<subtask>-<n>}; the namespace must be unique
 * per deployment or two jobs fence each other. Names are pooled ({@link
 * TransactionNamingStrategy#POOLING}) so that the broker keeps a handful of ids per subtask
 * instead of one per checkpoint for {@code transactional.id.expiration.ms}. Consumers see the
 * output only with {@code isolation.level=read_committed}, and only after the checkpoint that
 * wrote it completes.
 */
public final class TransactionalKafkaSinks {

    /** Time a restart may take before the transactions it must commit time out on the broker. */
    public static final Duration RESTART_ALLOWANCE = Duration.ofMinutes(2);

    private TransactionalKafkaSinks() {}

    /**
     * @param topics every topic the job's {@link OutboundRecord}s may name
     */
    public static KafkaSink<OutboundRecord> exactlyOnce(
            JobSettings job, KafkaSettings kafka, String sinkName, List<String> topics) {
        kafka.checkTransactionTimeout(job, RESTART_ALLOWANCE);
        var builder =
                KafkaSink.<OutboundRecord>builder()
                        .setBootstrapServers(kafka.bootstrapServers())
                        .setRecordSerializer(new OutboundRecordSerializer(topics))
                        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                        .setTransactionalIdPrefix(job.namespace() + "-" + sinkName)
                        .setTransactionNamingStrategy(TransactionNamingStrategy.POOLING)
                        .setProperty(
                                "transaction.timeout.ms",
                                Long.toString(kafka.transactionTimeout().toMillis()))
                        .setProperty("compression.type", "lz4")
                        .setProperty("linger.ms", "5");
        kafka.properties().forEach(builder::setProperty);
        return builder.build();
    }
}
