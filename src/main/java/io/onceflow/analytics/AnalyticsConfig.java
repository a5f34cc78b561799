package io.onceflow.analytics;

import io.onceflow.config.ConfigLoader;
import io.onceflow.config.JobSettings;
import io.onceflow.config.KafkaSettings;
import io.onceflow.config.PostgresSettings;
import io.onceflow.enrichment.LookupSettings;
import io.onceflow.lake.LakeSettings;

import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.onceflow.config.ConfigException.check;
import static io.onceflow.config.ConfigException.required;

/**
 * Everything the analytics job is configured with: {@code jobs/analytics.yaml}, read at
 * submission. Each section is documented on its record; every setting a section leaves out has
 * the default its record names.
 *
 * @param enrichers event type → the enrichers that run on it, in order ({@value
 *     Enrichers#USER_PROFILE}, {@value Enrichers#DEVICE_CLASS}); a type not named gets none
 * @param userLookup how the {@value Enrichers#USER_PROFILE} enricher reads PostgreSQL's {@code
 *     users}
 */
public record AnalyticsConfig(
        JobSettings job,
        KafkaSettings kafka,
        Topics topics,
        PostgresSettings postgres,
        Validation validation,
        Dedup dedup,
        EventTime eventTime,
        Windows windows,
        Map<String, List<String>> enrichers,
        LookupSettings userLookup,
        AggregateSink aggregateSink,
        LakeSettings lake)
        implements Serializable {

    public AnalyticsConfig {
        required(job, "job");
        required(kafka, "kafka");
        required(topics, "topics");
        required(postgres, "postgres");
        validation = validation == null ? new Validation(null, null, null, null, null, null) : validation;
        dedup = dedup == null ? new Dedup(null) : dedup;
        eventTime = eventTime == null ? new EventTime(null, null) : eventTime;
        windows = windows == null ? new Windows(null, null) : windows;
        enrichers = enrichers == null ? Map.of() : copyOf(enrichers);
        userLookup = userLookup == null ? LookupSettings.defaults() : userLookup;
        aggregateSink = aggregateSink == null ? new AggregateSink(null) : aggregateSink;
        lake = lake == null ? LakeSettings.defaults() : lake;
        Enrichers.check(enrichers);
    }

    private static Map<String, List<String>> copyOf(Map<String, List<String>> enrichers) {
        Map<String, List<String>> copy = new LinkedHashMap<>();
        enrichers.forEach((type, names) -> copy.put(type, names == null ? List.of() : List.copyOf(names)));
        return java.util.Collections.unmodifiableMap(copy);
    }

    public static AnalyticsConfig load(Path file, Map<String, String> overrides) {
        return ConfigLoader.load(file, overrides, AnalyticsConfig.class);
    }

    /** The enrichers configured for {@code type}, in order; empty when none. */
    public List<String> enrichersOf(String type) {
        return enrichers.getOrDefault(type, List.of());
    }

    /** The {@code topics} section: the job's wire contract. */
    public record Topics(String events, String deadLetters) implements Serializable {
        public Topics {
            required(events, "topics.events");
            required(deadLetters, "topics.dead-letters");
        }
    }

    /**
     * The {@code validation} section: bounds an event must keep besides its type's schema.
     *
     * @param maxEventBytes largest accepted event (JSON bytes); larger is {@code too_large}
     * @param maxStringLength longest string value anywhere in an event; longer is {@code too_large}
     * @param maxArrayLength most items in any array (a purchase's items); more is {@code too_large}
     * @param maxIdLength longest {@code eventId}, {@code userId}, {@code anonymousId} and {@code
     *     sessionId}; longer is {@code too_large}
     * @param maxClockSkew how far in the future (by the job's clock) {@code occurredAt} may be;
     *     further is {@code bad_timestamp}. Devices' clocks drift; an event from the future would
     *     push the watermark ahead and make every honest event after it late
     * @param maxEventAge how far in the past {@code occurredAt} may be; older is {@code
     *     bad_timestamp} (SDKs that queue offline send old events, but not forever)
     */
    public record Validation(
            Integer maxEventBytes,
            Integer maxStringLength,
            Integer maxArrayLength,
            Integer maxIdLength,
            Duration maxClockSkew,
            Duration maxEventAge)
            implements Serializable {
        public Validation {
            maxEventBytes = maxEventBytes == null ? 64 * 1024 : maxEventBytes;
            maxStringLength = maxStringLength == null ? 4096 : maxStringLength;
            maxArrayLength = maxArrayLength == null ? 200 : maxArrayLength;
            maxIdLength = maxIdLength == null ? 128 : maxIdLength;
            maxClockSkew = maxClockSkew == null ? Duration.ofMinutes(5) : maxClockSkew;
            maxEventAge = maxEventAge == null ? Duration.ofDays(7) : maxEventAge;
            check(maxEventBytes >= 256, "Setting 'validation.max-event-bytes' must be at least 256.");
            check(maxStringLength >= 16, "Setting 'validation.max-string-length' must be at least 16.");
            check(maxArrayLength >= 1, "Setting 'validation.max-array-length' must be at least 1.");
            check(maxIdLength >= 8, "Setting 'validation.max-id-length' must be at least 8.");
            check(!maxClockSkew.isNegative(), "Setting 'validation.max-clock-skew' must not be negative.");
            check(maxEventAge.toMinutes() >= 1, "Setting 'validation.max-event-age' must be at least 1m.");
        }
    }

    /**
     * The {@code dedup} section.
     *
     * @param ttl how long an eventId is remembered; an SDK retry later than this is counted again.
     *     State grows with the distinct events of one ttl
     */
    public record Dedup(Duration ttl) implements Serializable {
        public Dedup {
            ttl = ttl == null ? Duration.ofHours(24) : ttl;
            check(ttl.toMinutes() >= 1, "Setting 'dedup.ttl' must be at least 1m.");
        }
    }

    /**
     * The {@code event-time} section: watermarks from {@code occurredAt}.
     *
     * @param maxOutOfOrderness how far behind the newest event an event may be and still count as
     *     in order; the watermark trails the newest {@code occurredAt} by this much
     * @param idleness a source split without events for this long stops holding the watermark
     *     back
     */
    public record EventTime(Duration maxOutOfOrderness, Duration idleness) implements Serializable {
        public EventTime {
            maxOutOfOrderness = maxOutOfOrderness == null ? Duration.ofSeconds(5) : maxOutOfOrderness;
            idleness = idleness == null ? Duration.ofSeconds(30) : idleness;
            check(!maxOutOfOrderness.isNegative(), "Setting 'event-time.max-out-of-orderness' must not be negative.");
            check(idleness.toMillis() >= 100, "Setting 'event-time.idleness' must be at least 100ms.");
        }
    }

    /**
     * The {@code windows} section: the minute aggregates.
     *
     * @param size length of the tumbling windows
     * @param allowedLateness how long after a window's end (by the watermark) an event still updates
     *     it, each time re-writing its row; later events are marked late: in the lake, counted, not
     *     in the aggregates
     */
    public record Windows(Duration size, Duration allowedLateness) implements Serializable {
        public Windows {
            size = size == null ? Duration.ofMinutes(1) : size;
            allowedLateness = allowedLateness == null ? Duration.ofMinutes(1) : allowedLateness;
            check(size.toMillis() >= 1000, "Setting 'windows.size' must be at least 1s.");
            check(!allowedLateness.isNegative(), "Setting 'windows.allowed-lateness' must not be negative.");
        }
    }

    /**
     * The {@code aggregate-sink} section: {@code analytics_minute} through the two-phase-commit
     * PostgreSQL sink.
     *
     * @param batchSize rows per round trip inside a checkpoint's transaction
     */
    public record AggregateSink(Integer batchSize) implements Serializable {
        public AggregateSink {
            batchSize = batchSize == null ? 1000 : batchSize;
            check(batchSize >= 1, "Setting 'aggregate-sink.batch-size' must be at least 1.");
        }
    }
}
