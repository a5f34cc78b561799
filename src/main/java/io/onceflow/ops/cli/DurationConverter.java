package io.onceflow.ops.cli;

import org.apache.flink.util.TimeUtils;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;

/**
 * Durations in options: {@code 500ms}, {@code 10s}, {@code 5m}, {@code 7d}, in the syntax of
 * Flink's own configuration ({@link TimeUtils#parseDuration}), so the CLI and job settings read
 * alike. Unlike Flink, a bare number is refused: {@code --timeout 10} would be 10 milliseconds,
 * which is never what anyone typing it meant.
 */
public final class DurationConverter implements ITypeConverter<Duration> {

    private static final String EXAMPLES = "write e.g. 500ms, 10s, 5m or 7d";

    @Override
    public Duration convert(String value) {
        String text = value.strip();
        if (!text.isEmpty() && Character.isDigit(text.charAt(text.length() - 1))) {
            throw new TypeConversionException("'" + value + "' has no unit; " + EXAMPLES);
        }
        try {
            return TimeUtils.parseDuration(text);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new TypeConversionException("'" + value + "' is not a duration; " + EXAMPLES);
        }
    }
}
