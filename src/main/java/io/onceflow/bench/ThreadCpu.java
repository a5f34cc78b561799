package io.onceflow.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * CPU time of the benchmark JVM by group of threads, and of PostgreSQL's processes: the closest
 * the benchmark gets to CPU per stage without changing the jobs.
 *
 * <p>What a group can and cannot separate: Flink runs each chain of operators in one task
 * thread, so a chain is one figure (the payments job's source chain decodes, validates and
 * sends the customer lookups; its authorizer deduplicates and sends the gateway calls). Their
 * network I/O runs elsewhere: the lookups' and the gateway client's on the Vert.x event loops,
 * the Kafka sinks' on the producers' network threads.
 *
 * <p>The JVM's own threads (JIT compilers, garbage collector, VM thread) are not Java threads;
 * HotSpot reports their CPU time through {@code sun.management}, which the JVM must export to the
 * benchmark ({@code --add-exports java.management/sun.management=ALL-UNNAMED}, as {@code
 * deploy/onceflow} does). Whatever the JVM spent outside the threads read at the end of the run
 * (threads that ended; without the export, the JVM's own threads too) is one residual group.
 */
final class ThreadCpu {

    static final String RESIDUAL = "GC, JIT compiler and threads that ended";
    static final String RESIDUAL_ENDED = "threads that ended";
    static final String JIT = "JVM: JIT compilers";
    static final String GC = "JVM: garbage collector";
    static final String VM = "JVM: VM thread and service threads";
    static final String POSTGRES = "PostgreSQL server (its own processes)";

    private static final Pattern TASK = Pattern.compile("^(.*) \\(\\d+/\\d+\\)#\\d+$");
    private static final Pattern KAFKA_SOURCE = Pattern.compile("^Source: Kafka: \\S+");

    /** Flink SQL numbers its operators per job ({@code Deduplicate[36]}); without the numbers each run of the peer lines up. */
    private static final Pattern SQL_OPERATOR_NUMBER = Pattern.compile("\\[\\d+]");

    /**
     * CPU nanoseconds so far of each live thread (by id), of the JVM's own threads (by name; empty
     * when HotSpot does not tell) and of each PostgreSQL process (by pid).
     */
    record Reading(Map<Long, Named> threads, Map<String, Long> jvmThreads, long processNanos, Map<Long, Long> postgresProcesses) {}

    record Named(String name, long nanos) {}

    private ThreadCpu() {}

    /** A reading now; {@code postgresPid} is the postmaster's, empty when PostgreSQL is not on this machine. */
    static Reading now(OptionalLong postgresPid) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<Long, Named> threads = new HashMap<>();
        for (ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (info != null) {
                long nanos = mx.getThreadCpuTime(info.getThreadId());
                if (nanos >= 0) {
                    threads.put(info.getThreadId(), new Named(info.getThreadName(), nanos));
                }
            }
        }
        Map<Long, Long> postgres = postgresPid.isPresent() ? processTree(postgresPid.getAsLong()) : Map.of();
        return new Reading(threads, jvmThreads(), Machine.processCpuNanos(), postgres);
    }

    /**
     * HotSpot's CPU nanoseconds of its own threads by name; empty when {@code sun.management} is
     * not exported to us or the JVM is not HotSpot.
     */
    @SuppressWarnings("unchecked")
    private static Map<String, Long> jvmThreads() {
        try {
            Object bean = Class.forName("sun.management.ManagementFactoryHelper")
                    .getMethod("getHotspotThreadMBean")
                    .invoke(null);
            return Map.copyOf((Map<String, Long>) Class.forName("sun.management.HotspotThreadMBean")
                    .getMethod("getInternalThreadCpuTimes")
                    .invoke(bean));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError notAvailable) {
            return Map.of();
        }
    }

    /**
     * CPU nanoseconds per group between two readings, largest first. A thread or process counts
     * with what it used after {@code start}, or since it began when it began later; one that
     * ended before {@code end} is lost to the residual (threads) or left out (PostgreSQL backends).
     */
    static Map<String, Long> between(Reading start, Reading end) {
        Map<String, Long> groups = new HashMap<>();
        long threads = 0;
        for (var thread : end.threads().entrySet()) {
            Named before = start.threads().get(thread.getKey());
            long used = thread.getValue().nanos() - (before == null ? 0 : before.nanos());
            groups.merge(group(thread.getValue().name()), used, Long::sum);
            threads += used;
        }
        for (var thread : end.jvmThreads().entrySet()) {
            long used = thread.getValue() - start.jvmThreads().getOrDefault(thread.getKey(), 0L);
            groups.merge(jvmGroup(thread.getKey()), used, Long::sum);
            threads += used;
        }
        groups.put(end.jvmThreads().isEmpty() ? RESIDUAL : RESIDUAL_ENDED,
                Math.max(0, end.processNanos() - start.processNanos() - threads));
        if (!end.postgresProcesses().isEmpty()) {
            long postgres = 0;
            for (var process : end.postgresProcesses().entrySet()) {
                postgres += process.getValue() - start.postgresProcesses().getOrDefault(process.getKey(), 0L);
            }
            groups.put(POSTGRES, postgres);
        }
        Map<String, Long> sorted = new LinkedHashMap<>();
        groups.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }

    /** The group of one of the JVM's own threads, by HotSpot's name for it. */
    static String jvmGroup(String thread) {
        if (thread.contains("CompilerThread") || thread.startsWith("Sweeper")) {
            return JIT;
        }
        if (thread.startsWith("GC Thread") || thread.startsWith("G1 ") || thread.startsWith("ZGC")
                || thread.startsWith("Shenandoah")) {
            return GC;
        }
        return VM;
    }

    /** The group a thread belongs to, by its name. */
    static String group(String thread) {
        if (thread.startsWith("Source Data Fetcher for ")) {
            return "Kafka source: fetcher threads";
        }
        Matcher task = TASK.matcher(thread);
        if (task.matches() && !isFlinkRuntime(thread)) {
            String chain = KAFKA_SOURCE.matcher(task.group(1)).replaceFirst("Source: Kafka");
            return "task: " + SQL_OPERATOR_NUMBER.matcher(chain).replaceAll("");
        }
        for (Map.Entry<String, String> prefix : PREFIX_GROUPS) {
            if (thread.startsWith(prefix.getKey())) {
                return prefix.getValue();
            }
        }
        if (thread.equals("main") || thread.equals(OutputCounter.THREAD_NAME)) {
            return "benchmark driver (counts outputs)";
        }
        if (isBroker(thread)) {
            return "Kafka broker";
        }
        if (isFlinkRuntime(thread)) {
            return "Flink runtime (RPC, scheduling, metrics, flushers, timers)";
        }
        return "other threads";
    }

    /** Threads of one component each, by the prefix of their names; tried after the task threads. */
    private static final List<Map.Entry<String, String>> PREFIX_GROUPS = List.of(
            Map.entry("kafka-producer-network-thread", "Kafka producers' network threads (sinks)"),
            Map.entry("vert.x-eventloop-thread-", "Vert.x event loops (PostgreSQL lookups, gateway client)"),
            Map.entry("gateway-simulator", "gateway simulator"),
            Map.entry("AsyncOperations-thread-", "checkpoints: asynchronous part"),
            Map.entry("Flink-RocksDBStateDataTransferHelper", "checkpoints: asynchronous part"),
            Map.entry("iceberg-worker-pool", "Iceberg worker pool"),
            Map.entry("ForkJoinPool.commonPool-worker-", "common ForkJoinPool (lookup cache upkeep, async callbacks)"));

    private static final List<String> BROKER_PREFIXES = List.of(
            "data-plane-kafka-", "kafka-scheduler-", "quorum-controller-", "group-coordinator-", "controller-",
            "broker-", "TxnMarkerSenderThread", "AddPartitionsToTxnSenderThread", "ExpirationReaper-",
            "kafka-log-cleaner", "metrics-meter-tick-thread", "LogDirFailureHandler");
    private static final Pattern BROKER_NODE_THREAD = Pattern.compile("^kafka-\\d+-.*");

    private static final List<String> FLINK_RUNTIME_PREFIXES = List.of(
            "flink-", "Flink-", "jobmanager-", "mini-cluster-", "OutputFlusher for ", "Time Trigger for ",
            "System Time Trigger for ", "SourceCoordinator-", "Checkpoint Timer");

    private static boolean isBroker(String thread) {
        return BROKER_PREFIXES.stream().anyMatch(thread::startsWith) || BROKER_NODE_THREAD.matcher(thread).matches();
    }

    private static boolean isFlinkRuntime(String thread) {
        return FLINK_RUNTIME_PREFIXES.stream().anyMatch(thread::startsWith);
    }

    /** CPU nanoseconds so far of {@code pid} and its children (PostgreSQL's backends and workers), by pid. */
    private static Map<Long, Long> processTree(long pid) {
        Map<Long, Long> processes = new HashMap<>();
        ProcessHandle.of(pid).ifPresent(server -> Stream.concat(Stream.of(server), server.children())
                .forEach(process -> process.info().totalCpuDuration()
                        .ifPresent(cpu -> processes.put(process.pid(), cpu.toNanos()))));
        return processes;
    }
}
