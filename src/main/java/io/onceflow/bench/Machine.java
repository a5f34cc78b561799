package io.onceflow.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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

    /** A reading of the counters, to take the difference of two. */
    record Sample(long nanoTime, long processCpuNanos, long machineBusyTicks, long machineTotalTicks, String loadAverage) {

        static Sample now() {
            long busy = -1;
            long total = -1;
            try {
                List<String> lines = Files.readAllLines(Path.of("/proc/stat"));
                String[] cpu = lines.get(0).trim().split("\\s+");
                long sum = 0;
                for (int i = 1; i < cpu.length; i++) {
                    sum += Long.parseLong(cpu[i]);
                }
                long idle = Long.parseLong(cpu[4]) + (cpu.length > 5 ? Long.parseLong(cpu[5]) : 0);
                busy = sum - idle;
                total = sum;
            } catch (IOException | RuntimeException e) {
                // not Linux
            }
            return new Sample(System.nanoTime(), Machine.processCpuNanos(), busy, total, Machine.loadAverage());
        }

        /** Seconds of CPU this JVM used since {@code start}. */
        double processCpuSecondsSince(Sample start) {
            return (processCpuNanos - start.processCpuNanos) / 1e9;
        }

        /** Average number of the machine's cores busy since {@code start} (all processes). */
        double machineBusyCoresSince(Sample start) {
            long totalTicks = machineTotalTicks - start.machineTotalTicks;
            if (machineTotalTicks < 0 || totalTicks <= 0) {
                return Double.NaN;
            }
            return cores() * (double) (machineBusyTicks - start.machineBusyTicks) / totalTicks;
        }

        double secondsSince(Sample start) {
            return (nanoTime - start.nanoTime) / 1e9;
        }
    }
}
