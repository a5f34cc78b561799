package io.onceflow.ops.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.onceflow.config.ConfigException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A job as the operations see it: a name ({@code payments}), its YAML file ({@code
 * jobs/payments.yaml}), the jar and entry class that run it, and {@code --set} overrides. The
 * program arguments are what every onceflow job's main takes: {@code --config <file> [--set k=v]...}.
 *
 * <p>The file is passed by path: the JobManager runs the jar's main and reads it there. On this
 * machine's local cluster that is the same file; in production the file is baked into the image
 * (deploy/docker/Dockerfile) and the FlinkDeployment passes its path inside the container.
 *
 * <p>Only the {@code job} section is read here (name, parallelism, checkpointing); the job's own
 * configuration class validates the whole file when its main runs.
 */
public record JobSpec(String job, Path configFile, Path jar, String entryClass, Map<String, String> overrides, List<String> extraArgs) {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /**
     * The main class of each job this project ships, by the name of its file in {@code jobs/}.
     * The job jar's manifest names only one main class ({@code PaymentsJob}), so a job that is
     * not in here needs its entry class given explicitly.
     */
    public static final Map<String, String> KNOWN_ENTRY_CLASSES = Map.of(
            "payments", "io.onceflow.payments.PaymentsJob",
            "analytics", "io.onceflow.analytics.AnalyticsJob");

    /** The entry class of a job this project ships; empty for any other job. */
    public static java.util.Optional<String> knownEntryClass(String job) {
        return java.util.Optional.ofNullable(KNOWN_ENTRY_CLASSES.get(job));
    }

    public JobSpec {
        configFile = configFile.toAbsolutePath().normalize();
        jar = jar == null ? null : jar.toAbsolutePath().normalize();
        overrides = Map.copyOf(new LinkedHashMap<>(overrides));
        extraArgs = List.copyOf(extraArgs);
    }

    public JobSpec(String job, Path configFile, Path jar, String entryClass, Map<String, String> overrides) {
        this(job, configFile, jar, entryClass, overrides, List.of());
    }

    /** {@code <jobsDirectory>/<job>.yaml}, refused with one sentence when it does not exist. */
    public static Path configFileOf(Path jobsDirectory, String job) {
        Path file = jobsDirectory.resolve(job + ".yaml");
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("There is no job '" + job + "': " + file + " does not exist.");
        }
        return file;
    }

    public List<String> programArgs() {
        List<String> args = new ArrayList<>(List.of("--config", configFile.toString()));
        overrides.forEach((key, value) -> {
            args.add("--set");
            args.add(key + "=" + value);
        });
        args.addAll(extraArgs);
        return args;
    }

    public JobSpec withJar(Path newJar) {
        return new JobSpec(job, configFile, newJar, entryClass, overrides, extraArgs);
    }

    /** The job's name on the cluster: {@code job.name} of the file, overrides applied. */
    public String flinkJobName() {
        return jobSection().path("name").asText(job);
    }

    public int parallelism() {
        return jobSection().path("parallelism").asInt(1);
    }

    /** {@code job.checkpoint-directory}; empty when the cluster's default applies. */
    public String checkpointDirectory() {
        return jobSection().path("checkpoint-directory").asText("");
    }

    private JsonNode jobSection() {
        JsonNode tree;
        try {
            tree = YAML.readTree(Files.readString(configFile));
        } catch (IOException e) {
            throw new ConfigException("Cannot read " + configFile + ": " + e.getMessage());
        }
        if (tree == null || !tree.isObject()) {
            throw new ConfigException(configFile + " must be a YAML mapping of settings.");
        }
        overrides.forEach((key, value) -> {
            String[] parts = key.split("\\.");
            ObjectNode node = (ObjectNode) tree;
            for (int i = 0; i < parts.length - 1; i++) {
                JsonNode child = node.get(parts[i]);
                node = child instanceof ObjectNode object ? object : node.putObject(parts[i]);
            }
            node.set(parts[parts.length - 1], TextNode.valueOf(value));
        });
        return tree.path("job");
    }
}
