package io.onceflow.ops.jobs;

import io.onceflow.ops.cluster.FlinkRest;
import io.onceflow.ops.cluster.FlinkRestException;
import io.onceflow.ops.cluster.Waits;
import io.onceflow.ops.upgrade.CheckReport;
import io.onceflow.ops.upgrade.StateCheck;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The operations on a cluster's jobs, all through its REST API: submit, stop with a savepoint,
 * resume, upgrade. The CLI commands are thin wrappers around these; the tests and the chaos runs
 * call them directly.
 *
 * <p>Progress goes to {@code log} (the CLI's standard error), one line per step, so an operator
 * sees where a long operation is.
 */
public final class JobOperations {

    private static final int SAVEPOINT_ATTEMPTS = 3;
    private static final Pattern CHECKPOINT_DIRECTORY = Pattern.compile("chk-(\\d+)");

    private final FlinkRest rest;
    private final Path records;
    private final PrintWriter log;
    private final Duration timeout;

    /**
     * @param records where the submissions are remembered ({@code var/cluster/jobs})
     * @param timeout how long each step may take (a savepoint, a job coming up)
     */
    public JobOperations(FlinkRest rest, Path records, PrintWriter log, Duration timeout) {
        this.rest = rest;
        this.records = records;
        this.log = log;
        this.timeout = timeout;
    }

    public FlinkRest rest() {
        return rest;
    }

    /** A job started: its id, and how long from the request until every task ran. */
    public record Started(String jobId, Duration untilRunning, Duration untilCheckpointed) {}

    /**
     * Uploads the jar and runs it with the job's configuration, optionally from a savepoint or
     * checkpoint; waits until every task runs and, when {@code awaitCheckpoint}, until a checkpoint
     * completed. Refuses when a job of the same name already runs.
     */
    public Started submit(JobSpec spec, String restoreFrom, boolean allowNonRestoredState, boolean awaitCheckpoint) {
        long start = System.nanoTime();
        String jobId = start(spec, restoreFrom, allowNonRestoredState);
        Duration untilRunning = awaitRunning(jobId, start);
        Duration untilCheckpointed = null;
        if (awaitCheckpoint) {
            untilCheckpointed = awaitCheckpoint(jobId, start);
        }
        return new Started(jobId, untilRunning, untilCheckpointed);
    }

    /** Uploads the jar and runs it, and records the submission; returns the job id at once. */
    private String start(JobSpec spec, String restoreFrom, boolean allowNonRestoredState) {
        String name = spec.flinkJobName();
        rest.jobs().stream()
                .filter(job -> job.name().equals(name) && !job.isGloballyTerminal())
                .findFirst()
                .ifPresent(job -> {
                    throw new FlinkRestException("Job '" + spec.job() + "' already runs on the cluster as " + job.id() + " (" + job.state() + "); stop it first.");
                });
        String jarId = upload(spec.jar());
        FlinkRest.RunRequest run = FlinkRest.RunRequest.of(spec.programArgs()).withEntryClass(spec.entryClass());
        if (restoreFrom != null) {
            run = run.fromSavepoint(restoreFrom, allowNonRestoredState);
        }
        log("Running " + spec.jar().getFileName() + " as '" + name + "'" + (restoreFrom == null ? "" : " from " + restoreFrom) + " ...");
        String jobId = rest.runJar(jarId, run);
        Submission submission = Submission.of(spec, jobId);
        Optional<Submission> previous = Submission.load(records, spec.job());
        submission = submission.withSavepoint(previous.map(Submission::lastSavepoint).orElse(null));
        submission.save(records);
        return jobId;
    }

    /**
     * The cluster's id of {@code jar}, uploading it only when the cluster lacks it. Jars are
     * uploaded under a name that holds their content's SHA-256 ({@link #contentName}), so a jar
     * found under that name is this very file, never an older build of the same name. A resume
     * after a JobManager loss, a replay or an upgrade back to the old version then skips the
     * 120 MB upload, as long as the JobManager kept its upload directory ({@code web.upload.dir}).
     */
    private String upload(Path jar) {
        String name = contentName(jar);
        for (FlinkRest.UploadedJar uploaded : rest.jars()) {
            if (uploaded.name().equals(name)) {
                log("Using " + jar.getFileName() + ", on the cluster already as " + uploaded.id() + ".");
                return uploaded.id();
            }
        }
        log("Uploading " + jar + " as " + name + " ...");
        return rest.uploadJar(jar, name);
    }

    /** {@code onceflow-job.jar} as {@code onceflow-job-<first 16 hex digits of its SHA-256>.jar}. */
    static String contentName(Path jar) {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("This JVM has no SHA-256.", e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(jar), sha256)) {
            in.transferTo(OutputStream.nullOutputStream());
        } catch (IOException e) {
            throw new FlinkRestException("Cannot read the jar " + jar + ": " + e.getMessage(), e);
        }
        String file = jar.getFileName().toString();
        String stem = file.endsWith(".jar") ? file.substring(0, file.length() - 4) : file;
        return stem + "-" + HexFormat.of().formatHex(sha256.digest()).substring(0, 16) + ".jar";
    }

    /** Waits until every task of the job runs; a failure or a terminal state ends the wait at once. */
    public Duration awaitRunning(String jobId, long startNanos) {
        rest.await("see job " + jobId + " running", timeout, () -> {
            failIfFailed(jobId);
            return rest.allTasksRunning(jobId);
        }, running -> running);
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    /** Waits until the job completed a checkpoint of its own (a restored one does not count). */
    public Duration awaitCheckpoint(String jobId, long startNanos) {
        rest.await("see job " + jobId + " complete a checkpoint", timeout, () -> {
            failIfFailed(jobId);
            return rest.checkpoints(jobId).completed();
        }, completed -> completed >= 1);
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    private void failIfFailed(String jobId) {
        String state = rest.job(jobId).map(FlinkRest.JobSummary::state).orElse("UNKNOWN");
        if (state.equals("FAILED") || state.equals("CANCELED") || state.equals("FINISHED")) {
            String cause = rest.latestFailure(jobId).map(f -> ": " + f).orElse("");
            throw new Waits.Abort(new FlinkRestException("Job " + jobId + " is " + state + cause + "."));
        }
        rest.latestFailure(jobId).ifPresent(failure -> {
            throw new Waits.Abort(new FlinkRestException("Job " + jobId + " failed after it started: " + failure + "."));
        });
    }

    /**
     * Takes a savepoint (or stops with one) once every task of the job runs. A savepoint is
     * refused while a task restarts ("is not being executed at the moment"), which a job that is
     * failing over after a database or broker hiccup does for a few seconds; the job keeps
     * running then, so the request is made again, at most {@value #SAVEPOINT_ATTEMPTS} times.
     */
    private String whenRunning(String jobId, String what, Supplier<String> savepoint) {
        for (int attempt = 1; ; attempt++) {
            rest.await("see every task of job " + jobId + " running before it can " + what, timeout,
                    () -> rest.allTasksRunning(jobId), running -> running);
            try {
                return savepoint.get();
            } catch (FlinkRestException e) {
                boolean stillRunning = rest.job(jobId).map(job -> job.state().equals("RUNNING")).orElse(false);
                if (!stillRunning || attempt == SAVEPOINT_ATTEMPTS) {
                    throw e;
                }
                log("Could not " + what + " (" + e.getMessage() + "); the job still runs, trying again.");
            }
        }
    }

    /** The running job of this name: the one remembered, or the only one on the cluster by that name. */
    public String runningJobId(JobSpec spec) {
        String name = spec.flinkJobName();
        Optional<Submission> remembered = Submission.load(records, spec.job());
        var running = rest.jobs().stream().filter(job -> job.state().equals("RUNNING")).toList();
        if (remembered.isPresent()) {
            String id = remembered.get().jobId();
            if (running.stream().anyMatch(job -> job.id().equals(id))) {
                return id;
            }
        }
        var byName = running.stream().filter(job -> job.name().equals(name)).toList();
        if (byName.size() == 1) {
            return byName.get(0).id();
        }
        if (byName.isEmpty()) {
            throw new FlinkRestException("No job '" + spec.job() + "' (" + name + ") is running on the cluster at " + rest.baseUri() + ".");
        }
        throw new FlinkRestException(byName.size() + " jobs named '" + name + "' are running; stop all but one.");
    }

    /** A stop: the savepoint, and how long from the request until it was complete. */
    public record Stopped(String jobId, String savepoint, Duration took) {}

    /** Stops the job with a savepoint in the cluster's savepoint directory (or {@code targetDirectory}). */
    public Stopped stop(JobSpec spec, String targetDirectory) {
        String jobId = runningJobId(spec);
        log("Stopping job " + jobId + " with a savepoint ...");
        long start = System.nanoTime();
        String savepoint = whenRunning(jobId, "stop it with a savepoint", () -> rest.stopWithSavepoint(jobId, targetDirectory, timeout));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        Submission.load(records, spec.job())
                .filter(s -> s.jobId().equals(jobId))
                .ifPresent(s -> s.withSavepoint(savepoint).save(records));
        return new Stopped(jobId, savepoint, took);
    }

    /** The savepoint {@code stop} took last for this job. */
    public Optional<String> lastSavepoint(String job) {
        return Submission.load(records, job).map(Submission::lastSavepoint);
    }

    public Optional<Submission> submission(String job) {
        return Submission.load(records, job);
    }

    /**
     * The newest retained checkpoint of the job that last ran under this name: {@code
     * <checkpoint dir>/<job id>/chk-N/_metadata} with the highest N, where the directory is the
     * job's {@code job.checkpoint-directory} or else {@code clusterCheckpoints}. What a resume
     * after the loss of the JobManager restores, since the JobManager forgot the job.
     */
    public Path latestRetainedCheckpoint(JobSpec spec, Path clusterCheckpoints) {
        Submission last = Submission.load(records, spec.job())
                .orElseThrow(() -> new FlinkRestException("No record of a run of '" + spec.job() + "' in " + records + ", so its checkpoints are unknown; give --savepoint."));
        String configured = spec.checkpointDirectory();
        Path directory = configured.isEmpty() ? clusterCheckpoints : toPath(configured);
        if (directory == null) {
            throw new FlinkRestException("The job's checkpoints are in the cluster's execution.checkpointing.dir, which is unknown here; give --checkpoint-dir.");
        }
        Path jobDirectory = directory.resolve(last.jobId());
        if (!Files.isDirectory(jobDirectory)) {
            throw new FlinkRestException("Job " + last.jobId() + " left no checkpoints in " + directory + ".");
        }
        try (Stream<Path> candidates = Files.list(jobDirectory)) {
            return candidates
                    .filter(p -> CHECKPOINT_DIRECTORY.matcher(p.getFileName().toString()).matches())
                    .filter(p -> Files.exists(p.resolve("_metadata")))
                    .max(Comparator.comparingLong(JobOperations::checkpointNumber))
                    .orElseThrow(() -> new FlinkRestException("Job " + last.jobId() + " has no completed checkpoint in " + jobDirectory + "."));
        } catch (IOException e) {
            throw new FlinkRestException("Cannot list " + jobDirectory + ": " + e.getMessage(), e);
        }
    }

    private static long checkpointNumber(Path directory) {
        Matcher m = CHECKPOINT_DIRECTORY.matcher(directory.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    static Path toPath(String uriOrPath) {
        if (uriOrPath.startsWith("file:")) {
            return Path.of(URI.create(uriOrPath));
        }
        if (uriOrPath.contains("://")) {
            throw new FlinkRestException("Only local checkpoint directories can be searched here, not " + uriOrPath + "; give --savepoint.");
        }
        return Path.of(uriOrPath);
    }

    // ------------------------------------------------------------------ bounded runs

    /** A bounded run that finished: its id, the records its source read, how long it took. */
    public record Finished(String jobId, long records, Duration took) {}

    /**
     * Submits a bounded job (a replay: a new job, no savepoint) and waits until it FINISHED,
     * printing a progress line to the log every {@code every}: the records its source vertex
     * emitted (the REST API's {@code write-records} of the vertex named {@code Source: ...}) of
     * {@code total}, the rate, and the time left at that rate. A job that fails, is cancelled
     * or does not finish within the timeout ends the wait with its failure.
     *
     * @param total the offsets of the range: an upper bound of its records (transaction markers
     *     take offsets too)
     */
    public Finished runToEnd(JobSpec spec, long total, Duration every) {
        long start = System.nanoTime();
        String jobId = start(spec, null, false);
        long[] lastPrint = {System.nanoTime()};
        long[] done = {0};
        rest.await("see job " + jobId + " finish", timeout, () -> {
            var details = rest.jobDetails(jobId);
            String state = details.path("state").asText();
            done[0] = sourceRecords(details);
            if (state.equals("FAILED") || state.equals("CANCELED")) {
                String cause = rest.latestFailure(jobId).map(f -> ": " + f).orElse("");
                throw new Waits.Abort(new FlinkRestException("Job " + jobId + " is " + state + cause + "."));
            }
            if (System.nanoTime() - lastPrint[0] >= every.toNanos() && !state.equals("FINISHED")) {
                lastPrint[0] = System.nanoTime();
                log(progressLine(done[0], total, Duration.ofNanos(System.nanoTime() - start)));
            }
            return state;
        }, state -> state.equals("FINISHED"));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        log(progressLine(done[0], total, took) + ", finished");
        return new Finished(jobId, done[0], took);
    }

    /** {@code 1200 of 5000 records (24%), 350 records/s, 11 s left}. */
    public static String progressLine(long done, long total, Duration elapsed) {
        double seconds = Math.max(0.001, elapsed.toMillis() / 1000.0);
        double rate = done / seconds;
        long percent = total == 0 ? 100 : Math.min(100, done * 100 / total);
        String left = rate <= 0 ? "?" : Math.max(0, Math.round((total - done) / rate)) + " s";
        return String.format(java.util.Locale.ROOT, "%d of %d records (%d%%), %.0f records/s, %s left", done, total, percent, rate, left);
    }

    private static long sourceRecords(com.fasterxml.jackson.databind.JsonNode details) {
        long records = 0;
        for (var vertex : details.path("vertices")) {
            if (vertex.path("name").asText().startsWith("Source:")) {
                records += vertex.path("metrics").path("write-records").asLong();
            }
        }
        return records;
    }

    // ------------------------------------------------------------------ upgrade

    /** A finished upgrade and what it cost. */
    public record Upgraded(String oldJobId, String newJobId, String savepoint, CheckReport report, Duration stopWithSavepoint, Duration downtime) {}

    /** The upgrade did not happen; {@code sentence} says why and what runs now. */
    public static final class UpgradeFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient CheckReport report;

        public UpgradeFailed(String sentence, CheckReport report, Throwable cause) {
            super(sentence, cause);
            this.report = report;
        }

        public CheckReport report() {
            return report;
        }
    }

    /**
     * Checks a savepoint of the running job (taken without stopping it) against {@code newJar},
     * so a refused upgrade costs no downtime. The savepoint is disposed of afterwards.
     */
    public CheckReport checkRunning(JobSpec current, Path newJar, StateCheck check, boolean allowDroppingState) {
        String jobId = runningJobId(current);
        log("Taking a savepoint of job " + jobId + " to check the new version against (the job keeps running) ...");
        String savepoint = whenRunning(jobId, "take a savepoint", () -> rest.triggerSavepoint(jobId, null, timeout));
        try {
            return check.check(savepoint, current.withJar(newJar), allowDroppingState);
        } finally {
            disposeQuietly(savepoint);
        }
    }

    /**
     * Stops the job with a savepoint and starts {@code newJar} from it, after the state check
     * passed: first on a savepoint taken while the job runs, then on the final one. Waits until
     * the new job runs every task and completed a checkpoint; downtime is from the stop request
     * until then. If the new version does not get there, it is cancelled and the old jar started
     * again from the same savepoint, and {@link UpgradeFailed} says so.
     */
    public Upgraded upgrade(String job, Path newJar, StateCheck check, boolean allowDroppingState) {
        Submission before = Submission.load(records, job)
                .orElseThrow(() -> new FlinkRestException("No record of how '" + job + "' was started in " + records + "; submit it with this CLI first."));
        JobSpec current = before.spec();
        JobSpec next = current.withJar(newJar);
        CheckReport preCheck = checkRunning(current, newJar, check, allowDroppingState);
        if (!preCheck.passed()) {
            throw new UpgradeFailed("Upgrade of '" + job + "' refused, the job keeps running: " + preCheck.summary(), preCheck, null);
        }
        log("State check passed: " + preCheck.summary());
        // Uploaded while the old version still runs: the upload is not downtime.
        String newJarId = upload(newJar);

        String oldJobId = runningJobId(current);
        log("Stopping job " + oldJobId + " with a savepoint ...");
        long stopRequested = System.nanoTime();
        String savepoint = whenRunning(oldJobId, "stop it with a savepoint", () -> rest.stopWithSavepoint(oldJobId, null, timeout));
        Duration stopTook = Duration.ofNanos(System.nanoTime() - stopRequested);
        Submission.load(records, job).ifPresent(s -> s.withSavepoint(savepoint).save(records));
        log("Savepoint " + savepoint + " (" + stopTook.toMillis() + " ms).");

        CheckReport report;
        try {
            report = check.check(savepoint, next, allowDroppingState);
        } catch (RuntimeException e) {
            restartOld(current, savepoint);
            throw new UpgradeFailed("Upgrade of '" + job + "' abandoned, the state check of the final savepoint failed (" + e.getMessage() + "); the old version runs again from " + savepoint + ".", null, e);
        }
        if (!report.passed()) {
            String old = restartOld(current, savepoint);
            throw new UpgradeFailed("Upgrade of '" + job + "' refused: " + report.summary() + "; the old version runs again from " + savepoint + " as job " + old + ".", report, null);
        }

        String newJobId = null;
        try {
            log("Starting " + newJar.getFileName() + " from " + savepoint + " ...");
            newJobId = rest.runJar(newJarId, FlinkRest.RunRequest.of(next.programArgs()).withEntryClass(next.entryClass()).fromSavepoint(savepoint, allowDroppingState));
            Duration accepted = Duration.ofNanos(System.nanoTime() - stopRequested);
            Submission.of(next, newJobId).withSavepoint(savepoint).save(records);
            Duration running = awaitRunning(newJobId, stopRequested);
            Duration downtime = awaitCheckpoint(newJobId, stopRequested);
            log("Job " + newJobId + " runs the new version and completed a checkpoint; downtime " + downtime.toMillis()
                    + " ms (savepoint " + stopTook.toMillis() + " ms, job accepted at " + accepted.toMillis()
                    + " ms, every task running at " + running.toMillis() + " ms).");
            return new Upgraded(oldJobId, newJobId, savepoint, report, stopTook, downtime);
        } catch (RuntimeException e) {
            if (newJobId != null) {
                cancelQuietly(newJobId);
            }
            String old = restartOld(current, savepoint);
            throw new UpgradeFailed("Upgrade of '" + job + "' failed, the new version did not start (" + withoutFinalStop(e.getMessage()) + "); the old version runs again from " + savepoint + " as job " + old + ".", report, e);
        }
    }

    private String restartOld(JobSpec old, String savepoint) {
        log("Starting the old version " + old.jar().getFileName() + " again from " + savepoint + " ...");
        String jarId = upload(old.jar());
        String jobId = rest.runJar(jarId, FlinkRest.RunRequest.of(old.programArgs()).withEntryClass(old.entryClass()).fromSavepoint(savepoint, false));
        Submission.of(old, jobId).withSavepoint(savepoint).save(records);
        awaitRunning(jobId, System.nanoTime());
        return jobId;
    }

    private void cancelQuietly(String jobId) {
        try {
            if (rest.job(jobId).map(j -> !j.isGloballyTerminal()).orElse(false)) {
                rest.cancel(jobId);
                rest.await("see job " + jobId + " cancelled", timeout,
                        () -> rest.job(jobId).map(FlinkRest.JobSummary::isGloballyTerminal).orElse(true), done -> done);
            }
        } catch (RuntimeException e) {
            log("Could not cancel job " + jobId + ": " + e.getMessage());
        }
    }

    private void disposeQuietly(String savepoint) {
        try {
            rest.disposeSavepoint(savepoint, timeout);
        } catch (RuntimeException e) {
            log("Could not dispose of the check's savepoint " + savepoint + ": " + e.getMessage());
        }
    }

    private void log(String line) {
        log.println(line);
        log.flush();
    }

    private static String withoutFinalStop(String text) {
        String line = text == null ? "" : text.replaceAll("\\s+", " ").strip();
        return line.endsWith(".") ? line.substring(0, line.length() - 1) : line;
    }
}
