package io.onceflow.sinks.postgres;

import java.util.Objects;

/**
 * What a writer remembers across a restore: the namespace and sink name its transactions were named
 * with, so that a restore after either was renamed still rolls back the prepared transactions left
 * under the old names (they would otherwise hold their locks and a max_prepared_transactions slot
 * forever).
 *
 * <p>The sink does not need the state for anything else; it is a stateful sink because only {@code
 * snapshotState(checkpointId)} tells the writer the checkpoint ids it names transactions after.
 */
final class PostgresWriterState {

    private final String namespace;
    private final String sinkName;

    PostgresWriterState(String namespace, String sinkName) {
        this.namespace = Objects.requireNonNull(namespace, "namespace");
        this.sinkName = Objects.requireNonNull(sinkName, "sinkName");
    }

    String namespace() {
        return namespace;
    }

    String sinkName() {
        return sinkName;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PostgresWriterState other
                && namespace.equals(other.namespace)
                && sinkName.equals(other.sinkName);
    }

    @Override
    public int hashCode() {
        return Objects.hash(namespace, sinkName);
    }

    @Override
    public String toString() {
        return "PostgresWriterState{" + namespace + ":" + sinkName + "}";
    }
}
