package io.onceflow.testing;

import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;

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
     * Waits {@code afterMillis}, then kills TaskManager 0 of {@code miniCluster} and starts a new
     * one: the loss of a machine. Fails when the job ended before, since then the run did not test
     * what it claims.
     */
    public static void loseATaskManager(MiniCluster miniCluster, JobID job, long afterMillis) {
        try {
            Thread.sleep(afterMillis); // a random moment of the run is the point, not a condition
            if (miniCluster.getJobStatus(job).get().isGloballyTerminalState()) {
                throw new IllegalStateException("The job ended before the TaskManager could be lost; lengthen the run");
            }
            miniCluster.terminateTaskManager(0).get(30, TimeUnit.SECONDS);
            miniCluster.startTaskManager();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
