package io.onceflow.sinks.kafka;

import io.onceflow.config.JobSettings;
import io.onceflow.config.KafkaSettings;
import io.onceflow.records.OutboundRecord;

import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.TransactionNamingStrategy;

import io.onceflow.config.ConfigException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
        return withGuarantee(DeliveryGuarantee.EXACTLY_ONCE, job, kafka, sinkName, topics);
    }

    /**
     * The same sink with {@code guarantee}. {@link DeliveryGuarantee#AT_LEAST_ONCE} writes without
     * transactions (records visible as soon as the broker has them; a restore writes again what
     * followed the last checkpoint): what the benchmark compares exactly-once against, never what
     * the jobs run with.
     */
    public static KafkaSink<OutboundRecord> withGuarantee(
            DeliveryGuarantee guarantee, JobSettings job, KafkaSettings kafka, String sinkName, List<String> topics) {
        var builder =
                KafkaSink.<OutboundRecord>builder()
                        .setBootstrapServers(kafka.bootstrapServers())
                        .setRecordSerializer(new OutboundRecordSerializer(topics))
                        .setDeliveryGuarantee(guarantee)
                        .setProperty("compression.type", "lz4")
                        .setProperty("linger.ms", "5");
        if (guarantee == DeliveryGuarantee.EXACTLY_ONCE) {
            kafka.checkTransactionTimeout(job, RESTART_ALLOWANCE);
            builder.setTransactionalIdPrefix(job.namespace() + "-" + sinkName)
                    .setTransactionNamingStrategy(TransactionNamingStrategy.POOLING)
                    .setProperty(
                            "transaction.timeout.ms",
                            Long.toString(kafka.transactionTimeout().toMillis()));
        }
        kafka.properties().forEach(builder::setProperty);
        return builder.build();
    }

    /**
     * Asks the brokers whether they allow {@code kafka.transaction-timeout}: a producer asking
     * for more than {@code transaction.max.timeout.ms} is refused when the job starts, which is
     * better said at submission in one sentence. A broker that cannot be asked within 10 s is not
     * an error here (the job reports it when it starts); the answer is empty then.
     *
     * @throws ConfigException when a broker's maximum is below the configured timeout
     */
    public static Optional<Duration> checkBrokersAllowTransactionTimeout(KafkaSettings kafka) {
        Map<String, Object> config = new HashMap<>(kafka.properties());
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        try (Admin admin = Admin.create(config)) {
            Duration lowest = null;
            for (Node broker : admin.describeCluster().nodes().get(10, TimeUnit.SECONDS)) {
                ConfigResource resource = new ConfigResource(ConfigResource.Type.BROKER, broker.idString());
                ConfigEntry entry =
                        admin.describeConfigs(List.of(resource))
                                .all()
                                .get(10, TimeUnit.SECONDS)
                                .get(resource)
                                .get("transaction.max.timeout.ms");
                if (entry != null && entry.value() != null) {
                    Duration maximum = Duration.ofMillis(Long.parseLong(entry.value()));
                    lowest = lowest == null || maximum.compareTo(lowest) < 0 ? maximum : lowest;
                }
            }
            if (lowest != null && kafka.transactionTimeout().compareTo(lowest) > 0) {
                throw new ConfigException(
                        "Setting 'kafka.transaction-timeout' (" + kafka.transactionTimeout().toSeconds()
                                + " s) is above the brokers' transaction.max.timeout.ms (" + lowest.toSeconds()
                                + " s); lower it or raise the brokers' maximum.");
            }
            return Optional.ofNullable(lowest);
        } catch (ExecutionException | TimeoutException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
