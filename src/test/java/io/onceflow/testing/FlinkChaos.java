package io.onceflow.testing;

import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import io.onceflow.ops.cluster.Waits;

import org.apache.flink.runtime.minicluster.MiniCluster;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Failures a fault-injection test causes from outside the job. */
public final class FlinkChaos {

    private FlinkChaos() {}

    /**
     * The MiniCluster settings a test that loses TaskManagers needs: {@code base} without Flink's
     * leaked-class-loader check.
     *
     * <p>Why: a MiniCluster defines every class in the test JVM's own class loader, shared by all
     * attempts and tests. Iceberg's shaded Avro {@code LogicalTypes} runs a {@code ServiceLoader}
     * on the thread's context class loader in its static initializer, first when a lake writer
     * writes. A TaskManager shut down at that moment has already closed that context loader; with
     * the check on, the closed loader throws, the static initializer fails and the class stays
     * unusable for the rest of the JVM: every later attempt's lake writer fails with
     * "Could not initialize class org.apache.iceberg.avro.TypeToSchema$WithTypeToName" (seen in
     * the exactly-once loop). On a real cluster the job jar's classes live in the job's class
     * loader, which is discarded with the closed one, so the check is off for tests only.
     */
    public static Configuration miniClusterConfiguration(Configuration base) {
        base.set(CoreOptions.CHECK_LEAKED_CLASSLOADER, false);
        return base;
    }

    /**
     * Waits until {@code afterRecords} records passed the {@link FaultInjectingMap} of {@code run}
     * (counting those a restart sends through again), then kills TaskManager 0 of {@code
     * miniCluster} and starts a new one: the loss of a machine at a moment of the run chosen by
     * progress, whatever the machine's speed. Fails when the job ended before, since then the run
     * did not test what it claims.
     */
    public static void loseATaskManager(MiniCluster miniCluster, JobID job, String run, long afterRecords) {
        Waits.until("see " + afterRecords + " records pass before losing a TaskManager", Duration.ofMinutes(3),
                () -> {
                    if (ended(miniCluster, job)) {
                        throw new Waits.Abort(new IllegalStateException(
                                "The job ended before the TaskManager could be lost, after " + Faults.passed(run)
                                        + " records; lose it earlier"));
                    }
                    return Faults.passed(run);
                },
                passed -> passed >= afterRecords);
        try {
            miniCluster.terminateTaskManager(0).get(30, TimeUnit.SECONDS);
            miniCluster.startTaskManager();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean ended(MiniCluster miniCluster, JobID job) {
        try {
            return miniCluster.getJobStatus(job).get().isGloballyTerminalState();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
