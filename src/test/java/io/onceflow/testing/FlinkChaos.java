package io.onceflow.testing;

import org.apache.flink.api.common.JobID;
import org.apache.flink.runtime.minicluster.MiniCluster;

import java.util.concurrent.TimeUnit;

/** Failures a fault-injection test causes from outside the job. */
public final class FlinkChaos {

    private FlinkChaos() {}

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
