package io.onceflow.sinks.postgres;

import io.onceflow.config.Secret;
import io.onceflow.postgres.PostgresEndpoint;
import io.onceflow.testing.TestServices;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * A fresh database on the test PostgreSQL server with a {@code numbers (n bigint PRIMARY KEY)}
 * table, a transaction namespace of its own (gids are unique per server, not per database), and
 * queries to check what the sink left behind. Closing it rolls back the transactions still prepared
 * in it, which would otherwise use up the server's max_prepared_transactions for the other tests in
 * this JVM.
 */
final class SinkTestDatabase implements AutoCloseable {

    static final String INSERT = "INSERT INTO numbers (n) VALUES (?)";
    static final String INSERT_IGNORING_DUPLICATES =
            "INSERT INTO numbers (n) VALUES (?) ON CONFLICT (n) DO NOTHING";

    private final TestServices.PostgresDatabase database;
    private final String namespace;

    private SinkTestDatabase(TestServices.PostgresDatabase database, String namespace) {
        this.database = database;
        this.namespace = namespace;
    }

    static SinkTestDatabase create(String prefix) throws SQLException {
        TestServices.PostgresDatabase database = TestServices.newDatabase(prefix);
        SinkTestDatabase created =
                new SinkTestDatabase(
                        database, prefix + "-" + UUID.randomUUID().toString().substring(0, 8));
        created.execute("CREATE TABLE numbers (n bigint PRIMARY KEY)");
        return created;
    }

    TestServices.PostgresDatabase database() {
        return database;
    }

    String namespace() {
        return namespace;
    }

    PostgresEndpoint endpoint() {
        Secret password =
                database.password().isEmpty()
                        ? Secret.none()
                        : Secret.fromEnv("ONCEFLOW_TEST_POSTGRES_PASSWORD");
        return new PostgresEndpoint(database.jdbcUrl(), database.user(), password);
    }

    /** A sink of numbers into {@code numbers} with this database's namespace. */
    PostgresSinkBuilder<Long> sink(String sql) {
        return PostgresSink.<Long>builder()
                .setEndpoint(endpoint())
                .setTransactionNamespace(namespace)
                .setSinkName("numbers")
                .setStatement(PostgresStatement.of(sql, (row, n) -> row.setLong(1, n)));
    }

    /**
     * A sink of numbers into {@code numbers} with this database's namespace, several rows per
     * statement, with {@code conflictClause} (or none when empty).
     */
    PostgresSinkBuilder<Long> multiRowSink(String conflictClause) {
        return sink(INSERT)
                .setStatement(
                        PostgresStatement.insert(
                                "INSERT INTO numbers (n)", "(?)", conflictClause, (row, n) -> row.setLong(1, n)));
    }

    String gid(int subtask, long checkpointLabel) {
        return new TransactionId(namespace, "numbers", subtask, checkpointLabel).gid();
    }

    /** The committed rows of {@code numbers}, in order; duplicates would show twice. */
    List<Long> numbers() throws SQLException {
        List<Long> numbers = new ArrayList<>();
        try (Connection connection = database.connect();
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SELECT n FROM numbers ORDER BY n")) {
            while (result.next()) {
                numbers.add(result.getLong(1));
            }
        }
        return numbers;
    }

    /** The gids prepared in this database and not yet committed or rolled back. */
    List<String> preparedTransactions() throws SQLException {
        List<String> gids = new ArrayList<>();
        try (Connection connection = database.connect();
                Statement statement = connection.createStatement();
                ResultSet result =
                        statement.executeQuery(
                                "SELECT gid FROM pg_prepared_xacts"
                                        + " WHERE database = current_database() ORDER BY gid")) {
            while (result.next()) {
                gids.add(result.getString(1));
            }
        }
        return gids;
    }

    /** The committed marker token of {@code gid}. */
    Optional<UUID> marker(String gid) throws SQLException {
        try (Connection connection = database.connect();
                PreparedStatement statement =
                        connection.prepareStatement(
                                "SELECT token FROM "
                                        + TransactionMarkers.DEFAULT_TABLE
                                        + " WHERE gid = ?")) {
            statement.setString(1, gid);
            try (ResultSet result = statement.executeQuery()) {
                return result.next()
                        ? Optional.of(result.getObject(1, UUID.class))
                        : Optional.empty();
            }
        }
    }

    /** Runs {@code sql} in its own session with autocommit, behind the sink's back. */
    void execute(String sql) throws SQLException {
        try (Connection connection = database.connect();
                Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    @Override
    public void close() throws SQLException {
        for (String gid : preparedTransactions()) {
            execute("ROLLBACK PREPARED '" + gid.replace("'", "''") + "'");
        }
    }
}
