package io.onceflow.ops.jobs;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.onceflow.ops.cluster.FlinkRestException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the CLI remembers of a job it started: the Flink job id, and the jar, entry class and
 * arguments it ran with, so that {@code stop}, {@code resume} and {@code upgrade} need only the
 * job's name, and an upgrade whose new version fails can start the old one again. One JSON file
 * per job under the cluster directory ({@code var/cluster/jobs/<job>.json}); a cluster's REST API
 * does not say which jar a job came from.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Submission(
        String job,
        String jobId,
        String jar,
        String entryClass,
        String configFile,
        Map<String, String> overrides,
        List<String> programArgs,
        String lastSavepoint) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static Submission of(JobSpec spec, String jobId) {
        return new Submission(spec.job(), jobId, spec.jar().toString(), spec.entryClass(),
                spec.configFile().toString(), spec.overrides(), spec.programArgs(), null);
    }

    public JobSpec spec() {
        // Submissions recorded before jobs had their own entry class named none: the job's own one.
        String entry = entryClass != null ? entryClass : JobSpec.knownEntryClass(job).orElse(null);
        return new JobSpec(job, Path.of(configFile), Path.of(jar), entry, overrides == null ? Map.of() : overrides);
    }

    public Submission withSavepoint(String savepoint) {
        return new Submission(job, jobId, jar, entryClass, configFile, overrides, programArgs, savepoint);
    }

    public static Optional<Submission> load(Path directory, String job) {
        Path file = directory.resolve(job + ".json");
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), Submission.class));
        } catch (IOException e) {
            throw new FlinkRestException("Cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    public void save(Path directory) {
        try {
            Files.createDirectories(directory);
            Path file = directory.resolve(job + ".json");
            Path temporary = directory.resolve(job + ".json.tmp");
            JSON.writeValue(temporary.toFile(), this);
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new FlinkRestException("Cannot record the submission of " + job + " in " + directory + ": " + e.getMessage(), e);
        }
    }
}
