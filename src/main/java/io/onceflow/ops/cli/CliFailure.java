package io.onceflow.ops.cli;

/**
 * An expected runtime failure of a command (a bad input line, a missing topic): the CLI prints
 * the message, one sentence, and exits with 1. Bad arguments are picocli's {@code
 * ParameterException} instead, exit 2.
 */
public final class CliFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public CliFailure(String sentence) {
        super(sentence);
    }

    public CliFailure(String sentence, Throwable cause) {
        super(sentence, cause);
    }
}
