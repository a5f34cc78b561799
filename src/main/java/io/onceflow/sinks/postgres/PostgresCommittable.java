package io.onceflow.sinks.postgres;

import java.util.Objects;
import java.util.UUID;

/**
 * One prepared PostgreSQL transaction of a {@link PostgresSink}, handed from the writer to the
 * committer inside Flink's checkpoint state.
 *
 * <p>The token is the proof of commit: the writer stored it in the sink's marker table inside the
 * same transaction, so a marker row holding this token exists exactly when this transaction
 * committed (within the marker retention).
 */
public final class PostgresCommittable {

    private final String transactionId;
    private final UUID token;
    private final long preparedAtEpochMillis;

    PostgresCommittable(String transactionId, UUID token, long preparedAtEpochMillis) {
        this.transactionId = Objects.requireNonNull(transactionId, "transactionId");
        this.token = Objects.requireNonNull(token, "token");
        this.preparedAtEpochMillis = preparedAtEpochMillis;
    }

    /** The gid given to {@code PREPARE TRANSACTION}. */
    public String transactionId() {
        return transactionId;
    }

    /** The random token the transaction wrote into its marker row. */
    public UUID token() {
        return token;
    }

    /** When the writer prepared the transaction, on the writer's clock. */
    public long preparedAtEpochMillis() {
        return preparedAtEpochMillis;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PostgresCommittable other
                && preparedAtEpochMillis == other.preparedAtEpochMillis
                && transactionId.equals(other.transactionId)
                && token.equals(other.token);
    }

    @Override
    public int hashCode() {
        return Objects.hash(transactionId, token, preparedAtEpochMillis);
    }

    @Override
    public String toString() {
        return "PostgresCommittable{" + transactionId + ", token=" + token + "}";
    }
}
