package io.onceflow.ops.cluster;

import org.apache.flink.util.FileUtils;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The Flink jars the local cluster runs: the runtime dependencies of {@code
 * deploy/local-cluster/pom.xml}, resolved by Maven into {@code lib/} once, and again whenever that
 * POM changes. Nothing of the job is in it, as in a real distribution's {@code lib/}.
 */
public final class FlinkDistribution {

    private static final String STAMP = ".resolved";

    private final Path lib;

    private FlinkDistribution(Path lib) {
        this.lib = lib;
    }

    /** The distribution of this checkout: {@code <home>/var/cluster/flink/lib}. */
    public static Path defaultLib(Path projectHome) {
        return projectHome.resolve("var/cluster/flink/lib");
    }

    /**
     * The distribution in {@code lib}, resolving it first with Maven from {@code pom} when it is
     * missing or older than the POM: offline first, since the local repository usually holds every
     * jar already (the project's own build needs most of them), then online.
     */
    public static FlinkDistribution ensure(Path pom, Path lib) {
        Path stamp = lib.resolve(STAMP);
        try {
            if (Files.exists(stamp)
                    && (!Files.exists(pom)
                            || Files.getLastModifiedTime(stamp).compareTo(Files.getLastModifiedTime(pom)) >= 0)) {
                return new FlinkDistribution(lib);
            }
            if (!Files.exists(pom)) {
                throw new FlinkRestException("No Flink distribution in " + lib + ", and no " + pom + " to resolve one from.");
            }
            resolve(pom, lib);
            return new FlinkDistribution(lib);
        } catch (IOException e) {
            throw new FlinkRestException("Cannot prepare the Flink distribution in " + lib + ": " + e.getMessage(), e);
        }
    }

    private static synchronized void resolve(Path pom, Path lib) throws IOException {
        Files.createDirectories(lib.getParent());
        try {
            resolve(pom, lib, true);
        } catch (IOException offlineFailed) {
            resolve(pom, lib, false);
        }
    }

    private static void resolve(Path pom, Path lib, boolean offline) throws IOException {
        Path staging = lib.resolveSibling(lib.getFileName() + ".staging");
        FileUtils.deleteDirectory(staging.toFile());
        Files.createDirectories(staging);
        List<String> command = new ArrayList<>(List.of(maven(), "-B", "-q"));
        if (offline) {
            command.add("-o");
        }
        command.addAll(List.of(
                "-f", pom.toAbsolutePath().toString(),
                "dependency:copy-dependencies",
                "-DoutputDirectory=" + staging.toAbsolutePath()));
        Path log = lib.resolveSibling("resolve.log");
        Process maven =
                new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .start();
        try {
            if (!maven.waitFor(10, TimeUnit.MINUTES)) {
                maven.destroyForcibly();
                throw new IOException("Maven did not resolve " + pom + " within 10 minutes (see " + log + ")");
            }
        } catch (InterruptedException e) {
            maven.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while Maven resolved " + pom);
        }
        if (maven.exitValue() != 0) {
            throw new IOException("Maven could not resolve " + pom + " (exit " + maven.exitValue() + "; see " + log + ")");
        }
        FileUtils.deleteDirectory(lib.toFile());
        Files.move(staging, lib, StandardCopyOption.ATOMIC_MOVE);
        Files.writeString(lib.resolve(STAMP), pom.toAbsolutePath() + "\n");
    }

    private static String maven() {
        String explicit = System.getenv("ONCEFLOW_MAVEN");
        return explicit != null && !explicit.isBlank() ? explicit : "mvn";
    }

    /** The jars already in {@code lib}, as a running cluster's configuration names them. */
    public static FlinkDistribution at(Path lib) {
        return new FlinkDistribution(lib);
    }

    public Path lib() {
        return lib;
    }

    /** Every jar of the distribution, sorted, for a class path or a class loader. */
    public List<Path> jars() {
        try (Stream<Path> files = Files.list(lib)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jar")).sorted().toList();
        } catch (IOException e) {
            throw new FlinkRestException("Cannot list the Flink distribution in " + lib + ": " + e.getMessage(), e);
        }
    }

    /** {@code lib/*}: the JVM expands it, keeping command lines short. */
    public String classPath() {
        return lib.toAbsolutePath() + "/*";
    }
}
