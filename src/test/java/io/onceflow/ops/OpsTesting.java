package io.onceflow.ops;

import io.onceflow.local.LocalEnvironment;

import io.onceflow.ops.cli.CliIo;
import io.onceflow.ops.cli.OnceflowCli;
import io.onceflow.ops.cluster.FlinkDistribution;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What the operations tests share: the cluster's Flink jars, the job jar, in-process CLI runs. */
public final class OpsTesting {

    private OpsTesting() {}

    /** The checkout's distribution (var/cluster/flink/lib), resolved on first use; failsafe runs in the checkout. */
    public static FlinkDistribution distribution() {
        Path home = Path.of("").toAbsolutePath();
        return FlinkDistribution.ensure(home.resolve("deploy/local-cluster/pom.xml"), FlinkDistribution.defaultLib(home));
    }

    /** The shaded job jar that {@code mvn package} built before the integration tests. */
    public static Path jobJar() {
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(Path.of("target").toAbsolutePath(), "onceflow-*-job.jar")) {
            for (Path jar : jars) {
                return jar;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("No target/onceflow-*-job.jar: run the integration tests through mvn verify.");
    }

    /**
     * The real services of an ops test under {@code root}/env on free ports: a broker with
     * {@code topics} (2 partitions each), PostgreSQL and the gateway simulator with realistic
     * answers.
     */
    public static LocalEnvironment localServices(Path root, List<String> topics) throws Exception {
        return LocalEnvironment.start(root.resolve("env"), new LocalEnvironment.Ports(0, 0, 0),
                LocalEnvironment.GatewayProfile.realistic(), topics, 2);
    }

    /** One in-process run of the CLI. */
    public record Run(int exitCode, String out, String err) {
        public String lastOutLine() {
            List<String> lines = out.lines().filter(l -> !l.isBlank()).toList();
            return lines.isEmpty() ? "" : lines.get(lines.size() - 1).strip();
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- out\n" + out + "--- err\n" + err;
        }
    }

    public static Run cli(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CliIo io = new CliIo(new ByteArrayInputStream(new byte[0]), new PrintWriter(out), new PrintWriter(err), Map.of());
        int exit = OnceflowCli.run(io, args.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    public static Run cli(String... args) {
        return cli(List.of(args));
    }

    /** The lists one after the other: a command line from its parts. */
    @SafeVarargs
    public static List<String> concat(List<String>... parts) {
        List<String> all = new ArrayList<>();
        for (List<String> part : parts) {
            all.addAll(part);
        }
        return all;
    }

    /** {@code --set k=v} pairs. */
    public static List<String> sets(Map<String, String> overrides) {
        List<String> args = new ArrayList<>();
        overrides.forEach((k, v) -> {
            args.add("--set");
            args.add(k + "=" + v);
        });
        return args;
    }
}
