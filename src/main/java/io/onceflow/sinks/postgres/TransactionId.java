package io.onceflow.sinks.postgres;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The PostgreSQL global transaction identifier (gid) of one prepared transaction of a {@link
 * PostgresSink}: {@code onceflow:<namespace>:<sink>:<subtask>:<checkpoint>}.
 *
 * <p>Parseable, so that a restarted writer can tell from {@code pg_prepared_xacts} alone which
 * subtask prepared a transaction and for which checkpoint. Namespace and sink name are limited to
 * {@value #NAME_CHARACTERS_TEXT} so that the separator is unambiguous, the gid can be written into
 * {@code PREPARE TRANSACTION '...'} without quoting problems, and the longest gid (164 bytes) stays
 * below PostgreSQL's limit of 200 bytes.
 */
final class TransactionId {

    static final String NAME_CHARACTERS_TEXT = "1 to 64 letters, digits, '_', '.' or '-'";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    private static final String PREFIX = "onceflow";
    private static final char SEPARATOR = ':';

    private final String namespace;
    private final String sinkName;
    private final int subtask;
    private final long checkpointId;

    TransactionId(String namespace, String sinkName, int subtask, long checkpointId) {
        if (!isValidName(namespace) || !isValidName(sinkName)) {
            throw new IllegalArgumentException(
                    "Namespace and sink name must be " + NAME_CHARACTERS_TEXT + ".");
        }
        if (subtask < 0 || checkpointId < 0) {
            throw new IllegalArgumentException("Subtask and checkpoint id must not be negative.");
        }
        this.namespace = namespace;
        this.sinkName = sinkName;
        this.subtask = subtask;
        this.checkpointId = checkpointId;
    }

    static boolean isValidName(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    /** The common start of every gid of one sink, for a prefix search of pg_prepared_xacts. */
    static String prefixOf(String namespace, String sinkName) {
        return PREFIX + SEPARATOR + namespace + SEPARATOR + sinkName + SEPARATOR;
    }

    /** The id that {@code gid} spells, or empty when it is not a gid of this sink family. */
    static Optional<TransactionId> parse(String gid) {
        if (gid == null) {
            return Optional.empty();
        }
        String[] parts = gid.split(String.valueOf(SEPARATOR), -1);
        if (parts.length != 5
                || !PREFIX.equals(parts[0])
                || !isValidName(parts[1])
                || !isValidName(parts[2])
                || !parts[3].matches("[0-9]{1,10}")
                || !parts[4].matches("[0-9]{1,19}")) {
            return Optional.empty();
        }
        try {
            return Optional.of(
                    new TransactionId(
                            parts[1],
                            parts[2],
                            Integer.parseInt(parts[3]),
                            Long.parseLong(parts[4])));
        } catch (NumberFormatException tooLarge) {
            return Optional.empty();
        }
    }

    String gid() {
        return prefixOf(namespace, sinkName) + subtask + SEPARATOR + checkpointId;
    }

    /** The gid as an SQL string literal; safe because every character of a gid is restricted. */
    String sqlLiteral() {
        return "'" + gid() + "'";
    }

    String namespace() {
        return namespace;
    }

    String sinkName() {
        return sinkName;
    }

    int subtask() {
        return subtask;
    }

    /**
     * The checkpoint label: the checkpoint after whose snapshot this transaction began, plus one.
     */
    long checkpointId() {
        return checkpointId;
    }

    boolean belongsTo(String otherNamespace, String otherSinkName) {
        return namespace.equals(otherNamespace) && sinkName.equals(otherSinkName);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TransactionId other
                && subtask == other.subtask
                && checkpointId == other.checkpointId
                && namespace.equals(other.namespace)
                && sinkName.equals(other.sinkName);
    }

    @Override
    public int hashCode() {
        return Objects.hash(namespace, sinkName, subtask, checkpointId);
    }

    @Override
    public String toString() {
        return gid();
    }
}
