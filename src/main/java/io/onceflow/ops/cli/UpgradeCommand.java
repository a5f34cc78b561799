package io.onceflow.ops.cli;

import io.onceflow.ops.cluster.FlinkDistribution;
import io.onceflow.ops.jobs.JobOperations;
import io.onceflow.ops.jobs.JobSpec;
import io.onceflow.ops.upgrade.CheckReport;
import io.onceflow.ops.upgrade.SavepointStateCheck;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code onceflow upgrade <job> --jar <new>}: stop with a savepoint, check, start the new jar
 * from it; {@code --check} only checks.
 */
@Command(name = "upgrade", mixinStandardHelpOptions = true,
        description = {
            "Upgrades a running job to a new jar: checks a savepoint of it against the new jar (State Processor API: every stateful",
            "operator uid still there, state types compatible by Avro's rules), stops it with a savepoint, starts the new jar from it",
            "and waits until it runs and completed a checkpoint. If the new version does not start, the old one is started again",
            "from the same savepoint. --check only checks (a savepoint of the running job, or --savepoint); exit 1 when refused."})
final class UpgradeCommand implements Callable<Integer> {

    @ParentCommand OnceflowCli cli;
    @Mixin ClusterOptions cluster;

    @Parameters(index = "0", paramLabel = "JOB", description = "The job, e.g. payments.")
    String job;

    @Option(names = "--jar", required = true, paramLabel = "JAR", description = "The new version's job jar.")
    Path jar;

    @Option(names = "--check", description = "Only check the new jar against the state; change nothing.")
    boolean checkOnly;

    @Option(names = "--savepoint", paramLabel = "PATH", description = "With --check: check this savepoint instead of one of the running job.")
    String savepoint;

    @Option(names = "--allow-dropping-state", description = "Accept that state of operators gone from the new job is dropped.")
    boolean allowDroppingState;

    @Option(names = "--jobs-dir", paramLabel = "DIR", description = "With --check and no recorded run: where the job files are (default: jobs/).")
    Path jobsDirectory;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "With --check and no recorded run: settings to build the new job's graph with.")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = "--timeout", defaultValue = "3m", converter = DurationConverter.class, description = "How long each step may take (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() {
        PrintWriter out = cli.io().out();
        PrintWriter err = cli.io().err();
        JobOperations operations = JobCommands.operations(cli, cluster, timeout);
        FlinkDistribution distribution = FlinkDistribution.ensure(
                ClusterOptions.home().resolve("deploy/local-cluster/pom.xml"), FlinkDistribution.defaultLib(ClusterOptions.home()));
        try (SavepointStateCheck check = new SavepointStateCheck(distribution)) {
            if (checkOnly) {
                JobSpec current = operations.submission(job).map(s -> s.spec()).orElseGet(() -> {
                    JobOptions options = new JobOptions();
                    options.job = job;
                    options.jobsDirectory = jobsDirectory;
                    options.overrides = overrides;
                    return options.spec();
                });
                CheckReport report = savepoint != null
                        ? check.check(savepoint, current.withJar(jar), allowDroppingState)
                        : operations.checkRunning(current, jar, check, allowDroppingState);
                report.lines().forEach(out::println);
                out.flush();
                if (!report.passed()) {
                    throw new CliFailure("Upgrade of '" + job + "' to " + jar.getFileName() + " refused: " + report.summary() + ".");
                }
                return 0;
            }
            try {
                var upgraded = operations.upgrade(job, jar, check, allowDroppingState);
                out.println(upgraded.newJobId());
                out.flush();
                err.printf("Upgraded '%s' to %s: job %s from savepoint %s; stop-with-savepoint %d ms, downtime %d ms (stop request to the new job's first checkpoint).%n",
                        job, jar.getFileName(), upgraded.newJobId(), upgraded.savepoint(), upgraded.stopWithSavepoint().toMillis(), upgraded.downtime().toMillis());
                return 0;
            } catch (JobOperations.UpgradeFailed e) {
                if (e.report() != null && !e.report().passed()) {
                    e.report().lines().forEach(out::println);
                    out.flush();
                }
                throw new CliFailure(e.getMessage(), e);
            }
        }
    }
}
