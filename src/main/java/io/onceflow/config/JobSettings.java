package io.onceflow.config;

import java.time.Duration;

import static io.onceflow.config.ConfigException.check;
import static io.onceflow.config.ConfigException.required;

/**
 * The {@code job} section: identity, parallelism and checkpointing.
 *
 * @param name the job name shown by Flink
 * @param namespace unique per deployment of a job: it prefixes every Kafka transactional id and
 *     PostgreSQL transaction id the job's sinks use, so two deployments must never share one
 * @param parallelism default parallelism of every operator
 * @param checkpointInterval how often a checkpoint starts; the sinks commit on each, so it bounds
 *     how long results stay invisible to read_committed consumers
 * @param checkpointTimeout a checkpoint taking longer is declined
 * @param minPauseBetweenCheckpoints time the job gets to process between two checkpoints
 * @param checkpointDirectory where checkpoints go (a URI such as {@code file:///...} or {@code
 *     s3://...}); empty to use the cluster's {@code execution.checkpointing.dir}
 * @param unalignedCheckpoints whether a checkpoint's barrier overtakes the records buffered ahead
 *     of it: a checkpoint then no longer waits for them to be processed (under load, much of
 *     the wait at the stages behind a keyBy), and they are stored in the checkpoint instead and
 *     processed again after a restore. Savepoints are always aligned
 */
public record JobSettings(
        String name,
        String namespace,
        Integer parallelism,
        Duration checkpointInterval,
        Duration checkpointTimeout,
        Duration minPauseBetweenCheckpoints,
        String checkpointDirectory,
        Boolean unalignedCheckpoints) implements java.io.Serializable {

    public JobSettings {
        required(name, "job.name");
        required(namespace, "job.namespace");
        check(
                namespace.matches("[A-Za-z0-9._-]{1,80}"),
                "Setting 'job.namespace' may hold only letters, digits, '.', '_' and '-' (at most 80), but is '"
                        + namespace + "'.");
        required(parallelism, "job.parallelism");
        check(parallelism >= 1, "Setting 'job.parallelism' must be at least 1.");
        required(checkpointInterval, "job.checkpoint-interval");
        check(
                checkpointInterval.toMillis() >= 10,
                "Setting 'job.checkpoint-interval' must be at least 10ms.");
        checkpointTimeout = checkpointTimeout == null ? Duration.ofMinutes(2) : checkpointTimeout;
        minPauseBetweenCheckpoints =
                minPauseBetweenCheckpoints == null ? Duration.ZERO : minPauseBetweenCheckpoints;
        checkpointDirectory = checkpointDirectory == null ? "" : checkpointDirectory;
        unalignedCheckpoints = unalignedCheckpoints != null && unalignedCheckpoints;
    }
}
