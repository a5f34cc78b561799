package io.onceflow.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The conditions a figure was measured under, read from this machine as the figure is taken: the
 * CPU, cores, memory, load average, how busy the whole machine's CPUs were (from {@code
 * /proc/stat}, so other processes show) and the CPU time of this JVM.
 */
final class Machine {

    private Machine() {}

    static int cores() {
        return Runtime.getRuntime().availableProcessors();
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: say so below
        }
        return System.getProperty("os.arch");
    }

    static String memory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal")) {
                    long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    return String.format("%.1f GiB", kb / 1024.0 / 1024.0);
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown
        }
        return "unknown";
    }

    /** The 1, 5 and 15 minute load averages, as {@code uptime} prints them. */
    static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).split("\\s+");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException | RuntimeException e) {
            return String.format("%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }

    /** Resident memory of this process (heap, RocksDB's native memory, everything), in bytes; -1 if unknown. */
    static long residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown
        }
        return -1;
    }

    static long heapUsedBytes() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** CPU time of this JVM so far, nanoseconds. */
    static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /**
     * Milliseconds one thread takes for a fixed piece of work (sorting the same 2^20
     * pseudo-random ints), the best of three. The bench times it before each row, while no job
     * runs: if it grows between rows or between runs, one thread got less out of the machine just
     * then, from the host under it or from work still going on in it (the JIT compilers finishing
     * their queue after a job, PostgreSQL's background processes).
     */
    static double referenceWorkMillis() {
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 3; round++) {
            int[] values = new SplittableRandom(20261126L).ints(REFERENCE_INTS).toArray();
            long start = System.nanoTime();
            Arrays.sort(values);
            best = Math.min(best, (System.nanoTime() - start) / 1e6);
            if (values[0] > values[REFERENCE_INTS - 1]) {
                throw new IllegalStateException("Arrays.sort left the reference work unsorted");
            }
        }
        return best;
    }

    private static final int REFERENCE_INTS = 1 << 20;

    /**
     * Nanoseconds one thread waits for a load from memory: a walk of dependent loads through
     * {@value #MEMORY_WALK_BYTES} bytes in random order, the best of three. The bench times it
     * with the {@link #referenceWorkMillis() reference work}, which stays in the core's own cache
     * and so does not feel what this does: the cache and memory bandwidth the host shares among
     * its tenants. A higher figure means every miss of the jobs' (Kafka, RocksDB, the heap) cost
     * more just then.
     */
    static double referenceMemoryNanos() {
        int[] next = MemoryWalk.CYCLE;
        double best = Double.MAX_VALUE;
        int position = 0;
        for (int round = 0; round < 3; round++) {
            long start = System.nanoTime();
            for (int i = 0; i < MEMORY_WALK_LOADS; i++) {
                position = next[position];
            }
            best = Math.min(best, (System.nanoTime() - start) / (double) MEMORY_WALK_LOADS);
        }
        // Keeps the walk from being optimised away: its end is consumed.
        memoryWalkEnd = position;
        return best;
    }

    private static final int MEMORY_WALK_BYTES = 64 << 20;
    private static final int MEMORY_WALK_LOADS = 1 << 20;
    @SuppressWarnings("unused")
    private static volatile int memoryWalkEnd;

    /** The walk's cycle, built on first use and kept: building it takes longer than walking it. */
    private static final class MemoryWalk {
        static final int[] CYCLE = randomCycle(MEMORY_WALK_BYTES / Integer.BYTES, 20261126L);
    }

    /**
     * A random permutation of {@code 0..n-1} that is one cycle through all of them (Sattolo's
     * algorithm), so that following it from any index visits every index before it returns.
     */
    static int[] randomCycle(int n, long seed) {
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            next[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i);
            int swapped = next[i];
            next[i] = next[j];
            next[j] = swapped;
        }
        return next;
    }

    /** A reading of the counters, to take the difference of two. */
    record Sample(long nanoTime, long processCpuNanos, long machineBusyTicks, long machineStolenTicks,
            long machineTotalTicks, String loadAverage, double referenceWorkMillis, double referenceMemoryNanos) {

        /** The counters now; no reference work (NaN). */
        static Sample now() {
            try {
                return of(System.nanoTime(), Machine.processCpuNanos(),
                        Files.readAllLines(Path.of("/proc/stat")).get(0), Machine.loadAverage());
            } catch (IOException | RuntimeException e) {
                return new Sample(System.nanoTime(), Machine.processCpuNanos(), -1, -1, -1, Machine.loadAverage(),
                        Double.NaN, Double.NaN);
            }
        }

        /**
         * The counters at the start of a measured row, after timing the {@link #referenceWorkMillis()
         * reference work} and the {@link #referenceMemoryNanos() memory walk}.
         */
        static Sample beforeRow() {
            double reference = Machine.referenceWorkMillis();
            double memory = Machine.referenceMemoryNanos();
            Sample sample = now();
            return new Sample(sample.nanoTime, sample.processCpuNanos, sample.machineBusyTicks, sample.machineStolenTicks,
                    sample.machineTotalTicks, sample.loadAverage, reference, memory);
        }

        /**
         * A sample from the first line of {@code /proc/stat}: {@code cpu user nice system idle
         * iowait irq softirq steal guest guest_nice}, in clock ticks. Busy is all but idle and
         * iowait; stolen (steal) is time the hypervisor ran something else while this machine's
         * virtual CPUs wanted to run, so it counts as busy but did none of our work.
         */
        static Sample of(long nanoTime, long processCpuNanos, String procStatCpuLine, String loadAverage) {
            String[] cpu = procStatCpuLine.trim().split("\\s+");
            long sum = 0;
            // guest and guest_nice (9, 10) are already inside user and nice
            for (int i = 1; i < Math.min(cpu.length, 9); i++) {
                sum += Long.parseLong(cpu[i]);
            }
            long idle = Long.parseLong(cpu[4]) + (cpu.length > 5 ? Long.parseLong(cpu[5]) : 0);
            long stolen = cpu.length > 8 ? Long.parseLong(cpu[8]) : 0;
            return new Sample(nanoTime, processCpuNanos, sum - idle, stolen, sum, loadAverage, Double.NaN, Double.NaN);
        }

        /** Seconds of CPU this JVM used since {@code start}. */
        double processCpuSecondsSince(Sample start) {
            return (processCpuNanos - start.processCpuNanos) / 1e9;
        }

        /** Average number of the machine's cores busy since {@code start} (all processes). */
        double machineBusyCoresSince(Sample start) {
            long totalTicks = machineTotalTicks - start.machineTotalTicks;
            if (machineTotalTicks < 0 || start.machineTotalTicks < 0 || totalTicks <= 0) {
                return Double.NaN;
            }
            return cores() * (double) (machineBusyTicks - start.machineBusyTicks) / totalTicks;
        }

        /**
         * Share of the machine's CPU time since {@code start} that the hypervisor gave to others
         * (steal); NaN when unknown. A few percent or more means the host was busy and every rate
         * measured over that time is lower than this machine alone would give.
         */
        double machineStolenShareSince(Sample start) {
            long totalTicks = machineTotalTicks - start.machineTotalTicks;
            if (machineTotalTicks < 0 || start.machineTotalTicks < 0 || totalTicks <= 0) {
                return Double.NaN;
            }
            return (double) (machineStolenTicks - start.machineStolenTicks) / totalTicks;
        }

        double secondsSince(Sample start) {
            return (nanoTime - start.nanoTime) / 1e9;
        }
    }
}
