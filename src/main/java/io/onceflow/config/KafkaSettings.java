package io.onceflow.config;

import java.time.Duration;
import java.util.Map;

import static io.onceflow.config.ConfigException.check;
import static io.onceflow.config.ConfigException.required;

/**
 * The {@code kafka} section: where the brokers are and how the job's source and transactional
 * sinks talk to them.
 *
 * @param bootstrapServers brokers to start from, {@code host:port[,host:port...]}
 * @param groupId consumer group of the source; offsets are committed to it on checkpoints for
 *     monitoring only (the job restores its positions from its own checkpoints)
 * @param startingOffsets where a job without state starts: {@code committed} (the group's
 *     offsets, earliest when it has none), {@code earliest} or {@code latest}
 * @param transactionTimeout producers' {@code transaction.timeout.ms}: above the checkpoint
 *     interval plus the time a restart takes, or the broker aborts transactions the job will
 *     still commit; below the broker's {@code transaction.max.timeout.ms} (15 min by default), or
 *     the job fails at start
 * @param properties extra Kafka client properties for every client (security settings, ...)
 */
public record KafkaSettings(
        String bootstrapServers,
        String groupId,
        String startingOffsets,
        Duration transactionTimeout,
        Map<String, String> properties) implements java.io.Serializable {

    public KafkaSettings {
        required(bootstrapServers, "kafka.bootstrap-servers");
        required(groupId, "kafka.group-id");
        startingOffsets = startingOffsets == null ? "committed" : startingOffsets;
        check(
                startingOffsets.equals("committed")
                        || startingOffsets.equals("earliest")
                        || startingOffsets.equals("latest"),
                "Setting 'kafka.starting-offsets' must be committed, earliest or latest, but is '"
                        + startingOffsets + "'.");
        transactionTimeout = transactionTimeout == null ? Duration.ofMinutes(10) : transactionTimeout;
        properties = properties == null ? Map.of() : Map.copyOf(properties);
    }

    /** Fails unless transactions outlive a checkpoint plus a restart of {@code restartAllowance}. */
    public void checkTransactionTimeout(JobSettings job, Duration restartAllowance) {
        Duration needed = job.checkpointInterval().plus(job.checkpointTimeout()).plus(restartAllowance);
        check(
                transactionTimeout.compareTo(needed) > 0,
                "Setting 'kafka.transaction-timeout' (" + transactionTimeout.toSeconds()
                        + " s) must exceed checkpoint interval + checkpoint timeout + restart time ("
                        + needed.toSeconds() + " s), or the broker aborts transactions the job still has to commit.");
    }
}
