package io.onceflow.testing;

import io.onceflow.local.LocalKafka;
import io.onceflow.local.LocalPostgres;

import org.apache.flink.util.FileUtils;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * The real services integration tests run against, started once per test JVM and shared:
 * a KRaft Kafka broker and a PostgreSQL server.
 *
 * <p>PostgreSQL is the embedded binaries by default. Set {@code ONCEFLOW_TEST_POSTGRES_URL} (a
 * JDBC URL of a database the tests may create databases from, with {@code
 * ONCEFLOW_TEST_POSTGRES_USER} and {@code ONCEFLOW_TEST_POSTGRES_PASSWORD}) to test against any
 * other server; it needs {@code max_prepared_transactions} of at least 16.
 *
 * <p>Every test gets its own database ({@link #newDatabase}) and its own topic names, so tests
 * never see each other's data.
 */
public final class TestServices {

    // Volatile: the shutdown hook reads them without the lock, which a stuck test may hold.
    private static volatile LocalKafka kafka;
    private static volatile LocalPostgres embeddedPostgres;
    private static volatile Path root;

    private TestServices() {}

    public static synchronized LocalKafka kafka() {
        if (kafka == null) {
            try {
                kafka = LocalKafka.start(root().resolve("kafka"), 0);
            } catch (Exception e) {
                throw new IllegalStateException("Could not start the test Kafka broker", e);
            }
        }
        return kafka;
    }

    /** A fresh, empty database on the test PostgreSQL server. */
    public static synchronized PostgresDatabase newDatabase(String prefix) {
        String name =
                (prefix + "_" + UUID.randomUUID()).toLowerCase(Locale.ROOT).replace('-', '_');
        String external = System.getenv("ONCEFLOW_TEST_POSTGRES_URL");
        try {
            if (external != null && !external.isBlank()) {
                String user = System.getenv().getOrDefault("ONCEFLOW_TEST_POSTGRES_USER", "postgres");
                String password = System.getenv().getOrDefault("ONCEFLOW_TEST_POSTGRES_PASSWORD", "");
                try (Connection c = DriverManager.getConnection(external, user, password);
                        Statement s = c.createStatement()) {
                    s.execute("CREATE DATABASE " + name);
                }
                String base = external.substring(0, external.lastIndexOf('/') + 1);
                return new PostgresDatabase(base + name, user, password, null);
            }
            LocalPostgres postgres = embeddedPostgres();
            postgres.createDatabase(name);
            return new PostgresDatabase(postgres.jdbcUrl(name), postgres.user(), "", postgres);
        } catch (SQLException e) {
            throw new IllegalStateException("Could not create test database " + name, e);
        }
    }

    private static LocalPostgres embeddedPostgres() {
        if (embeddedPostgres == null) {
            try {
                embeddedPostgres = LocalPostgres.start(root().resolve("postgres"), 0);
            } catch (IOException e) {
                throw new UncheckedIOException("Could not start embedded PostgreSQL", e);
            }
        }
        return embeddedPostgres;
    }

    /**
     * A short directory for service data (RocksDB and Kafka dislike long paths), deleted with
     * everything in it when the test JVM exits, after the services have stopped: a CI run leaves
     * gigabytes of broker logs, checkpoints and lakes behind otherwise. Set {@code
     * -Donceflow.test.keep-files=true} to keep it for a look after a failure.
     */
    private static synchronized Path root() {
        if (root == null) {
            try {
                root = Files.createTempDirectory("of-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(TestServices::stopAndDelete, "test-services-stop"));
        }
        return root;
    }

    /** One hook for all, since the JVM runs shutdown hooks concurrently and in no set order. */
    private static void stopAndDelete() {
        if (kafka != null) {
            kafka.close();
        }
        if (embeddedPostgres != null) {
            try {
                embeddedPostgres.close();
            } catch (IOException e) {
                System.err.println("Could not stop the test PostgreSQL server: " + e);
            }
        }
        if (Boolean.getBoolean("onceflow.test.keep-files")) {
            System.err.println("Kept the test services' files in " + root);
            return;
        }
        try {
            FileUtils.deleteDirectory(root.toFile());
        } catch (IOException e) {
            System.err.println("Could not delete " + root + ": " + e);
        }
    }

    /** A short, unique directory for one test's files (checkpoints, RocksDB). */
    public static Path newDirectory(String prefix) {
        try {
            return Files.createTempDirectory(root(), prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A database for one test, and the server it lives on when that server is embedded. */
    public record PostgresDatabase(
            String jdbcUrl, String user, String password, LocalPostgres embeddedServer) {

        public Connection connect() throws SQLException {
            return DriverManager.getConnection(jdbcUrl, user, password);
        }
    }
}
