package io.onceflow.sinks.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Whether the server allows enough prepared transactions for the sink: each subtask holds one
 * prepared transaction waiting for its checkpoint to complete while it prepares the next one.
 * Without this check a too-low setting surfaces only at the first checkpoint, as a failing {@code
 * PREPARE TRANSACTION} (or, at 0, "prepared transactions are disabled").
 */
final class PreparedTransactionCapacity {

    static final int PREPARED_TRANSACTIONS_PER_SUBTASK = 2;

    private PreparedTransactionCapacity() {}

    static void check(Connection connection, int parallelism) throws SQLException {
        int setting;
        try (Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SHOW max_prepared_transactions")) {
            result.next();
            setting = Integer.parseInt(result.getString(1).trim());
        }
        check(setting, parallelism);
    }

    /**
     * @throws IllegalStateException with the fix when {@code setting} is too low
     */
    static void check(int setting, int parallelism) {
        long needed = (long) PREPARED_TRANSACTIONS_PER_SUBTASK * parallelism;
        if (setting < needed) {
            throw new IllegalStateException(
                    "PostgreSQL's max_prepared_transactions is "
                            + setting
                            + " but this sink at parallelism "
                            + parallelism
                            + " needs at least "
                            + needed
                            + " (one prepared transaction per subtask waiting for its commit"
                            + " while the next is prepared), so set max_prepared_transactions = "
                            + needed
                            + " or more in postgresql.conf and restart PostgreSQL.");
        }
    }
}
