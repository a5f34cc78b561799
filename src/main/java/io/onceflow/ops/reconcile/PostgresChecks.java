package io.onceflow.ops.reconcile;

import io.onceflow.ingest.TopicRange;
import io.onceflow.postgres.PostgresEndpoint;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** What reconcile asks PostgreSQL besides a job's own rows. */
final class PostgresChecks {

    private PostgresChecks() {}

    /** {@code gid (prepared at, owner)} of each prepared transaction still open in the endpoint's database. */
    static List<String> preparedTransactions(PostgresEndpoint endpoint) {
        List<String> open = new ArrayList<>();
        try (Connection connection = endpoint.connect(); Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery(
                     "SELECT gid, prepared, owner FROM pg_prepared_xacts WHERE database = current_database() ORDER BY prepared")) {
            while (rs.next()) {
                open.add(rs.getString(1) + " (prepared " + rs.getObject(2, java.time.OffsetDateTime.class) + ", owner " + rs.getString(3) + ")");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot list the prepared transactions of " + endpoint + ": " + e.getMessage(), e);
        }
        return open;
    }

    /** {@code (column_partition = ? AND column_offset >= ? AND column_offset < ?) OR ...} for the non-empty partitions of the range. */
    static String positionFilter(TopicRange range, String partitionColumn, String offsetColumn) {
        List<String> terms = new ArrayList<>();
        for (TopicRange.Partition p : range.partitions()) {
            if (p.size() > 0) {
                terms.add("(" + partitionColumn + " = " + p.partition() + " AND " + offsetColumn + " >= " + p.start()
                        + " AND " + offsetColumn + " < " + p.end() + ")");
            }
        }
        return terms.isEmpty() ? "FALSE" : "(" + String.join(" OR ", terms) + ")";
    }

    static void bind(PreparedStatement statement, Object... values) throws SQLException {
        for (int i = 0; i < values.length; i++) {
            statement.setObject(i + 1, values[i]);
        }
    }
}
