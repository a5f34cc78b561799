package io.onceflow.sinks.postgres;

import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;

/** What a PostgreSQL error means for the sink, read from its SQLState. */
final class PostgresErrors {

    /** "prepared transaction with identifier ... does not exist". */
    static final String UNDEFINED_OBJECT = "42704";

    /** "prepared transaction with identifier ... is busy": another session is finishing it. */
    static final String OBJECT_NOT_IN_PREREQUISITE_STATE = "55000";

    /** "canceling statement due to lock timeout". */
    static final String LOCK_NOT_AVAILABLE = "55P03";

    private PostgresErrors() {}

    /**
     * Whether trying again on a new connection may succeed: the connection broke (class 08), the
     * server is shutting down or starting up (57P01, 57P02, 57P03), or it ran short of a resource
     * such as connections (class 53).
     */
    static boolean isTransient(SQLException e) {
        String state = e.getSQLState();
        if (state == null) {
            return e instanceof SQLTransientException || e instanceof SQLRecoverableException;
        }
        return state.startsWith("08")
                || state.startsWith("53")
                || state.equals("57P01")
                || state.equals("57P02")
                || state.equals("57P03");
    }

    static boolean isTransactionGone(SQLException e) {
        return UNDEFINED_OBJECT.equals(e.getSQLState());
    }

    static boolean isTransactionBusy(SQLException e) {
        return OBJECT_NOT_IN_PREREQUISITE_STATE.equals(e.getSQLState());
    }

    static boolean isLockTimeout(SQLException e) {
        return LOCK_NOT_AVAILABLE.equals(e.getSQLState());
    }
}
