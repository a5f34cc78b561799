package io.onceflow.ops.cli;

import io.onceflow.records.KnownSchemas;
import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The {@code onceflow} command line.
 *
 * <p>Exit codes: 0 success, 1 runtime failure, 2 bad arguments or configuration. Every failure
 * is one sentence on standard error; stack traces only with {@code -v}/{@code --verbose} or
 * environment {@code ONCEFLOW_DEBUG=1}.
 *
 * <p>Adding a subcommand, e.g. {@code demo}:
 *
 * <ol>
 *   <li>In this package, write {@code @Command(name = "demo", mixinStandardHelpOptions = true,
 *       description = "...") final class DemoCommand implements Callable<Integer>}, with a
 *       no-argument constructor.
 *   <li>Take the streams from {@code @ParentCommand OnceflowCli cli} ({@code cli.io()}): data to
 *       {@code out}, messages to {@code err}. Add {@code @Mixin KafkaOptions kafka} if it talks
 *       to Kafka, and options that take durations with {@code converter =
 *       DurationConverter.class}.
 *   <li>Return 0; throw {@link CliFailure} with one sentence for an expected failure (exit 1),
 *       or {@code ParameterException} for a bad argument found late (exit 2). Anything else is
 *       reported as one sentence too, exit 1.
 *   <li>Add {@code DemoCommand.class} to {@code subcommands} below: the one line that wires it.
 * </ol>
 */
@Command(
        name = "onceflow",
        mixinStandardHelpOptions = true,
        versionProvider = OnceflowCli.Version.class,
        synopsisSubcommandLabel = "COMMAND",
        description = "Runs and operates the onceflow jobs; reads and writes their topics as JSON lines.",
        subcommands = {
            DemoCommand.class,
            ProduceCommand.class,
            ConsumeCommand.class,
            LakeCommand.class,
            ClusterCommand.class,
            JobCommands.Submit.class,
            JobCommands.Status.class,
            JobCommands.Stop.class,
            JobCommands.Resume.class,
            UpgradeCommand.class,
            ReconcileCommand.class,
            ReplayCommand.class,
            io.onceflow.bench.BenchCommand.class,
        })
public final class OnceflowCli implements Callable<Integer> {

    /** The record types the CLI reads and writes; register new topic types here. */
    static final KnownSchemas KNOWN_TYPES = KnownSchemas.topicRecords();

    @Option(
            names = {"-v", "--verbose"},
            scope = ScopeType.INHERIT,
            description = "Print the stack trace of a failure (or set ONCEFLOW_DEBUG=1).")
    boolean verbose;

    @Spec CommandSpec spec;

    private final CliIo io;

    OnceflowCli(CliIo io) {
        this.io = io;
    }

    public static void main(String[] args) {
        CliLogging.configure(debugRequested(System.getenv(), args));
        System.exit(run(args));
    }

    /** Runs with the process's streams and environment; returns the exit code. */
    public static int run(String... args) {
        return run(CliIo.system(), args);
    }

    /** Runs with the given streams and environment; returns the exit code. */
    public static int run(CliIo io, String... args) {
        boolean debug = debugRequested(io.env(), args);
        CommandLine commandLine = new CommandLine(new OnceflowCli(io));
        commandLine.setOut(io.out());
        commandLine.setErr(io.err());
        commandLine.setParameterExceptionHandler(
                (e, arguments) -> {
                    io.err().println(usageSentence(e));
                    if (debug) {
                        e.printStackTrace(io.err());
                    }
                    return ExitCode.USAGE;
                });
        commandLine.setExecutionExceptionHandler(
                (e, failed, parseResult) -> {
                    io.err().println(failureSentence(e, failed.getCommandSpec()));
                    if (debug) {
                        e.printStackTrace(io.err());
                    }
                    return isConfigurationProblem(e) ? ExitCode.USAGE : ExitCode.SOFTWARE;
                });
        try {
            return commandLine.execute(args);
        } finally {
            io.out().flush();
            io.err().flush();
        }
    }

    /** Decided from the raw arguments: a usage error can stop parsing before -v is seen. */
    private static boolean debugRequested(Map<String, String> env, String[] args) {
        return "1".equals(env.get("ONCEFLOW_DEBUG"))
                || List.of(args).contains("-v")
                || List.of(args).contains("--verbose");
    }

    public CliIo io() {
        return io;
    }

    @Override
    public Integer call() {
        throw new ParameterException(
                spec.commandLine(),
                "Missing command: choose one of "
                        + String.join(", ", spec.subcommands().keySet()));
    }

    private static String usageSentence(ParameterException e) {
        StringBuilder sentence = new StringBuilder(withoutFinalStop(e.getMessage()));
        if (e instanceof UnmatchedArgumentException unmatched
                && !unmatched.getSuggestions().isEmpty()) {
            sentence.append(" (did you mean ").append(unmatched.getSuggestions().get(0)).append("?)");
        }
        sentence.append("; see '")
                .append(e.getCommandLine().getCommandSpec().qualifiedName())
                .append(" --help'.");
        return sentence.toString();
    }

    private static String failureSentence(Exception e, CommandSpec command) {
        if (e instanceof CliFailure || e instanceof io.onceflow.ops.cluster.FlinkRestException) {
            return oneLine(e.getMessage());
        }
        // Kafka wraps the useful part: "Failed to construct kafka producer" around
        // "Invalid url in bootstrap.servers: x".
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = withoutFinalStop(e.getMessage());
        String rootMessage = withoutFinalStop(root.getMessage());
        String detail =
                root == e || rootMessage.isEmpty() || message.contains(rootMessage)
                        ? message
                        : message.isEmpty() ? rootMessage : message + ": " + rootMessage;
        if (detail.isEmpty()) {
            detail = e.getClass().getSimpleName();
        }
        return command.qualifiedName() + " failed: " + detail + ".";
    }

    private static boolean isConfigurationProblem(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ConfigException) {
                return true;
            }
        }
        return false;
    }

    /** A message fit to go inside a sentence: one line, no final full stop. */
    static String withoutFinalStop(String message) {
        String line = oneLine(message);
        return line.endsWith(".") ? line.substring(0, line.length() - 1) : line;
    }

    private static String oneLine(String message) {
        return message == null ? "" : message.replaceAll("\\s+", " ").strip();
    }

    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = OnceflowCli.class.getPackage().getImplementationVersion();
            return new String[] {"onceflow " + (version == null ? "(development build)" : version)};
        }
    }
}
