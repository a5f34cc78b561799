package io.onceflow.ops.cli;

import io.onceflow.ops.cluster.FlinkDistribution;
import io.onceflow.ops.cluster.LocalCluster;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code onceflow cluster up|down|status}: the local standalone Flink cluster. */
@Command(
        name = "cluster",
        mixinStandardHelpOptions = true,
        synopsisSubcommandLabel = "COMMAND",
        description = "A real standalone Flink cluster on this machine: JobManager and TaskManagers as separate JVMs, RocksDB, checkpoints and savepoints on local disk.",
        subcommands = {ClusterCommand.Up.class, ClusterCommand.Down.class, ClusterCommand.Status.class})
final class ClusterCommand implements Callable<Integer> {

    @ParentCommand OnceflowCli cli;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "Missing command: choose one of " + String.join(", ", spec.subcommands().keySet()));
    }

    @Command(name = "up", mixinStandardHelpOptions = true, description = "Starts the cluster and waits until every TaskManager has registered.")
    static final class Up implements Callable<Integer> {
        @ParentCommand ClusterCommand parent;
        @Mixin ClusterOptions cluster;

        @Option(names = "--rest-port", defaultValue = "8081", description = "REST API and web UI port; 0 for a free one (default: ${DEFAULT-VALUE}).")
        int restPort;

        @Option(names = "--task-managers", defaultValue = "1", description = "TaskManager JVMs (default: ${DEFAULT-VALUE}).")
        int taskManagers;

        @Option(names = "--slots", defaultValue = "4", description = "Task slots per TaskManager (default: ${DEFAULT-VALUE}).")
        int slots;

        @Option(names = "--taskmanager-memory", defaultValue = "2048m", description = "taskmanager.memory.process.size (default: ${DEFAULT-VALUE}).")
        String taskManagerMemory;

        @Option(names = "--jobmanager-memory", defaultValue = "1280m", description = "jobmanager.memory.process.size (default: ${DEFAULT-VALUE}).")
        String jobManagerMemory;

        @Option(names = "--timeout", defaultValue = "2m", converter = DurationConverter.class, description = "How long to wait for the cluster (default: ${DEFAULT-VALUE}).")
        Duration timeout;

        @Override
        public Integer call() {
            PrintWriter err = parent.cli.io().err();
            var home = cluster.clusterDirectory();
            var pom = ClusterOptions.home().resolve("deploy/local-cluster/pom.xml");
            var lib = FlinkDistribution.defaultLib(ClusterOptions.home());
            if (!Files.exists(lib.resolve(".resolved"))) {
                err.println("Resolving the Flink distribution into " + lib + " (first run) ...");
                err.flush();
            }
            FlinkDistribution distribution = FlinkDistribution.ensure(pom, lib);
            long start = System.nanoTime();
            LocalCluster started = LocalCluster.of(new LocalCluster.Settings(home, distribution, restPort, taskManagers, slots,
                    jobManagerMemory, taskManagerMemory, Map.of())).start(timeout);
            long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();
            PrintWriter out = parent.cli.io().out();
            out.println(started.restUri());
            out.flush();
            err.printf("Local Flink cluster up in %d ms: web UI and REST %s, %d TaskManager(s) x %d slots.%n", millis, started.restUri(), taskManagers, slots);
            err.printf("  logs %s, checkpoints %s, savepoints %s%n", started.logDirectory(), started.checkpointsDirectory(), started.savepointsDirectory());
            err.println("  stop it with: deploy/onceflow cluster down");
            return 0;
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true, description = "Stops every process of the cluster (SIGTERM, SIGKILL after the grace period).")
    static final class Down implements Callable<Integer> {
        @ParentCommand ClusterCommand parent;
        @Mixin ClusterOptions cluster;

        @Option(names = "--grace", defaultValue = "30s", converter = DurationConverter.class, description = "How long processes get to exit before SIGKILL (default: ${DEFAULT-VALUE}).")
        Duration grace;

        @Override
        public Integer call() {
            var home = cluster.clusterDirectory();
            if (!Files.exists(home.resolve("conf/config.yaml"))) {
                parent.cli.io().err().println("No local cluster in " + home + "; nothing to stop.");
                return 0;
            }
            LocalCluster local = LocalCluster.existing(home);
            var running = local.runningRoles();
            local.stop(grace);
            parent.cli.io().err().println(running.isEmpty()
                    ? "The local cluster in " + home + " was not running."
                    : "Stopped " + String.join(", ", running) + ".");
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Shows each process of the cluster and whether its REST API answers; exit 1 when it is down.")
    static final class Status implements Callable<Integer> {
        @ParentCommand ClusterCommand parent;
        @Mixin ClusterOptions cluster;

        @Override
        public Integer call() {
            var home = cluster.clusterDirectory();
            PrintWriter out = parent.cli.io().out();
            if (!Files.exists(home.resolve("conf/config.yaml"))) {
                out.println("down (no cluster was ever started in " + home + ")");
                return 1;
            }
            LocalCluster.Status status = LocalCluster.existing(home).status();
            status.processes().forEach((role, pid) -> out.printf("%-16s %s%n", role, pid.map(p -> "running, pid " + p).orElse("not running")));
            out.printf("%-16s %s%n", "rest", status.restReachable()
                    ? status.restUri() + " answers, " + status.taskManagersRegistered() + " TaskManager(s) registered"
                    : status.restUri() + " does not answer");
            out.flush();
            return status.restReachable() ? 0 : 1;
        }
    }
}
