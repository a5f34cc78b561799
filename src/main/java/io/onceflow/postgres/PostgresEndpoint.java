package io.onceflow.postgres;

import io.onceflow.config.Secret;

import java.io.Serializable;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Objects;

/**
 * How to reach one PostgreSQL database: a JDBC URL, a user and a {@link Secret} password.
 *
 * <p>Serializable so that operators carry it to the TaskManagers, where the password is read
 * ({@link Secret#resolve()}); the value never travels in the job graph.
 */
public final class PostgresEndpoint implements Serializable {

    private static final long serialVersionUID = 1L;

    private final String jdbcUrl;
    private final String user;
    private final Secret password;

    public PostgresEndpoint(String jdbcUrl, String user, Secret password) {
        if (jdbcUrl == null || !jdbcUrl.startsWith("jdbc:postgresql://")) {
            throw new IllegalArgumentException(
                    "PostgreSQL URL must start with jdbc:postgresql:// but is " + jdbcUrl + ".");
        }
        if (user == null || user.isBlank()) {
            throw new IllegalArgumentException("PostgreSQL user is empty.");
        }
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = Objects.requireNonNull(password, "password");
    }

    public String jdbcUrl() {
        return jdbcUrl;
    }

    public String user() {
        return user;
    }

    public Secret password() {
        return password;
    }

    /** Host of the URL (the first, when it lists several). */
    public String host() {
        return uri().getHost();
    }

    /** Port of the URL, 5432 when it names none. */
    public int port() {
        int port = uri().getPort();
        return port == -1 ? 5432 : port;
    }

    /** Database name of the URL. */
    public String database() {
        String path = uri().getPath();
        return path == null || path.length() <= 1 ? user : path.substring(1);
    }

    private URI uri() {
        String withoutPrefix = jdbcUrl.substring("jdbc:".length());
        int query = withoutPrefix.indexOf('?');
        String base = query == -1 ? withoutPrefix : withoutPrefix.substring(0, query);
        int comma = base.indexOf(',');
        if (comma != -1) {
            int slash = base.indexOf('/', comma);
            base = base.substring(0, comma) + (slash == -1 ? "" : base.substring(slash));
        }
        return URI.create(base);
    }

    /** A new JDBC connection, autocommit on, with the password read now. */
    public Connection connect() throws SQLException {
        registerDriver();
        return DriverManager.getConnection(jdbcUrl, user, password.resolve());
    }

    /**
     * Registers PostgreSQL's driver from this class's loader. DriverManager finds drivers through
     * ServiceLoader once per JVM and then hands each caller only drivers of its own class loader:
     * on a session cluster the second job (a resume, an upgrade) runs in a new user-code loader,
     * finds only the first job's driver and fails with "No suitable driver". Loading the driver
     * class in this loader runs its static registration.
     */
    public static void registerDriver() {
        try {
            Class.forName("org.postgresql.Driver", true, PostgresEndpoint.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("PostgreSQL's JDBC driver is not on the class path", e);
        }
    }

    @Override
    public String toString() {
        return user + "@" + jdbcUrl + " (" + password + ")";
    }
}
