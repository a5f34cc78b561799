package io.onceflow.config;

import io.onceflow.postgres.PostgresEndpoint;

import static io.onceflow.config.ConfigException.check;
import static io.onceflow.config.ConfigException.required;

/**
 * The {@code postgres} section. The password is never written here: name an environment
 * variable ({@code password-env}) or a file ({@code password-file}) that holds it, read where it
 * is used. Neither means no password (a server that trusts the connection).
 */
public record PostgresSettings(String url, String user, String passwordEnv, String passwordFile) implements java.io.Serializable {

    public PostgresSettings {
        // Blank means absent, so an override such as --set postgres.password-env= can unset it.
        passwordEnv = passwordEnv == null || passwordEnv.isBlank() ? null : passwordEnv;
        passwordFile = passwordFile == null || passwordFile.isBlank() ? null : passwordFile;
        required(url, "postgres.url");
        required(user, "postgres.user");
        // Checked here, not only where the endpoint is built, so that a configuration that loads
        // is one the job can run with.
        check(
                url.startsWith("jdbc:postgresql://"),
                "Setting 'postgres.url' must be a PostgreSQL JDBC URL starting with"
                        + " jdbc:postgresql://, but is '" + url + "'.");
        check(
                passwordEnv == null || passwordFile == null,
                "Settings 'postgres.password-env' and 'postgres.password-file' exclude each other; keep one.");
    }

    public PostgresEndpoint endpoint() {
        Secret password =
                passwordEnv != null
                        ? Secret.fromEnv(passwordEnv)
                        : passwordFile != null ? Secret.fromFile(passwordFile) : Secret.none();
        try {
            return new PostgresEndpoint(url, user, password);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("Setting 'postgres.url': " + e.getMessage());
        }
    }
}
