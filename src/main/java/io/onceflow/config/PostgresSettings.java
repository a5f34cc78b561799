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
