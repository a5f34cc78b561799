package io.onceflow.ops.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A Flink cluster's REST API, as the operations need it: upload and run jars, list and inspect
 * jobs and their checkpoints, stop with a savepoint, trigger savepoints, cancel.
 *
 * <p>Plain {@code java.net.http} and Jackson rather than Flink's own {@code RestClusterClient}:
 * the operations then depend on the documented REST contract only, work against any cluster
 * version that keeps it, and need none of Flink's client classes on the caller's classpath. Every
 * failure is a {@link FlinkRestException} whose message is one sentence.
 */
public final class FlinkRest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final HttpClient http;
    private final Duration requestTimeout;

    public FlinkRest(URI base) {
        this(base, Duration.ofSeconds(60));
    }

    public FlinkRest(URI base, Duration requestTimeout) {
        String text = base.toString();
        this.base = URI.create(text.endsWith("/") ? text : text + "/");
        this.requestTimeout = requestTimeout;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    public URI baseUri() {
        return base;
    }

    // ------------------------------------------------------------------ cluster

    /** {@code GET /overview}: task managers, slots, jobs by state, Flink version. */
    public JsonNode overview() {
        return get("overview");
    }

    /** Whether the REST endpoint answers at all (the JobManager is up). */
    public boolean isReachable() {
        try {
            overview();
            return true;
        } catch (FlinkRestException e) {
            return false;
        }
    }

    /** Registered task managers ({@code GET /taskmanagers}). */
    public int taskManagerCount() {
        return get("taskmanagers").path("taskmanagers").size();
    }

    // ------------------------------------------------------------------ jars

    /** {@code POST /jars/upload}: uploads a jar, returns its id on the cluster. */
    public String uploadJar(Path jar) {
        return uploadJar(jar, jar.getFileName().toString());
    }

    /** {@code POST /jars/upload} of {@code jar} under the file name {@code name}; returns its id. */
    public String uploadJar(Path jar, String name) {
        if (!Files.isRegularFile(jar)) {
            throw new FlinkRestException("The jar " + jar + " does not exist.");
        }
        String boundary = "onceflow-" + UUID.randomUUID();
        String head =
                "--" + boundary + "\r\n"
                        + "Content-Disposition: form-data; name=\"jarfile\"; filename=\""
                        + name + "\"\r\n"
                        + "Content-Type: application/x-java-archive\r\n\r\n";
        String tail = "\r\n--" + boundary + "--\r\n";
        HttpRequest.BodyPublisher body;
        try {
            body =
                    HttpRequest.BodyPublishers.concat(
                            HttpRequest.BodyPublishers.ofString(head),
                            HttpRequest.BodyPublishers.ofFile(jar),
                            HttpRequest.BodyPublishers.ofString(tail));
        } catch (IOException e) {
            throw new FlinkRestException("Cannot read the jar " + jar + ": " + e.getMessage(), e);
        }
        HttpRequest request =
                request("jars/upload")
                        .timeout(Duration.ofMinutes(5))
                        .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                        .POST(body)
                        .build();
        JsonNode answer = send(request, "upload " + jar.getFileName());
        String file = answer.path("filename").asText("");
        if (file.isEmpty()) {
            throw new FlinkRestException("Flink accepted the jar " + jar.getFileName() + " but named no file for it.");
        }
        // The id is the file name the JobManager stored it under.
        return Path.of(file).getFileName().toString();
    }

    /** Ids of the jars uploaded to the cluster ({@code GET /jars}). */
    public List<String> jarIds() {
        return jars().stream().map(UploadedJar::id).toList();
    }

    /** A jar on the cluster: its id and the file name it was uploaded under. */
    public record UploadedJar(String id, String name) {}

    /** The jars uploaded to the cluster ({@code GET /jars}). */
    public List<UploadedJar> jars() {
        List<UploadedJar> jars = new ArrayList<>();
        get("jars").path("files").forEach(file -> jars.add(new UploadedJar(file.path("id").asText(), file.path("name").asText())));
        return jars;
    }

    public void deleteJar(String jarId) {
        send(request("jars/" + jarId).DELETE().build(), "delete jar " + jarId);
    }

    /** What {@code POST /jars/:id/run} takes. {@code entryClass} null: the jar manifest's. */
    public record RunRequest(
            String entryClass,
            List<String> programArgs,
            Integer parallelism,
            String savepointPath,
            boolean allowNonRestoredState) {

        public static RunRequest of(List<String> programArgs) {
            return new RunRequest(null, programArgs, null, null, false);
        }

        public RunRequest fromSavepoint(String path, boolean allowNonRestored) {
            return new RunRequest(entryClass, programArgs, parallelism, path, allowNonRestored);
        }

        public RunRequest withEntryClass(String className) {
            return new RunRequest(className, programArgs, parallelism, savepointPath, allowNonRestoredState);
        }
    }

    /** {@code POST /jars/:id/run}: runs the jar's main on the JobManager, returns the job id. */
    public String runJar(String jarId, RunRequest run) {
        ObjectNode body = JSON.createObjectNode();
        if (run.entryClass() != null) {
            body.put("entryClass", run.entryClass());
        }
        ArrayNode args = body.putArray("programArgsList");
        run.programArgs().forEach(args::add);
        if (run.parallelism() != null) {
            body.put("parallelism", run.parallelism());
        }
        if (run.savepointPath() != null) {
            body.put("savepointPath", run.savepointPath());
            body.put("allowNonRestoredState", run.allowNonRestoredState());
            // The new job owns nothing of the savepoint: it stays usable for a fallback.
            body.put("claimMode", "NO_CLAIM");
        }
        JsonNode answer = post("jars/" + jarId + "/run", body, Duration.ofMinutes(3), "run jar " + jarId);
        return answer.path("jobid").asText();
    }

    // ------------------------------------------------------------------ jobs

    /** A job as {@code GET /jobs/overview} lists it. */
    public record JobSummary(String id, String name, String state, long startTime, long endTime) {
        public boolean isGloballyTerminal() {
            return switch (state) {
                case "FINISHED", "CANCELED", "FAILED" -> true;
                default -> false;
            };
        }
    }

    public List<JobSummary> jobs() {
        List<JobSummary> jobs = new ArrayList<>();
        for (JsonNode job : get("jobs/overview").path("jobs")) {
            jobs.add(
                    new JobSummary(
                            job.path("jid").asText(),
                            job.path("name").asText(),
                            job.path("state").asText(),
                            job.path("start-time").asLong(),
                            job.path("end-time").asLong()));
        }
        return jobs;
    }

    public Optional<JobSummary> job(String jobId) {
        return jobs().stream().filter(job -> job.id().equals(jobId)).findFirst();
    }

    /** {@code GET /jobs/:id}: the job with its vertices and their task states. */
    public JsonNode jobDetails(String jobId) {
        return get("jobs/" + jobId);
    }

    /** Whether the job is RUNNING with every task of every vertex running (not just scheduled). */
    public boolean allTasksRunning(String jobId) {
        JsonNode details = jobDetails(jobId);
        if (!"RUNNING".equals(details.path("state").asText())) {
            return false;
        }
        for (JsonNode vertex : details.path("vertices")) {
            JsonNode tasks = vertex.path("tasks");
            int running = tasks.path("RUNNING").asInt() + tasks.path("FINISHED").asInt();
            if (running < vertex.path("parallelism").asInt()) {
                return false;
            }
        }
        return true;
    }

    /** The job's failure history since it started: the newest root cause, if any. */
    public Optional<String> latestFailure(String jobId) {
        JsonNode history = get("jobs/" + jobId + "/exceptions?maxExceptions=1").path("exceptionHistory").path("entries");
        if (history.isEmpty()) {
            return Optional.empty();
        }
        String stack = history.get(0).path("stacktrace").asText(history.get(0).path("exceptionName").asText());
        return Optional.of(firstLine(stack));
    }

    /**
     * When the job last failed (a task failure, a lost TaskManager), in epoch milliseconds; 0 when
     * it never did. A region failover leaves the job RUNNING, so this is how to see one happened.
     */
    public long latestFailureAt(String jobId) {
        JsonNode history = get("jobs/" + jobId + "/exceptions?maxExceptions=1").path("exceptionHistory").path("entries");
        return history.isEmpty() ? 0 : history.get(0).path("timestamp").asLong();
    }

    /** Checkpoint statistics of a job: completed count and the latest completed checkpoint. */
    public record Checkpoints(long completed, long failed, long latestCompletedId, String latestCompletedPath, long latestCompletedAt) {}

    public Checkpoints checkpoints(String jobId) {
        JsonNode stats = get("jobs/" + jobId + "/checkpoints");
        JsonNode latest = stats.path("latest").path("completed");
        return new Checkpoints(
                stats.path("counts").path("completed").asLong(),
                stats.path("counts").path("failed").asLong(),
                latest.isObject() ? latest.path("id").asLong() : -1,
                latest.isObject() ? latest.path("external_path").asText(null) : null,
                latest.isObject() ? latest.path("latest_ack_timestamp").asLong() : 0);
    }

    /** {@code POST /jobs/:id/stop}: stop with a savepoint; waits for it and returns its path. */
    public String stopWithSavepoint(String jobId, String targetDirectory, Duration timeout) {
        ObjectNode body = JSON.createObjectNode();
        if (targetDirectory != null) {
            body.put("targetDirectory", targetDirectory);
        }
        body.put("drain", false);
        body.put("formatType", "CANONICAL");
        String trigger = post("jobs/" + jobId + "/stop", body, requestTimeout, "stop job " + jobId).path("request-id").asText();
        return awaitSavepoint(jobId, trigger, timeout, "stop job " + jobId + " with a savepoint");
    }

    /** {@code POST /jobs/:id/savepoints}: a savepoint of a job that keeps running; returns its path. */
    public String triggerSavepoint(String jobId, String targetDirectory, Duration timeout) {
        ObjectNode body = JSON.createObjectNode();
        if (targetDirectory != null) {
            body.put("target-directory", targetDirectory);
        }
        body.put("cancel-job", false);
        body.put("formatType", "CANONICAL");
        String trigger = post("jobs/" + jobId + "/savepoints", body, requestTimeout, "trigger a savepoint of job " + jobId).path("request-id").asText();
        return awaitSavepoint(jobId, trigger, timeout, "take a savepoint of job " + jobId);
    }

    private String awaitSavepoint(String jobId, String trigger, Duration timeout, String what) {
        JsonNode status =
                Waits.until(
                        what,
                        timeout,
                        () -> get("jobs/" + jobId + "/savepoints/" + trigger),
                        answer -> "COMPLETED".equals(answer.path("status").path("id").asText()));
        JsonNode operation = status.path("operation");
        if (operation.hasNonNull("failure-cause")) {
            JsonNode cause = operation.path("failure-cause");
            throw new FlinkRestException(
                    "Flink could not " + what + ": "
                            + withoutFinalStop(firstLine(cause.path("stack-trace").asText(cause.path("class").asText("unknown cause")))) + ".");
        }
        return operation.path("location").asText();
    }

    /** {@code POST /savepoint-disposal}: deletes a savepoint's files; waits until done. */
    public void disposeSavepoint(String savepointPath, Duration timeout) {
        ObjectNode body = JSON.createObjectNode().put("savepoint-path", savepointPath);
        String trigger = post("savepoint-disposal", body, requestTimeout, "dispose of savepoint " + savepointPath).path("request-id").asText();
        JsonNode status = Waits.until("dispose of savepoint " + savepointPath, timeout,
                () -> get("savepoint-disposal/" + trigger),
                answer -> "COMPLETED".equals(answer.path("status").path("id").asText()));
        if (status.path("operation").hasNonNull("failure-cause")) {
            throw new FlinkRestException("Flink could not dispose of savepoint " + savepointPath + ".");
        }
    }

    /** {@code PATCH /jobs/:id?mode=cancel}. */
    public void cancel(String jobId) {
        send(request("jobs/" + jobId + "?mode=cancel").method("PATCH", HttpRequest.BodyPublishers.noBody()).build(), "cancel job " + jobId);
    }

    // ------------------------------------------------------------------ plumbing

    /** Polls {@code probe} until {@code done} holds, or fails after {@code timeout}. */
    public <T> T await(String what, Duration timeout, Supplier<T> probe, Predicate<T> done) {
        return Waits.until(what, timeout, probe, done);
    }

    private JsonNode get(String path) {
        return send(request(path).GET().build(), "GET /" + path);
    }

    private JsonNode post(String path, JsonNode body, Duration timeout, String what) {
        HttpRequest request =
                request(path)
                        .timeout(timeout)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                        .build();
        return send(request, what);
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(requestTimeout);
    }

    private JsonNode send(HttpRequest request, String what) {
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (ConnectException e) {
            throw new FlinkRestException("No Flink cluster answers at " + base + " (" + what + ").", e);
        } catch (IOException e) {
            throw new FlinkRestException("Flink at " + base + " did not answer " + what + ": " + e.getMessage() + ".", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FlinkRestException("Interrupted while waiting for Flink to " + what + ".", e);
        }
        JsonNode answer;
        try {
            answer = response.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(response.body());
        } catch (IOException e) {
            answer = JSON.createObjectNode().put("raw", response.body());
        }
        if (response.statusCode() >= 300) {
            throw new FlinkRestException(
                    "Flink refused to " + what + " (HTTP " + response.statusCode() + "): " + errorSentence(answer) + ".",
                    response.statusCode());
        }
        return answer;
    }

    /** Flink's error bodies hold whole stack traces; the first line that says something is enough. */
    private static String errorSentence(JsonNode answer) {
        JsonNode errors = answer.path("errors");
        if (errors.isArray() && !errors.isEmpty()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode error : errors) {
                text.append(error.asText()).append('\n');
            }
            return withoutFinalStop(mostTellingLine(text.toString()));
        }
        return withoutFinalStop(firstLine(answer.path("raw").asText(answer.toString())));
    }

    /** The deepest "Caused by" names the real problem; the top lines are Flink's wrappers. */
    static String mostTellingLine(String text) {
        String best = firstLine(text);
        for (String line : text.split("\n")) {
            String trimmed = line.strip();
            if (trimmed.startsWith("Caused by: ")) {
                best = trimmed.substring("Caused by: ".length());
            }
        }
        return best;
    }

    static String firstLine(String text) {
        if (text == null) {
            return "";
        }
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                return line.strip();
            }
        }
        return "";
    }

    private static String withoutFinalStop(String text) {
        String line = text.replaceAll("\\s+", " ").strip();
        return line.endsWith(".") ? line.substring(0, line.length() - 1) : line;
    }
}
