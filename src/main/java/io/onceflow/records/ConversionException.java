package io.onceflow.records;

/**
 * JSON that does not fit an Avro schema: {@link #reason()} says what kind of problem for
 * machines (dead letters, metrics), {@link #field()} where, {@link #getMessage()} both for
 * people.
 *
 * <p>Carries no stack trace: it reports bad input, not a bug, and jobs that validate every
 * event would otherwise pay for a trace on each rejected one.
 */
public final class ConversionException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The fixed set of reasons; {@link #code()} is the stable, machine-readable form. */
    public enum Reason {
        /** Not JSON, empty, or not a JSON object at the top. */
        UNPARSEABLE("unparseable"),
        /** A field without default that the schema requires is absent or null. */
        MISSING_FIELD("missing_field"),
        /** A JSON value of the wrong kind: a number where a string belongs, and so on. */
        BAD_TYPE("bad_type"),
        /** Over a configured limit: document size, string length, array length, nesting. */
        TOO_LARGE("too_large"),
        /** The right kind with a wrong value: unknown enum symbol, bad timestamp, bad base64. */
        BAD_VALUE("bad_value"),
        /** A JSON property the schema does not have, only when unknown fields are rejected. */
        UNKNOWN_FIELD("unknown_field");

        private final String code;

        Reason(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }

        @Override
        public String toString() {
            return code;
        }
    }

    private final Reason reason;
    private final String field;

    ConversionException(Reason reason, String field, String message) {
        super(message, null, false, false);
        this.reason = reason;
        this.field = field;
    }

    public Reason reason() {
        return reason;
    }

    /**
     * Path of the offending value, e.g. {@code metadata.ip}, {@code items[2].sku} or {@code
     * labels["a.b"]}; empty when the problem is the document as a whole.
     */
    public String field() {
        return field;
    }
}
