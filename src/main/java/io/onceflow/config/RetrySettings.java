package io.onceflow.config;

import org.apache.flink.streaming.api.functions.async.AsyncRetryStrategy;
import org.apache.flink.streaming.util.retryable.AsyncRetryStrategies;

import java.time.Duration;
import java.util.Collection;
import java.util.function.Predicate;

import static io.onceflow.config.ConfigException.check;

/**
 * Exponential backoff between attempts of a call to another system, as Flink's own {@link
 * AsyncRetryStrategies} computes it: the n-th retry waits about {@code initialDelay *
 * multiplier^(n-1)}, capped at {@code maxDelay}.
 *
 * <p>Pitfall of Flink's strategy, kept because both async operators of the jobs should back off
 * alike: one strategy object serves a whole operator and remembers the last delay it gave, so
 * with many calls backing off at once a delay may restart from {@code initialDelay}. Delays stay
 * within {@code [initialDelay, maxDelay]} either way.
 *
 * @param maxRetries retries after the first attempt (Flink's strategies call this "max
 *     attempts" but count only the retries)
 */
public record RetrySettings(
        Integer maxRetries, Duration initialDelay, Duration maxDelay, Double multiplier) implements java.io.Serializable {

    public RetrySettings {
        maxRetries = maxRetries == null ? 3 : maxRetries;
        initialDelay = initialDelay == null ? Duration.ofMillis(100) : initialDelay;
        maxDelay = maxDelay == null ? Duration.ofSeconds(2) : maxDelay;
        multiplier = multiplier == null ? 2.0 : multiplier;
        check(maxRetries >= 0, "A retry's 'max-retries' must not be negative.");
        check(multiplier >= 1.0, "A retry's 'multiplier' must be at least 1.0.");
        check(
                !maxDelay.minus(initialDelay).isNegative(),
                "A retry's 'max-delay' must not be below its 'initial-delay'.");
    }

    /** The longest all backoffs of one call can take together. */
    public Duration worstCaseBackoff() {
        long total = 0;
        double delay = initialDelay.toMillis();
        for (int retry = 1; retry <= maxRetries; retry++) {
            total += (long) Math.min(delay, maxDelay.toMillis());
            delay *= multiplier;
        }
        return Duration.ofMillis(total);
    }

    /** A predicate that travels in the job graph with the strategy that holds it. */
    @FunctionalInterface
    public interface SerializablePredicate<T> extends Predicate<T>, java.io.Serializable {}

    /** Flink's exponential strategy with these settings, retrying when either predicate holds. */
    public <T> AsyncRetryStrategy<T> strategy(
            SerializablePredicate<Collection<T>> retryOnResult,
            SerializablePredicate<Throwable> retryOnException) {
        return new AsyncRetryStrategies.ExponentialBackoffDelayRetryStrategyBuilder<T>(
                        maxRetries, initialDelay.toMillis(), maxDelay.toMillis(), multiplier)
                .ifResult(retryOnResult)
                .ifException(retryOnException)
                .build();
    }
}
