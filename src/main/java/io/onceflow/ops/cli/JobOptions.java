package io.onceflow.ops.cli;

import io.onceflow.ops.jobs.JobSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** A job by name, and what runs it ({@code @Mixin}). */
final class JobOptions {

    @Parameters(index = "0", paramLabel = "JOB", description = "The job: the name of its file in the jobs directory, e.g. payments.")
    String job;

    @Option(names = "--jobs-dir", paramLabel = "DIR", description = "Where the job files are (default: jobs/ of this checkout).")
    Path jobsDirectory;

    @Option(names = "--config", paramLabel = "FILE", description = "The job's YAML file (default: <jobs-dir>/<JOB>.yaml).")
    Path config;

    @Option(names = "--jar", paramLabel = "JAR", description = "The job jar (default: target/onceflow-*-job.jar of this checkout).")
    Path jar;

    @Option(names = "--entry-class", paramLabel = "CLASS",
            description = "The job's main class (default for payments: io.onceflow.payments.PaymentsJob, for analytics: io.onceflow.analytics.AnalyticsJob; required for any other job).")
    String entryClass;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a setting of the job's file, e.g. kafka.bootstrap-servers=127.0.0.1:9092; repeatable.")
    Map<String, String> overrides = new LinkedHashMap<>();

    /** The job's YAML file: {@code --config}, else {@code <jobs-dir>/<JOB>.yaml}. */
    Path configFile() {
        Path jobs = jobsDirectory != null ? jobsDirectory : ClusterOptions.home().resolve("jobs");
        return config != null ? config : JobSpec.configFileOf(jobs, job);
    }

    JobSpec spec() {
        Path jobs = jobsDirectory != null ? jobsDirectory : ClusterOptions.home().resolve("jobs");
        String entry = entryClass != null ? entryClass : JobSpec.knownEntryClass(job).orElseThrow(() -> new ParameterException(
                command.commandLine(), "Job '" + job + "' is none of " + String.join(", ", new java.util.TreeSet<>(JobSpec.KNOWN_ENTRY_CLASSES.keySet()))
                        + ", so its main class is unknown: give --entry-class CLASS"));
        Path file = config != null ? config : JobSpec.configFileOf(jobs, job);
        return new JobSpec(job, file, jar != null ? jar : defaultJar(), entry, overrides);
    }

    static Path defaultJar() {
        Path target = ClusterOptions.home().resolve("target");
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(target, "onceflow-*-job.jar")) {
            for (Path jar : jars) {
                return jar;
            }
        } catch (IOException e) {
            if (!Files.isDirectory(target)) {
                return target.resolve("onceflow-job.jar");
            }
            throw new UncheckedIOException(e);
        }
        return target.resolve("onceflow-job.jar");
    }
}
