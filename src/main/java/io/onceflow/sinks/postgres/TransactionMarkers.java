package io.onceflow.sinks.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The sink-owned table of commit markers: one row per prepared transaction, written inside that
 * transaction, so the row becomes visible exactly when the transaction commits.
 *
 * <p>A committer that finds a transaction gone after a restore reads the marker to prove whether it
 * committed, instead of assuming so. The row is keyed by gid and carries a random token; a gid used
 * again after a rewind to an older savepoint overwrites the token, so an old committable never
 * mistakes the new transaction's commit for its own.
 */
final class TransactionMarkers {

    static final String DEFAULT_TABLE = "onceflow_sink_transactions";

    private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    private final String table;

    TransactionMarkers(String table) {
        if (!isValidTableName(table)) {
            throw new IllegalArgumentException("Invalid marker table name " + table + ".");
        }
        this.table = table;
    }

    /** A lower-case, unquoted identifier, optionally qualified by a schema. */
    static boolean isValidTableName(String name) {
        if (name == null) {
            return false;
        }
        String[] parts = name.split("\\.", -1);
        if (parts.length > 2) {
            return false;
        }
        for (String part : parts) {
            if (!IDENTIFIER.matcher(part).matches()) {
                return false;
            }
        }
        return true;
    }

    String table() {
        return table;
    }

    /**
     * Creates the table and its index unless they exist. Parallel subtasks start at the same time
     * and {@code CREATE TABLE IF NOT EXISTS} is not safe against itself (both can pass the check
     * and one fails on the catalog's unique index), so the creation runs under a transaction-level
     * advisory lock. Checking first also lets a role without CREATE privilege use a table that an
     * administrator created.
     *
     * <p>Leaves the connection in the autocommit mode it found.
     */
    void createIfAbsent(Connection connection) throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try {
            try (PreparedStatement lock =
                    connection.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
                lock.setString(1, "onceflow sink marker table " + table);
                lock.execute();
            }
            boolean exists;
            try (PreparedStatement lookup =
                    connection.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
                lookup.setString(1, table);
                try (ResultSet result = lookup.executeQuery()) {
                    result.next();
                    exists = result.getBoolean(1);
                }
            }
            if (!exists) {
                try (Statement ddl = connection.createStatement()) {
                    ddl.execute(
                            "CREATE TABLE IF NOT EXISTS "
                                    + table
                                    + " (gid text PRIMARY KEY,"
                                    + " token uuid NOT NULL,"
                                    + " namespace text NOT NULL,"
                                    + " sink text NOT NULL,"
                                    + " subtask integer NOT NULL,"
                                    + " checkpoint_id bigint NOT NULL,"
                                    + " prepared_at timestamptz NOT NULL DEFAULT now())");
                    ddl.execute(
                            "CREATE INDEX IF NOT EXISTS "
                                    + unqualified(table)
                                    + "_expiry ON "
                                    + table
                                    + " (namespace, sink, prepared_at)");
                }
            }
            connection.commit();
        } catch (SQLException e) {
            rollbackQuietly(connection, e);
            throw e;
        } finally {
            connection.setAutoCommit(autoCommit);
        }
    }

    /** Writes the marker of {@code id} inside the connection's open transaction. */
    void write(Connection connection, TransactionId id, UUID token) throws SQLException {
        try (PreparedStatement upsert =
                connection.prepareStatement(
                        "INSERT INTO "
                                + table
                                + " (gid, token, namespace, sink, subtask, checkpoint_id,"
                                + " prepared_at) VALUES (?, ?, ?, ?, ?, ?, clock_timestamp())"
                                + " ON CONFLICT (gid) DO UPDATE SET token = EXCLUDED.token,"
                                + " prepared_at = EXCLUDED.prepared_at")) {
            upsert.setString(1, id.gid());
            upsert.setObject(2, token);
            upsert.setString(3, id.namespace());
            upsert.setString(4, id.sinkName());
            upsert.setInt(5, id.subtask());
            upsert.setLong(6, id.checkpointId());
            upsert.executeUpdate();
        }
    }

    /** The token of the committed marker of {@code gid}, if there is one. */
    Optional<UUID> committedToken(Connection connection, String gid) throws SQLException {
        try (PreparedStatement lookup =
                connection.prepareStatement("SELECT token FROM " + table + " WHERE gid = ?")) {
            lookup.setString(1, gid);
            try (ResultSet result = lookup.executeQuery()) {
                return result.next()
                        ? Optional.of(result.getObject(1, UUID.class))
                        : Optional.empty();
            }
        }
    }

    /**
     * Deletes this sink's markers older than {@code retention} whose subtask maps onto {@code
     * committerSubtask}, so parallel committers split the work without overlap. A marker whose
     * transaction is still prepared (a gid reused after a rewind) is locked by it and skipped
     * rather than waited for.
     *
     * @return how many markers were deleted
     */
    int deleteExpired(
            Connection connection,
            String namespace,
            String sinkName,
            Duration retention,
            int committerSubtask,
            int committerParallelism)
            throws SQLException {
        try (PreparedStatement delete =
                connection.prepareStatement(
                        "DELETE FROM "
                                + table
                                + " WHERE gid IN (SELECT gid FROM "
                                + table
                                + " WHERE namespace = ? AND sink = ? AND subtask % ? = ?"
                                + " AND prepared_at < now() - make_interval(secs => ?)"
                                + " FOR UPDATE SKIP LOCKED)")) {
            delete.setString(1, namespace);
            delete.setString(2, sinkName);
            delete.setInt(3, committerParallelism);
            delete.setInt(4, committerSubtask);
            delete.setDouble(5, retention.toSeconds());
            return delete.executeUpdate();
        }
    }

    private static String unqualified(String table) {
        return table.substring(table.lastIndexOf('.') + 1);
    }

    private static void rollbackQuietly(Connection connection, SQLException cause) {
        try {
            connection.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }
}
