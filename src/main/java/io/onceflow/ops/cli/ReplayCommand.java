package io.onceflow.ops.cli;

import io.onceflow.analytics.AnalyticsConfig;
import io.onceflow.config.ConfigException;
import io.onceflow.config.KafkaSettings;
import io.onceflow.config.JobSettings;
import io.onceflow.ingest.TopicRange;
import io.onceflow.ops.jobs.JobOperations;
import io.onceflow.ops.jobs.JobSpec;
import io.onceflow.ops.replay.MinuteRewrite;
import io.onceflow.ops.replay.ReplayJob;
import io.onceflow.payments.PaymentsConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code onceflow replay}: a bounded run of a job over a time range of its topic, on the cluster. */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {
            "Reruns a time range of a topic as a new bounded job on the cluster (fresh source state, no savepoint),",
            "into the job's idempotent sinks, and waits until it finished, with a progress line on stderr.",
            "payments: rebuilds PostgreSQL's payments and the lake's payments.results from the payments.results topic",
            "(the gateway is never called); rows that are there stay, missing ones are written once. analytics:",
            "reprocesses analytics.events, each event's row replacing the lake's rows of it, then recomputes the",
            "analytics_minute windows of the range from the lake.",
            "Prints the job id."})
final class ReplayCommand implements Callable<Integer> {

    @ParentCommand OnceflowCli cli;
    @Spec CommandSpec spec;
    @Mixin ClusterOptions cluster;
    @Mixin JobOptions job;

    @Option(names = "--from", required = true, paramLabel = "TIME", converter = InstantConverter.class,
            description = "Start of the range: records stamped at or after it (ISO-8601, now, now-15m).")
    Instant from;

    @Option(names = "--to", paramLabel = "TIME", converter = InstantConverter.class,
            description = "End of the range, exclusive (default: the end of the topic when the command starts).")
    Instant to;

    @Option(names = "--timeout", defaultValue = "30m", converter = DurationConverter.class,
            description = "How long the run may take (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--progress-every", defaultValue = "2s", converter = DurationConverter.class,
            description = "How often the progress line is printed (default: ${DEFAULT-VALUE}).")
    Duration every;

    /** What a job's replay reads, and the names the replay runs under. */
    private record Target(KafkaSettings kafka, String topic, JobSettings settings, AnalyticsConfig analytics) {}

    @Override
    public Integer call() {
        if (to != null && !from.isBefore(to)) {
            throw new ParameterException(spec.commandLine(), "--from " + from + " is not before --to " + to);
        }
        Target target;
        try {
            target = switch (job.job) {
                case "payments" -> {
                    PaymentsConfig config = PaymentsConfig.load(job.configFile(), job.overrides);
                    yield new Target(config.kafka(), config.topics().results(), config.job(), null);
                }
                case "analytics" -> {
                    AnalyticsConfig config = AnalyticsConfig.load(job.configFile(), job.overrides);
                    yield new Target(config.kafka(), config.topics().events(), config.job(), config);
                }
                default -> throw new ParameterException(spec.commandLine(), "replay knows the jobs payments and analytics, not '" + job.job + "'");
            };
        } catch (ConfigException e) {
            throw new ParameterException(spec.commandLine(), OnceflowCli.withoutFinalStop(e.getMessage()));
        }
        TopicRange range;
        try (KafkaConsumer<byte[], byte[]> consumer = TopicRange.consumer(target.kafka().bootstrapServers(), target.kafka().properties())) {
            range = TopicRange.of(consumer, target.topic(), from, to);
        }
        var err = cli.io().err();
        if (range.size() == 0) {
            err.printf("Nothing to replay: %s holds no record in that range.%n", target.topic());
            err.flush();
            return 0;
        }
        err.printf("Replaying %s: %s%n", job.job, range);
        err.flush();
        JobSpec live = job.spec();
        JobSpec replay = new JobSpec(job.job + ReplayJob.REPLAY_SUFFIX, live.configFile(), live.jar(), ReplayJob.class.getName(),
                ReplayJob.replayOverrides(live.overrides(), target.settings().name(), target.settings().namespace()),
                List.of("--job", job.job, "--range", range.encode()));
        JobOperations operations = JobCommands.operations(cli, cluster, timeout);
        var finished = operations.runToEnd(replay, range.size(), every);
        cli.io().out().println(finished.jobId());
        cli.io().out().flush();
        err.printf("Replay of %s finished as job %s: %d records in %d ms.%n", job.job, finished.jobId(), finished.records(), finished.took().toMillis());
        if (target.analytics() != null) {
            var minutes = MinuteRewrite.rewrite(target.analytics(), range);
            err.printf("analytics_minute: %d windows of the range recomputed from the lake, %d rows written.%n", minutes.windows(), minutes.written());
        }
        err.flush();
        return 0;
    }
}
