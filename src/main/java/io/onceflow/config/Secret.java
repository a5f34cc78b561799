package io.onceflow.config;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a secret (a password) comes from: an environment variable or a file, never the job
 * configuration, the command line or a log line.
 *
 * <p>A {@code Secret} is a reference, not the value: it travels inside the job graph and is
 * resolved where it is used, on the TaskManager, so the value itself never leaves the machine
 * that holds it. {@link #toString()} names the source and never the value.
 */
public final class Secret implements Serializable {

    private static final long serialVersionUID = 1L;

    private enum Kind {
        NONE,
        ENV,
        FILE
    }

    private final Kind kind;
    private final String location;

    private Secret(Kind kind, String location) {
        this.kind = kind;
        this.location = location;
    }

    /** No secret: the server trusts the connection (the local demo's embedded PostgreSQL). */
    public static Secret none() {
        return new Secret(Kind.NONE, "");
    }

    /** The value of environment variable {@code name} where the secret is used. */
    public static Secret fromEnv(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("A secret's environment variable name is empty.");
        }
        return new Secret(Kind.ENV, name);
    }

    /** The contents of {@code path} (trailing newline removed) where the secret is used. */
    public static Secret fromFile(String path) {
        if (path == null || path.isBlank()) {
            throw new IllegalArgumentException("A secret's file path is empty.");
        }
        return new Secret(Kind.FILE, path);
    }

    /**
     * Reads the secret.
     *
     * @throws IllegalStateException naming the variable or file when it is missing or unreadable
     */
    public String resolve() {
        switch (kind) {
            case NONE:
                return "";
            case ENV:
                String value = System.getenv(location);
                if (value == null) {
                    throw new IllegalStateException(
                            "Environment variable " + location + " is not set; it holds a password.");
                }
                return value;
            case FILE:
                try {
                    // Only the line end: spaces may be part of the password, and trimming them
                    // would turn a correct file into a login failure nobody can see the cause of.
                    return Files.readString(Path.of(location), StandardCharsets.UTF_8)
                            .replaceFirst("[\\r\\n]+$", "");
                } catch (IOException e) {
                    throw new IllegalStateException(
                            "Cannot read password file " + location + ": " + e.getMessage(), e);
                }
            default:
                throw new AssertionError(kind);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Secret other && kind == other.kind && location.equals(other.location);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, location);
    }

    @Override
    public String toString() {
        switch (kind) {
            case ENV:
                return "secret from environment variable " + location;
            case FILE:
                return "secret from file " + location;
            default:
                return "no secret";
        }
    }
}
