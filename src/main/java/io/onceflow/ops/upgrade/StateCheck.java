package io.onceflow.ops.upgrade;

import io.onceflow.ops.jobs.JobSpec;

/** Whether a new version of a job can take over a savepoint's state. */
public interface StateCheck {

    /**
     * Compares the savepoint with the graph and state types of {@code newVersion} (its jar, entry
     * class and arguments). {@code allowDroppingState}: state of operators gone from the new graph
     * is reported, but does not refuse.
     */
    CheckReport check(String savepoint, JobSpec newVersion, boolean allowDroppingState);
}
