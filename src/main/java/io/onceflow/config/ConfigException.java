package io.onceflow.config;

/**
 * A job configuration that cannot be used, with one plain sentence that says which setting is
 * wrong and why. The CLI prints the message alone, without a stack trace.
 */
public final class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Fails with {@code message} unless {@code condition} holds. */
    public static void check(boolean condition, String message) {
        if (!condition) {
            throw new ConfigException(message);
        }
    }

    /** Returns {@code value}, or fails saying that {@code setting} is required. */
    public static <T> T required(T value, String setting) {
        if (value == null || (value instanceof String s && s.isBlank())) {
            throw new ConfigException("Setting '" + setting + "' is required.");
        }
        return value;
    }
}
