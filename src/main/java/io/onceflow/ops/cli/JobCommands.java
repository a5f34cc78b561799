package io.onceflow.ops.cli;

import io.onceflow.ops.cluster.FlinkRest;
import io.onceflow.ops.jobs.JobOperations;
import io.onceflow.ops.jobs.JobSpec;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;

/** The job operations on a cluster, through its REST API: submit, status, stop, resume. */
final class JobCommands {

    private JobCommands() {}

    static JobOperations operations(OnceflowCli cli, ClusterOptions cluster, Duration timeout) {
        return new JobOperations(cluster.rest(), cluster.records(), cli.io().err(), timeout);
    }

    /** The spec from the options, or the remembered one when the options name nothing but the job. */
    static JobSpec specOrRemembered(JobOptions job, JobOperations operations) {
        boolean explicit = job.jar != null || job.config != null || job.entryClass != null || !job.overrides.isEmpty() || job.jobsDirectory != null;
        if (!explicit) {
            var remembered = operations.submission(job.job);
            if (remembered.isPresent()) {
                return remembered.get().spec();
            }
        }
        return job.spec();
    }

    @Command(name = "submit", mixinStandardHelpOptions = true,
            description = "Uploads the job jar and runs it with jobs/<JOB>.yaml; waits until every task runs and a checkpoint completed. Prints the job id.")
    static final class Submit implements Callable<Integer> {
        @ParentCommand OnceflowCli cli;
        @Mixin ClusterOptions cluster;
        @Mixin JobOptions job;

        @Option(names = "--savepoint", paramLabel = "PATH", description = "Start from this savepoint or retained checkpoint.")
        String savepoint;

        @Option(names = "--no-wait-checkpoint", description = "Return once every task runs, without waiting for a checkpoint.")
        boolean noWaitCheckpoint;

        @Option(names = "--timeout", defaultValue = "3m", converter = DurationConverter.class, description = "How long each step may take (default: ${DEFAULT-VALUE}).")
        Duration timeout;

        @Override
        public Integer call() {
            JobOperations operations = operations(cli, cluster, timeout);
            JobSpec spec = job.spec();
            var started = operations.submit(spec, savepoint, false, !noWaitCheckpoint);
            cli.io().out().println(started.jobId());
            cli.io().out().flush();
            cli.io().err().printf("Job '%s' runs as %s: every task running after %d ms%s.%n", spec.job(), started.jobId(),
                    started.untilRunning().toMillis(),
                    started.untilCheckpointed() == null ? "" : ", first checkpoint after " + started.untilCheckpointed().toMillis() + " ms");
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Lists the cluster's jobs: id, state, start, checkpoints, latest checkpoint.")
    static final class Status implements Callable<Integer> {
        @ParentCommand OnceflowCli cli;
        @Mixin ClusterOptions cluster;

        private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

        @Override
        public Integer call() {
            FlinkRest rest = cluster.rest();
            PrintWriter out = cli.io().out();
            var jobs = rest.jobs();
            out.printf("%-32s  %-10s  %-19s  %11s  %s%n", "JOB ID", "STATE", "STARTED", "CHECKPOINTS", "NAME / LATEST CHECKPOINT");
            for (var job : jobs) {
                String checkpoints = "-";
                String latest = "";
                if (!job.isGloballyTerminal()) {
                    var stats = rest.checkpoints(job.id());
                    checkpoints = String.valueOf(stats.completed());
                    latest = stats.latestCompletedPath() == null ? "" : "  " + stats.latestCompletedPath();
                }
                out.printf("%-32s  %-10s  %-19s  %11s  %s%s%n", job.id(), job.state(), TIME.format(Instant.ofEpochMilli(job.startTime())),
                        checkpoints, job.name(), latest);
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stops the job with a savepoint; prints the savepoint's path.")
    static final class Stop implements Callable<Integer> {
        @ParentCommand OnceflowCli cli;
        @Mixin ClusterOptions cluster;
        @Mixin JobOptions job;

        @Option(names = "--savepoint-dir", paramLabel = "DIR", description = "Where the savepoint goes (default: the cluster's execution.checkpointing.savepoint-dir).")
        String savepointDirectory;

        @Option(names = "--timeout", defaultValue = "3m", converter = DurationConverter.class, description = "How long the savepoint may take (default: ${DEFAULT-VALUE}).")
        Duration timeout;

        @Override
        public Integer call() {
            JobOperations operations = operations(cli, cluster, timeout);
            var stopped = operations.stop(specOrRemembered(job, operations), savepointDirectory);
            cli.io().out().println(stopped.savepoint());
            cli.io().out().flush();
            cli.io().err().printf("Job %s stopped with a savepoint in %d ms.%n", stopped.jobId(), stopped.took().toMillis());
            return 0;
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true,
            description = {"Starts the job again from a savepoint (by default the one 'stop' took last) or from its latest retained checkpoint,",
                    "e.g. after the JobManager was lost. Runs the jar and arguments it was last started with unless told otherwise."})
    static final class Resume implements Callable<Integer> {
        @ParentCommand OnceflowCli cli;
        @Mixin ClusterOptions cluster;
        @Mixin JobOptions job;

        @ArgGroup(exclusive = true)
        From from = new From();

        static final class From {
            @Option(names = "--savepoint", paramLabel = "PATH", description = "This savepoint or checkpoint.")
            String savepoint;

            @Option(names = "--latest-checkpoint", description = "The newest retained checkpoint of the job's last run (<checkpoint dir>/<job id>/chk-N).")
            boolean latestCheckpoint;
        }

        @Option(names = "--checkpoint-dir", paramLabel = "DIR", description = "Where the cluster keeps checkpoints (default: the local cluster's).")
        Path checkpointDirectory;

        @Option(names = "--allow-non-restored-state", description = "Start even if some of the state has no operator in the job.")
        boolean allowNonRestoredState;

        @Option(names = "--timeout", defaultValue = "3m", converter = DurationConverter.class, description = "How long each step may take (default: ${DEFAULT-VALUE}).")
        Duration timeout;

        @Override
        public Integer call() {
            JobOperations operations = operations(cli, cluster, timeout);
            JobSpec spec = specOrRemembered(job, operations);
            String restoreFrom;
            if (from.savepoint != null) {
                restoreFrom = from.savepoint;
            } else if (from.latestCheckpoint) {
                Path directory = checkpointDirectory != null ? checkpointDirectory : cluster.localCheckpoints();
                restoreFrom = operations.latestRetainedCheckpoint(spec, directory).toUri().toString();
            } else {
                restoreFrom = operations.lastSavepoint(job.job).orElseThrow(() -> new CliFailure(
                        "No savepoint of '" + job.job + "' is remembered; give --savepoint PATH or --latest-checkpoint."));
            }
            var started = operations.submit(spec, restoreFrom, allowNonRestoredState, true);
            cli.io().out().println(started.jobId());
            cli.io().out().flush();
            cli.io().err().printf("Job '%s' resumed from %s as %s: every task running after %d ms, first checkpoint after %d ms.%n",
                    spec.job(), restoreFrom, started.jobId(), started.untilRunning().toMillis(), started.untilCheckpointed().toMillis());
            return 0;
        }
    }
}
