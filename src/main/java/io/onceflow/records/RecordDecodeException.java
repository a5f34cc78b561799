package io.onceflow.records;

/**
 * Bytes from a topic that are not a record this job knows. {@link Reason#code()} is what the
 * jobs write as a dead letter's {@code reason}.
 *
 * <p>Carries no stack trace of its own (it reports bad input, not a bug); the Avro failure
 * behind {@code undecodable} is kept as the cause.
 */
public final class RecordDecodeException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public enum Reason {
        /** No value, too short for the header, or no 0xC3 0x01 marker: not single-object bytes. */
        NOT_SINGLE_OBJECT("not_single_object"),
        /** A well-formed header whose schema fingerprint is not among the known schemas. */
        UNKNOWN_SCHEMA("unknown_schema"),
        /** A known schema, but the body does not decode with it (truncated, corrupt, trailing). */
        UNDECODABLE("undecodable");

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

    RecordDecodeException(Reason reason, String message, Throwable cause) {
        super(message, cause, false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
