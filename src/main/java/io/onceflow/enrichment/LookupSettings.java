package io.onceflow.enrichment;

import io.onceflow.config.RetrySettings;

import java.io.Serializable;
import java.time.Duration;

import static io.onceflow.config.ConfigException.check;

/**
 * How a job looks rows up in PostgreSQL with async I/O (the payments job's customers, the
 * analytics job's user profiles).
 *
 * @param poolSize connections per subtask; each pipelines the queries sent to it, so a few
 *     connections carry the whole {@code capacity}
 * @param cacheSize most keys cached per subtask; answers, "not found" included, are cached
 * @param cacheTtl how long a cached answer is trusted; a change in the table shows after at most
 *     this long
 * @param timeout the longest one record may wait for its answer, retries included; then it goes
 *     on without one (marked, never dropped)
 * @param capacity lookups under way at once per subtask; more blocks input (backpressure)
 * @param retry backoff between attempts when the database does not answer
 */
public record LookupSettings(
        Integer poolSize,
        Long cacheSize,
        Duration cacheTtl,
        Duration timeout,
        Integer capacity,
        RetrySettings retry)
        implements Serializable {

    public LookupSettings {
        poolSize = poolSize == null ? 4 : poolSize;
        cacheSize = cacheSize == null ? 100_000L : cacheSize;
        cacheTtl = cacheTtl == null ? Duration.ofMinutes(1) : cacheTtl;
        timeout = timeout == null ? Duration.ofSeconds(5) : timeout;
        capacity = capacity == null ? 100 : capacity;
        retry = retry == null ? new RetrySettings(3, Duration.ofMillis(50), Duration.ofMillis(500), 2.0) : retry;
        check(poolSize >= 1, "A lookup's 'pool-size' must be at least 1.");
        check(cacheSize >= 0, "A lookup's 'cache-size' must not be negative.");
        check(capacity >= 1, "A lookup's 'capacity' must be at least 1.");
        check(
                timeout.compareTo(retry.worstCaseBackoff()) > 0,
                "A lookup's 'timeout' (" + timeout.toMillis() + " ms) must exceed the sum of its retry backoffs ("
                        + retry.worstCaseBackoff().toMillis() + " ms), or retries could never finish.");
    }

    public static LookupSettings defaults() {
        return new LookupSettings(null, null, null, null, null, null);
    }
}
