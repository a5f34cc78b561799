package io.onceflow.ops.cluster;

import io.onceflow.local.FreePorts;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real standalone Flink session cluster on this machine: one JobManager JVM ({@code
 * StandaloneSessionClusterEntrypoint}) and one or more TaskManager JVMs ({@code
 * TaskManagerRunner}), run from the jars of a {@link FlinkDistribution}, with RocksDB, incremental
 * checkpoints and savepoints on local disk, and checkpoints retained when a job is cancelled or
 * lost.
 *
 * <p>Everything lives under one directory ({@code var/cluster} for {@code onceflow cluster}):
 *
 * <pre>
 * conf/config.yaml, conf/log4j.properties   written at every start from the {@link Settings}
 * log/jobmanager.log, log/taskmanager-N.log Flink's logs (.out: the JVM's stdout and stderr)
 * run/jobmanager.pid, run/taskmanager-N.pid one line each, removed on a clean stop
 * checkpoints/&lt;job-id&gt;/chk-N/_metadata     execution.checkpointing.dir
 * savepoints/savepoint-*                    execution.checkpointing.savepoint-dir
 * jars/, tmp/                               uploaded jars, io.tmp.dirs (short: RocksDB)
 * </pre>
 *
 * <p>The processes outlive the JVM that started them: {@code onceflow cluster up} returns and
 * {@code cluster down} (another process) finds them again through their PID files, checking the
 * command line of each PID before it signals it, so a reused PID is never killed. The chaos tests
 * get {@link #killTaskManager}/{@link #killJobManager} (SIGKILL, no shutdown hooks) and the
 * matching starts.
 */
public final class LocalCluster implements AutoCloseable {

    /** Every Flink JVM on Java 17 needs these (Kryo, RocksDB, Netty); flink-dist's scripts add the same. */
    public static final List<String> JAVA_17_OPENS = List.of(
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.text=ALL-UNNAMED",
            "--add-opens=java.base/java.time=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/java.math=ALL-UNNAMED",
            "--add-opens=java.sql/java.sql=ALL-UNNAMED",
            "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED",
            "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
            "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED");

    static final String JOB_MANAGER = "jobmanager";
    private static final String JM_MAIN = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    private static final String TM_MAIN = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";
    private static final String BASH_JAVA_UTILS = "org.apache.flink.runtime.util.bash.BashJavaUtils";
    private static final String RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:";

    /**
     * How to run the cluster.
     *
     * @param home the cluster's directory (configuration, logs, PID files, checkpoints, savepoints)
     * @param distribution the Flink jars
     * @param restPort the REST API and web UI port; 0 picks a free one
     * @param taskManagers TaskManager JVMs
     * @param slotsPerTaskManager task slots of each
     * @param jobManagerMemory {@code jobmanager.memory.process.size}
     * @param taskManagerMemory {@code taskmanager.memory.process.size}
     * @param extraConfig more Flink settings, applied last (e.g. heartbeat timeouts for chaos runs)
     */
    public record Settings(
            Path home,
            FlinkDistribution distribution,
            int restPort,
            int taskManagers,
            int slotsPerTaskManager,
            String jobManagerMemory,
            String taskManagerMemory,
            Map<String, String> extraConfig) {

        public static Settings defaults(Path home, FlinkDistribution distribution) {
            return new Settings(home, distribution, 8081, 1, 4, "1280m", "2048m", Map.of());
        }

        public Settings withRestPort(int port) {
            return new Settings(home, distribution, port, taskManagers, slotsPerTaskManager, jobManagerMemory, taskManagerMemory, extraConfig);
        }

        public Settings withTaskManagers(int count, int slots) {
            return new Settings(home, distribution, restPort, count, slots, jobManagerMemory, taskManagerMemory, extraConfig);
        }

        public Settings withExtraConfig(Map<String, String> config) {
            return new Settings(home, distribution, restPort, taskManagers, slotsPerTaskManager, jobManagerMemory, taskManagerMemory, config);
        }
    }

    private final Settings settings;
    private final Path home;
    private int restPort;
    private int rpcPort;

    private LocalCluster(Settings settings) {
        this.settings = settings;
        this.home = settings.home().toAbsolutePath().normalize();
    }

    /** A cluster to start; nothing runs yet. */
    public static LocalCluster of(Settings settings) {
        return new LocalCluster(settings);
    }

    /**
     * The cluster last started in {@code home}, to inspect, stop or restart parts of it from
     * another process: its ports and jars come from the configuration that start wrote.
     */
    public static LocalCluster existing(Path home) {
        Path config = home.resolve("conf/config.yaml");
        if (!Files.exists(config)) {
            throw new FlinkRestException("No local cluster was ever started in " + home + " (no conf/config.yaml).");
        }
        Map<String, String> flat = readFlatConfig(config);
        int taskManagers = Integer.parseInt(flat.getOrDefault("onceflow.local.task-managers", "1"));
        String lib = flat.get("onceflow.local.flink-lib");
        Settings settings =
                new Settings(home, lib == null ? null : FlinkDistribution.at(Path.of(lib)), Integer.parseInt(flat.get("rest.port")), taskManagers,
                        Integer.parseInt(flat.getOrDefault("taskmanager.numberOfTaskSlots", "1")),
                        flat.get("jobmanager.memory.process.size"), flat.get("taskmanager.memory.process.size"), Map.of());
        LocalCluster cluster = new LocalCluster(settings);
        cluster.restPort = settings.restPort();
        cluster.rpcPort = Integer.parseInt(flat.get("jobmanager.rpc.port"));
        return cluster;
    }

    // ------------------------------------------------------------------ lifecycle

    /**
     * Writes the configuration and starts the JobManager and the TaskManagers, returning once the
     * REST API answers and every TaskManager has registered. Refuses when this directory's
     * cluster still runs.
     */
    public LocalCluster start(Duration timeout) {
        if (settings.distribution() == null) {
            throw new FlinkRestException("This handle of the cluster in " + home + " cannot start it; start it with its settings.");
        }
        List<String> alive = runningRoles();
        if (!alive.isEmpty()) {
            throw new FlinkRestException("The local cluster in " + home + " is already running (" + String.join(", ", alive) + "); stop it first.");
        }
        try {
            for (String dir : List.of("conf", "log", "run", "checkpoints", "savepoints", "jars", "tmp")) {
                Files.createDirectories(home.resolve(dir));
            }
            restPort = settings.restPort() == 0 ? FreePorts.pick() : settings.restPort();
            if (!FreePorts.isFree(restPort)) {
                throw new FlinkRestException("Port " + restPort + " is taken; pick another REST port for the local cluster.");
            }
            rpcPort = FreePorts.pick();
            writeConfiguration();
        } catch (IOException e) {
            throw new FlinkRestException("Cannot prepare the local cluster in " + home + ": " + e.getMessage(), e);
        }
        // The memory flags take a JVM start each: compute both at once, then start every process at
        // once; TaskManagers retry registering until the JobManager is up.
        CompletableFuture<List<String>> jmFlags = CompletableFuture.supplyAsync(() -> memoryFlags("GET_JM_RESOURCE_PARAMS"));
        CompletableFuture<List<String>> tmFlags = CompletableFuture.supplyAsync(() -> memoryFlags("GET_TM_RESOURCE_PARAMS"));
        jobManagerFlags = join(jmFlags);
        taskManagerFlags = join(tmFlags);
        try {
            launch(JOB_MANAGER);
            for (int i = 0; i < settings.taskManagers(); i++) {
                launch(taskManagerRole(i));
            }
            awaitReady(timeout);
        } catch (RuntimeException e) {
            stop(Duration.ofSeconds(10));
            throw e;
        }
        return this;
    }

    private List<String> jobManagerFlags;
    private List<String> taskManagerFlags;

    /** Waits until the REST API answers and every TaskManager started here has registered. */
    public void awaitReady(Duration timeout) {
        FlinkRest rest = rest();
        Waits.until(
                "see the local cluster's JobManager and " + settings.taskManagers() + " TaskManager(s) up",
                timeout,
                () -> {
                    failIfDead();
                    return rest.taskManagerCount();
                },
                count -> count >= settings.taskManagers());
    }

    private void failIfDead() {
        for (String role : roles()) {
            if (pidFile(role).toFile().exists() && process(role).isEmpty()) {
                throw new Waits.Abort(new FlinkRestException(
                        "The local cluster's " + role + " exited while starting; see " + log(role) + " and " + out(role) + "."));
            }
        }
    }

    /**
     * Stops every process of this cluster: SIGTERM, and SIGKILL for any still alive after {@code
     * grace}. Removes the PID files. Does nothing for processes that are already gone.
     */
    public void stop(Duration grace) {
        List<ProcessHandle> signalled = new ArrayList<>();
        for (String role : knownRoles()) {
            process(role).ifPresent(p -> {
                p.destroy();
                signalled.add(p);
            });
        }
        long deadline = System.nanoTime() + grace.toNanos();
        for (ProcessHandle p : signalled) {
            try {
                long left = Math.max(0, deadline - System.nanoTime());
                p.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (Exception stillAlive) {
                p.destroyForcibly();
                awaitExit(p);
            }
        }
        for (String role : knownRoles()) {
            deleteQuietly(pidFile(role));
        }
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(30));
    }

    // ------------------------------------------------------------------ chaos

    /** SIGKILL of TaskManager {@code index}: no shutdown, as when its machine dies. */
    public void killTaskManager(int index) {
        kill(taskManagerRole(index));
    }

    /** Starts TaskManager {@code index} again (after {@link #killTaskManager}) with the same configuration. */
    public void startTaskManager(int index) {
        ensureFlags();
        launch(taskManagerRole(index));
    }

    /**
     * SIGKILL of the JobManager. Without high availability its running jobs are gone with it;
     * their retained checkpoints stay on disk for {@code onceflow resume --latest-checkpoint}.
     */
    public void killJobManager() {
        kill(JOB_MANAGER);
    }

    /** Starts the JobManager again (after {@link #killJobManager}); waits until its REST API answers. */
    public void startJobManager(Duration timeout) {
        ensureFlags();
        launch(JOB_MANAGER);
        Waits.until("see the restarted JobManager answer", timeout, () -> rest().isReachable(), up -> up);
    }

    private void kill(String role) {
        ProcessHandle process = process(role)
                .orElseThrow(() -> new FlinkRestException("The local cluster's " + role + " is not running."));
        process.destroyForcibly();
        awaitExit(process);
        deleteQuietly(pidFile(role));
    }

    private void ensureFlags() {
        if (settings.distribution() == null) {
            throw new FlinkRestException("The configuration in " + home + " names no Flink distribution; start the cluster again with cluster up.");
        }
        if (jobManagerFlags == null) {
            jobManagerFlags = memoryFlags("GET_JM_RESOURCE_PARAMS");
            taskManagerFlags = memoryFlags("GET_TM_RESOURCE_PARAMS");
        }
    }

    // ------------------------------------------------------------------ inspection

    /** The state of each process, and whether the REST API answers. */
    public record Status(Path home, URI restUri, Map<String, Optional<Long>> processes, boolean restReachable, int taskManagersRegistered) {
        public boolean anyRunning() {
            return processes.values().stream().anyMatch(Optional::isPresent);
        }
    }

    public Status status() {
        Map<String, Optional<Long>> processes = new LinkedHashMap<>();
        for (String role : knownRoles()) {
            processes.put(role, process(role).map(ProcessHandle::pid));
        }
        FlinkRest rest = rest();
        boolean reachable = rest.isReachable();
        int registered = 0;
        if (reachable) {
            try {
                registered = rest.taskManagerCount();
            } catch (FlinkRestException e) {
                registered = 0;
            }
        }
        return new Status(home, restUri(), processes, reachable, registered);
    }

    /** Roles whose process is alive. */
    public List<String> runningRoles() {
        return knownRoles().stream().filter(role -> process(role).isPresent()).toList();
    }

    /** The PID of a running role. */
    public Optional<Long> pid(String role) {
        return process(role).map(ProcessHandle::pid);
    }

    public FlinkRest rest() {
        return new FlinkRest(restUri());
    }

    public URI restUri() {
        return URI.create("http://127.0.0.1:" + restPort);
    }

    public Path home() {
        return home;
    }

    public Path checkpointsDirectory() {
        return home.resolve("checkpoints");
    }

    public Path savepointsDirectory() {
        return home.resolve("savepoints");
    }

    public Path logDirectory() {
        return home.resolve("log");
    }

    public Path log(String role) {
        return logDirectory().resolve(role + ".log");
    }

    public Path out(String role) {
        return logDirectory().resolve(role + ".out");
    }

    public int taskManagers() {
        return settings.taskManagers();
    }

    public static String taskManagerRole(int index) {
        return "taskmanager-" + index;
    }

    // ------------------------------------------------------------------ processes

    private List<String> roles() {
        List<String> roles = new ArrayList<>();
        roles.add(JOB_MANAGER);
        for (int i = 0; i < settings.taskManagers(); i++) {
            roles.add(taskManagerRole(i));
        }
        return roles;
    }

    /** The configured roles plus any with a PID file (a TaskManager started beyond the settings). */
    private List<String> knownRoles() {
        List<String> roles = new ArrayList<>(roles());
        Path run = home.resolve("run");
        if (Files.isDirectory(run)) {
            try (Stream<Path> files = Files.list(run)) {
                files.map(f -> f.getFileName().toString())
                        .filter(name -> name.endsWith(".pid"))
                        .map(name -> name.substring(0, name.length() - 4))
                        .filter(role -> !roles.contains(role))
                        .sorted()
                        .forEach(roles::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return roles;
    }

    private Path pidFile(String role) {
        return home.resolve("run").resolve(role + ".pid");
    }

    /**
     * The live process of {@code role}: its PID file names it, and its command line carries this
     * cluster's marker, so a PID reused by another program after a crash is never taken for it.
     */
    private Optional<ProcessHandle> process(String role) {
        Path file = pidFile(role);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        long pid;
        try {
            pid = Long.parseLong(Files.readString(file).strip());
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
        String marker = marker(role);
        return ProcessHandle.of(pid)
                .filter(ProcessHandle::isAlive)
                .filter(p -> p.info().arguments().map(args -> List.of(args).contains(marker))
                        .orElseGet(() -> p.info().commandLine().map(line -> line.contains(marker)).orElse(true)));
    }

    private String marker(String role) {
        return "-Donceflow.cluster=" + home + "#" + role;
    }

    private void launch(String role) {
        boolean jobManager = role.equals(JOB_MANAGER);
        List<String> command = new ArrayList<>();
        command.add(javaExecutable());
        command.addAll(JAVA_17_OPENS);
        command.addAll(jvmFlags(jobManager ? jobManagerFlags : taskManagerFlags));
        command.add(marker(role));
        command.add("-Dlog.file=" + log(role));
        command.add("-Dlog4j.configurationFile=file:" + home.resolve("conf/log4j.properties"));
        command.add("-Dlog4j2.isThreadContextMapInheritable=true");
        command.add("-classpath");
        command.add(settings.distribution().classPath());
        command.add(jobManager ? JM_MAIN : TM_MAIN);
        command.add("--configDir");
        command.add(home.resolve("conf").toString());
        command.addAll(dynamicFlags(jobManager ? jobManagerFlags : taskManagerFlags));
        if (!jobManager) {
            command.add("-D");
            command.add("taskmanager.resource-id=" + role);
        }
        try {
            Process process =
                    new ProcessBuilder(command)
                            .directory(home.toFile())
                            .redirectErrorStream(true)
                            .redirectOutput(out(role).toFile())
                            .redirectInput(ProcessBuilder.Redirect.from(nullDevice()))
                            .start();
            Files.writeString(pidFile(role), process.pid() + "\n");
        } catch (IOException e) {
            throw new FlinkRestException("Cannot start the local cluster's " + role + ": " + e.getMessage(), e);
        }
    }

    private static java.io.File nullDevice() {
        return new java.io.File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
    }

    /**
     * Runs {@code BashJavaUtils} of the distribution, as flink-dist's scripts do: its first result
     * line holds the JVM's memory flags, the second the derived memory settings as {@code -D k=v}.
     */
    private List<String> memoryFlags(String command) {
        List<String> args = List.of(javaExecutable(), "-classpath", settings.distribution().classPath(),
                BASH_JAVA_UTILS, command, "--configDir", home.resolve("conf").toString());
        try {
            Process process = new ProcessBuilder(args).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new FlinkRestException("Flink's BashJavaUtils " + command + " failed: " + FlinkRest.firstLine(lastLines(output)) + ".");
            }
            List<String> results = output.lines()
                    .filter(line -> line.startsWith(RESULT_PREFIX))
                    .map(line -> line.substring(RESULT_PREFIX.length()))
                    .toList();
            if (results.size() < 2) {
                throw new FlinkRestException("Flink's BashJavaUtils " + command + " printed no memory settings: " + FlinkRest.firstLine(lastLines(output)) + ".");
            }
            return results.subList(results.size() - 2, results.size());
        } catch (IOException e) {
            throw new FlinkRestException("Cannot run Flink's BashJavaUtils: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FlinkRestException("Interrupted while computing the cluster's memory settings.");
        }
    }

    private static String lastLines(String output) {
        List<String> lines = output.lines().filter(l -> !l.isBlank()).toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 1), lines.size()));
    }

    private static List<String> jvmFlags(List<String> results) {
        return List.of(results.get(0).strip().split("\\s+"));
    }

    private static List<String> dynamicFlags(List<String> results) {
        // "-D k=v -D k=v": pairs of tokens, passed on as they are.
        return List.of(results.get(1).strip().split("\\s+"));
    }

    private static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static <T> T join(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw e;
        }
    }

    private static void awaitExit(ProcessHandle process) {
        try {
            process.onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new FlinkRestException("Process " + process.pid() + " did not exit within 30 s of SIGKILL.");
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a stale PID file is checked against the live process anyway
        }
    }

    // ------------------------------------------------------------------ configuration

    private void writeConfiguration() throws IOException {
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("jobmanager.rpc.address", "127.0.0.1");
        conf.put("jobmanager.rpc.port", String.valueOf(rpcPort));
        conf.put("jobmanager.bind-host", "127.0.0.1");
        conf.put("taskmanager.bind-host", "127.0.0.1");
        conf.put("taskmanager.host", "127.0.0.1");
        conf.put("rest.address", "127.0.0.1");
        conf.put("rest.bind-address", "127.0.0.1");
        conf.put("rest.port", String.valueOf(restPort));
        // The shaded job jar (Iceberg, Hadoop, Kafka) is larger than the 100 MiB default.
        conf.put("rest.server.max-content-length", "524288000");
        conf.put("web.upload.dir", home.resolve("jars").toString());
        conf.put("jobmanager.memory.process.size", settings.jobManagerMemory());
        // The JobManager runs each submitted jar's main in a new class loader, and TaskManagers
        // load each job's jar in one too; the job jar's Iceberg/Hadoop/Kafka classes are not all
        // released after the job: Flink's default 256m of metaspace ran out after five jobs in
        // ReplayITCase (JobManager and TaskManager alike, the TaskManager then exits). 512m leaves
        // room for a session of submits, replays and upgrades; the heap keeps the rest.
        conf.put("jobmanager.memory.jvm-metaspace.size", "512m");
        conf.put("taskmanager.memory.jvm-metaspace.size", "512m");
        conf.put("taskmanager.memory.process.size", settings.taskManagerMemory());
        conf.put("taskmanager.numberOfTaskSlots", String.valueOf(settings.slotsPerTaskManager()));
        conf.put("parallelism.default", "1");
        conf.put("state.backend.type", "rocksdb");
        conf.put("execution.checkpointing.incremental", "true");
        conf.put("execution.checkpointing.dir", checkpointsDirectory().toUri().toString());
        conf.put("execution.checkpointing.savepoint-dir", savepointsDirectory().toUri().toString());
        // Kept when a job is cancelled, fails for good or loses its JobManager: what `resume
        // --latest-checkpoint` restores from.
        conf.put("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        conf.put("execution.checkpointing.num-retained", "3");
        conf.put("io.tmp.dirs", home.resolve("tmp").toString());
        // A lost TaskManager is noticed in 20 s rather than 50 s: the chaos runs kill them.
        conf.put("heartbeat.interval", "4000");
        conf.put("heartbeat.timeout", "20000");
        // Flink's default backoff grows to a minute: every attempt that finds no slot while a
        // lost TaskManager comes back counts, and the full chaos run saw recoveries of 60-95 s
        // with the backoff, not the work, taking most of it. Capped at 10 s, and forgotten after
        // 5 minutes of running.
        conf.put("restart-strategy.type", "exponential-delay");
        conf.put("restart-strategy.exponential-delay.initial-backoff", "1s");
        conf.put("restart-strategy.exponential-delay.max-backoff", "10s");
        conf.put("restart-strategy.exponential-delay.backoff-multiplier", "1.5");
        conf.put("restart-strategy.exponential-delay.reset-backoff-threshold", "5min");
        conf.put("restart-strategy.exponential-delay.jitter-factor", "0.1");
        // Not Flink's: what LocalCluster.existing needs to find and restart these processes.
        conf.put("onceflow.local.task-managers", String.valueOf(settings.taskManagers()));
        conf.put("onceflow.local.flink-lib", settings.distribution().lib().toAbsolutePath().toString());
        conf.putAll(settings.extraConfig());
        StringBuilder yaml = new StringBuilder(
                "# Written by onceflow's LocalCluster at every start; edits are overwritten.\n");
        conf.forEach((key, value) -> yaml.append(key).append(": ").append(yamlScalar(value)).append('\n'));
        Files.writeString(home.resolve("conf/config.yaml"), yaml.toString());
        Files.writeString(home.resolve("conf/log4j.properties"), LOG4J);
    }

    private static String yamlScalar(String value) {
        return value.matches("[A-Za-z0-9_./:=+-]+") ? value : "'" + value.replace("'", "''") + "'";
    }

    private static Map<String, String> readFlatConfig(Path file) {
        Map<String, String> flat = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int colon = line.indexOf(": ");
                if (colon > 0) {
                    String value = line.substring(colon + 2).strip();
                    if (value.startsWith("'") && value.endsWith("'")) {
                        value = value.substring(1, value.length() - 1).replace("''", "'");
                    }
                    flat.put(line.substring(0, colon).strip(), value);
                }
            }
        } catch (IOException e) {
            throw new FlinkRestException("Cannot read " + file + ": " + e.getMessage(), e);
        }
        return flat;
    }

    /** Flink's own log4j.properties of flink-dist, shortened: one rolling file per process. */
    private static final String LOG4J = """
            monitorInterval=30
            rootLogger.level = INFO
            rootLogger.appenderRef.file.ref = MainAppender
            logger.pekko.name = org.apache.pekko
            logger.pekko.level = INFO
            logger.kafka.name = org.apache.kafka
            logger.kafka.level = WARN
            logger.hadoop.name = org.apache.hadoop
            logger.hadoop.level = WARN
            logger.netty.name = org.jboss.netty.channel.DefaultChannelPipeline
            logger.netty.level = OFF
            appender.main.name = MainAppender
            appender.main.type = RollingFile
            appender.main.append = true
            appender.main.fileName = ${sys:log.file}
            appender.main.filePattern = ${sys:log.file}.%i
            appender.main.layout.type = PatternLayout
            appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
            appender.main.policies.type = Policies
            appender.main.policies.size.type = SizeBasedTriggeringPolicy
            appender.main.policies.size.size = 100MB
            appender.main.policies.startup.type = OnStartupTriggeringPolicy
            appender.main.strategy.type = DefaultRolloverStrategy
            appender.main.strategy.max = 5
            """;
}
