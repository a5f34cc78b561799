package io.onceflow.ops.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * Times in options ({@code --from}, {@code --to}): an ISO-8601 instant or date-time with offset
 * ({@code 2025-06-01T12:00:00Z}, {@code 2025-06-01T14:00+02:00}), {@code now}, or {@code now-<duration>}
 * ({@code now-15m}, durations as {@link DurationConverter} reads them).
 */
public final class InstantConverter implements ITypeConverter<Instant> {

    private static final String EXAMPLES = "write e.g. 2025-06-01T12:00:00Z, now or now-15m";

    private final Clock clock;

    public InstantConverter() {
        this(Clock.systemUTC());
    }

    InstantConverter(Clock clock) {
        this.clock = clock;
    }

    @Override
    public Instant convert(String value) {
        String text = value.strip();
        if (text.equals("now")) {
            return clock.instant();
        }
        if (text.startsWith("now-")) {
            try {
                return clock.instant().minus(new DurationConverter().convert(text.substring(4)));
            } catch (TypeConversionException e) {
                throw new TypeConversionException("'" + value + "' is not a time; " + EXAMPLES);
            }
        }
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException e) {
            throw new TypeConversionException("'" + value + "' is not a time with a zone offset; " + EXAMPLES);
        }
    }
}
