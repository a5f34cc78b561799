package io.onceflow.ops.cluster;

/** A failed cluster operation; the message is one sentence fit for an operator. */
public final class FlinkRestException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int httpStatus;

    public FlinkRestException(String sentence) {
        this(sentence, (Throwable) null);
    }

    public FlinkRestException(String sentence, Throwable cause) {
        super(sentence, cause);
        this.httpStatus = 0;
    }

    public FlinkRestException(String sentence, int httpStatus) {
        super(sentence);
        this.httpStatus = httpStatus;
    }

    /** The HTTP status Flink answered with; 0 when it did not answer. */
    public int httpStatus() {
        return httpStatus;
    }
}
