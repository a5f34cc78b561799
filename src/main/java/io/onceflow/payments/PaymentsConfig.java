package io.onceflow.payments;

import io.onceflow.config.ConfigException;
import io.onceflow.config.ConfigLoader;
import io.onceflow.config.JobSettings;
import io.onceflow.config.KafkaSettings;
import io.onceflow.config.PostgresSettings;
import io.onceflow.config.RetrySettings;
import io.onceflow.enrichment.LookupSettings;
import io.onceflow.enrichment.gateway.GatewayOptions;
import io.onceflow.lake.LakeSettings;
import io.onceflow.sinks.kafka.TransactionalKafkaSinks;

import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static io.onceflow.config.ConfigException.check;
import static io.onceflow.config.ConfigException.required;

/**
 * Everything the payments job is configured with: {@code jobs/payments.yaml}, read at submission.
 * Each section is documented on its record; every setting a section leaves out has the default
 * its record names.
 */
public record PaymentsConfig(
        JobSettings job,
        KafkaSettings kafka,
        Topics topics,
        PostgresSettings postgres,
        ValidationSettings validation,
        Idempotency idempotency,
        LookupSettings customerLookup,
        Gateway gateway,
        PostgresSink postgresSink,
        LakeSettings lake)
        implements Serializable {

    public PaymentsConfig {
        required(job, "job");
        required(kafka, "kafka");
        required(topics, "topics");
        required(postgres, "postgres");
        required(gateway, "gateway");
        // The Kafka sink checks this too, but only when the graph is built; a configuration that
        // loads must be one the job can run with.
        kafka.checkTransactionTimeout(job, TransactionalKafkaSinks.RESTART_ALLOWANCE);
        validation = validation == null ? ValidationSettings.defaults() : validation;
        idempotency = idempotency == null ? new Idempotency(null) : idempotency;
        customerLookup = customerLookup == null ? LookupSettings.defaults() : customerLookup;
        postgresSink = postgresSink == null ? new PostgresSink(null) : postgresSink;
        lake = lake == null ? LakeSettings.defaults() : lake;
    }

    public static PaymentsConfig load(Path file, Map<String, String> overrides) {
        return ConfigLoader.load(file, overrides, PaymentsConfig.class);
    }

    /** The {@code topics} section: the job's wire contract. */
    public record Topics(String requests, String results, String completed, String deadLetters)
            implements Serializable {
        public Topics {
            required(requests, "topics.requests");
            required(results, "topics.results");
            required(completed, "topics.completed");
            required(deadLetters, "topics.dead-letters");
        }
    }

    /**
     * The {@code idempotency} section.
     *
     * @param ttl how long the result of a request is kept to answer repeats of its key; a repeat
     *     later than this is processed as a new payment
     */
    public record Idempotency(Duration ttl) implements Serializable {
        public Idempotency {
            ttl = ttl == null ? Duration.ofDays(7) : ttl;
            check(ttl.toMinutes() >= 1, "Setting 'idempotency.ttl' must be at least 1m.");
        }
    }

    /**
     * The {@code gateway} section.
     *
     * @param url base URL of the payment gateway
     * @param requestTimeout longest one attempt may take
     * @param connectTimeout longest a new connection may take
     * @param capacity customers with a gateway call under way (or backing off) at once, per
     *     subtask; more blocks input
     * @param maxWaitingPerCustomer requests of one customer that may queue behind its call; more
     *     are REJECTED {@code too_many_pending}
     * @param httpVersion {@code 1.1} (default) or {@code 2}; over {@code https} 2 is negotiated
     *     and falls back to 1.1, over {@code http} the gateway must speak HTTP/2 (h2c), see
     *     {@link GatewayOptions.HttpVersion}
     * @param retry backoff between attempts on transient failures
     * @param giveUpAfter how long a payment waits out an open circuit breaker before it is
     *     FAILED; waiting holds the customer's later payments and, at capacity, the input
     * @param circuitBreaker when to stop calling a failing gateway for a while
     */
    public record Gateway(
            String url,
            Duration requestTimeout,
            Duration connectTimeout,
            Integer capacity,
            Integer maxWaitingPerCustomer,
            String httpVersion,
            RetrySettings retry,
            Duration giveUpAfter,
            CircuitBreaker circuitBreaker)
            implements Serializable {
        public Gateway {
            required(url, "gateway.url");
            giveUpAfter = giveUpAfter == null ? Duration.ofMinutes(2) : giveUpAfter;
            requestTimeout = requestTimeout == null ? Duration.ofSeconds(2) : requestTimeout;
            connectTimeout = connectTimeout == null ? Duration.ofSeconds(1) : connectTimeout;
            capacity = capacity == null ? 200 : capacity;
            maxWaitingPerCustomer = maxWaitingPerCustomer == null ? 1000 : maxWaitingPerCustomer;
            retry = retry == null ? new RetrySettings(null, null, null, null) : retry;
            circuitBreaker = circuitBreaker == null ? new CircuitBreaker(null, null, null, null, null) : circuitBreaker;
            check(capacity >= 1, "Setting 'gateway.capacity' must be at least 1.");
            check(maxWaitingPerCustomer >= 0, "Setting 'gateway.max-waiting-per-customer' must not be negative.");
            httpVersion = httpVersion == null ? GatewayOptions.HttpVersion.HTTP_1_1.spelling() : httpVersion;
            check(
                    GatewayOptions.HttpVersion.spelled(httpVersion) != null,
                    "Setting 'gateway.http-version' must be 1.1 or 2, but is '" + httpVersion + "'.");
        }

        public GatewayOptions options() {
            try {
                return GatewayOptions.builder()
                        .baseUrl(url)
                        .requestTimeout(requestTimeout)
                        .connectTimeout(connectTimeout)
                        // HTTP/1.1 needs a connection per call the authorizer keeps under way.
                        .maxConnections(capacity)
                        .httpVersion(GatewayOptions.HttpVersion.spelled(httpVersion))
                        .failureRateThresholdPercent(circuitBreaker.failureRateThreshold())
                        .slidingWindowSize(circuitBreaker.slidingWindowSize())
                        .minimumNumberOfCalls(circuitBreaker.minimumNumberOfCalls())
                        .waitDurationInOpenState(circuitBreaker.waitInOpenState())
                        .permittedCallsInHalfOpenState(circuitBreaker.permittedCallsInHalfOpenState())
                        .build();
            } catch (IllegalArgumentException e) {
                throw new ConfigException("Section 'gateway': " + e.getMessage());
            }
        }
    }

    /**
     * The {@code gateway.circuit-breaker} section (Resilience4j's count-based window).
     *
     * @param failureRateThreshold percentage of failed calls in the window that opens the circuit
     * @param slidingWindowSize calls the failure rate is computed over
     * @param minimumNumberOfCalls calls before the rate counts at all
     * @param waitInOpenState how long an open circuit refuses calls before it tries again
     * @param permittedCallsInHalfOpenState trial calls that decide whether to close again
     */
    public record CircuitBreaker(
            Float failureRateThreshold,
            Integer slidingWindowSize,
            Integer minimumNumberOfCalls,
            Duration waitInOpenState,
            Integer permittedCallsInHalfOpenState)
            implements Serializable {
        public CircuitBreaker {
            failureRateThreshold = failureRateThreshold == null ? 50f : failureRateThreshold;
            slidingWindowSize = slidingWindowSize == null ? 50 : slidingWindowSize;
            minimumNumberOfCalls = minimumNumberOfCalls == null ? 20 : minimumNumberOfCalls;
            waitInOpenState = waitInOpenState == null ? Duration.ofSeconds(5) : waitInOpenState;
            permittedCallsInHalfOpenState =
                    permittedCallsInHalfOpenState == null ? 5 : permittedCallsInHalfOpenState;
        }
    }

    /**
     * The {@code postgres-sink} section.
     *
     * @param batchSize rows sent to PostgreSQL per round trip inside a checkpoint's transaction
     */
    public record PostgresSink(Integer batchSize) implements Serializable {
        public PostgresSink {
            batchSize = batchSize == null ? 500 : batchSize;
            check(batchSize >= 1, "Setting 'postgres-sink.batch-size' must be at least 1.");
        }
    }
}
