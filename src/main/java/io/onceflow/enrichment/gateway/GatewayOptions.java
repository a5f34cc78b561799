package io.onceflow.enrichment.gateway;

import java.io.Serializable;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * How to reach the payment gateway and when to stop calling it: everything an {@link
 * HttpPaymentGateway} needs, as a value.
 *
 * <p>Serializable because it travels inside the Flink job graph; the client itself (threads,
 * connections, circuit breaker) is created from it on the TaskManager. Build it with {@link
 * #builder()}; {@link Builder#build()} checks every value and names each bad one in a sentence.
 */
public final class GatewayOptions implements Serializable {

    private static final long serialVersionUID = 1L;

    /**
     * Streams an HTTP/2 connection is counted on for: the least a server should allow at once
     * (RFC 9113, SETTINGS_MAX_CONCURRENT_STREAMS). Attempts beyond what a gateway allows wait
     * for a stream.
     */
    static final int HTTP2_STREAMS_PER_CONNECTION = 100;

    private final String baseUrl;
    private final Duration requestTimeout;
    private final Duration connectTimeout;
    private final int maxConnections;
    private final HttpVersion httpVersion;
    private final float failureRateThresholdPercent;
    private final int slidingWindowSize;
    private final int minimumNumberOfCalls;
    private final Duration waitDurationInOpenState;
    private final int permittedCallsInHalfOpenState;

    private GatewayOptions(Builder builder) {
        this.baseUrl = stripTrailingSlashes(builder.baseUrl);
        this.requestTimeout = builder.requestTimeout;
        this.connectTimeout = builder.connectTimeout;
        this.maxConnections = builder.maxConnections;
        this.httpVersion = builder.httpVersion;
        this.failureRateThresholdPercent = builder.failureRateThresholdPercent;
        this.slidingWindowSize = builder.slidingWindowSize;
        this.minimumNumberOfCalls = builder.minimumNumberOfCalls;
        this.waitDurationInOpenState = builder.waitDurationInOpenState;
        this.permittedCallsInHalfOpenState = builder.permittedCallsInHalfOpenState;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these options, to change a few of them. */
    public Builder toBuilder() {
        return new Builder()
                .baseUrl(baseUrl)
                .requestTimeout(requestTimeout)
                .connectTimeout(connectTimeout)
                .maxConnections(maxConnections)
                .httpVersion(httpVersion)
                .failureRateThresholdPercent(failureRateThresholdPercent)
                .slidingWindowSize(slidingWindowSize)
                .minimumNumberOfCalls(minimumNumberOfCalls)
                .waitDurationInOpenState(waitDurationInOpenState)
                .permittedCallsInHalfOpenState(permittedCallsInHalfOpenState);
    }

    /**
     * The gateway's base URL without trailing slash; authorizations go to {@code
     * /v1/authorizations} under it.
     */
    public String baseUrl() {
        return baseUrl;
    }

    /**
     * How long one attempt may take in all, connecting included, before it fails with {@code
     * gateway_timeout}.
     */
    public Duration requestTimeout() {
        return requestTimeout;
    }

    /**
     * How long connecting may take before the attempt fails with {@code gateway_connect_failed}.
     */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /**
     * How many connections to the gateway one client keeps open at most over HTTP/1.1, each
     * carrying one attempt at a time; attempts beyond it wait for a free connection (their
     * request timeout running). Over HTTP/2 see {@link #http2Connections()}.
     */
    public int maxConnections() {
        return maxConnections;
    }

    /**
     * The connections an HTTP/2 client opens at most: {@link #maxConnections()} over {@value
     * #HTTP2_STREAMS_PER_CONNECTION}, rounded up. A client opens a further connection whenever
     * none is ready, so a burst of attempts at start would otherwise open as many connections as
     * attempts.
     */
    public int http2Connections() {
        return (maxConnections + HTTP2_STREAMS_PER_CONNECTION - 1) / HTTP2_STREAMS_PER_CONNECTION;
    }

    /** The HTTP version the client speaks to the gateway. */
    public HttpVersion httpVersion() {
        return httpVersion;
    }

    /** Percentage of failed calls in the sliding window at which the circuit opens. */
    public float failureRateThresholdPercent() {
        return failureRateThresholdPercent;
    }

    /** How many of the latest calls the failure rate is computed over. */
    public int slidingWindowSize() {
        return slidingWindowSize;
    }

    /** How many calls the window must hold before the failure rate can open the circuit. */
    public int minimumNumberOfCalls() {
        return minimumNumberOfCalls;
    }

    /** How long the circuit stays open, failing calls fast, before trial calls go through. */
    public Duration waitDurationInOpenState() {
        return waitDurationInOpenState;
    }

    /** How many trial calls go through while half open; they decide whether the circuit closes. */
    public int permittedCallsInHalfOpenState() {
        return permittedCallsInHalfOpenState;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GatewayOptions other
                && baseUrl.equals(other.baseUrl)
                && requestTimeout.equals(other.requestTimeout)
                && connectTimeout.equals(other.connectTimeout)
                && maxConnections == other.maxConnections
                && httpVersion == other.httpVersion
                && Float.compare(failureRateThresholdPercent, other.failureRateThresholdPercent)
                        == 0
                && slidingWindowSize == other.slidingWindowSize
                && minimumNumberOfCalls == other.minimumNumberOfCalls
                && waitDurationInOpenState.equals(other.waitDurationInOpenState)
                && permittedCallsInHalfOpenState == other.permittedCallsInHalfOpenState;
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                baseUrl,
                requestTimeout,
                connectTimeout,
                maxConnections,
                httpVersion,
                failureRateThresholdPercent,
                slidingWindowSize,
                minimumNumberOfCalls,
                waitDurationInOpenState,
                permittedCallsInHalfOpenState);
    }

    @Override
    public String toString() {
        return "GatewayOptions{baseUrl="
                + baseUrl
                + ", requestTimeout="
                + requestTimeout
                + ", connectTimeout="
                + connectTimeout
                + ", maxConnections="
                + maxConnections
                + ", httpVersion="
                + httpVersion
                + ", failureRateThresholdPercent="
                + failureRateThresholdPercent
                + ", slidingWindowSize="
                + slidingWindowSize
                + ", minimumNumberOfCalls="
                + minimumNumberOfCalls
                + ", waitDurationInOpenState="
                + waitDurationInOpenState
                + ", permittedCallsInHalfOpenState="
                + permittedCallsInHalfOpenState
                + "}";
    }

    /**
     * The HTTP version of the gateway calls.
     *
     * <p>{@link #HTTP_2} carries many attempts on one connection, each a stream, so one or two
     * connections serve what takes {@code maxConnections} over HTTP/1.1, and a socket read or
     * write serves several attempts: in the benchmark (loopback) the client's event loops and
     * the gateway simulator took 21.0 µs of CPU per payment against 25.2 over HTTP/1.1, about
     * 3% of a payment's CPU ({@code docs/benchmarks-profile.md}, stop 16).
     *
     * <p>Over {@code https} the version is negotiated (ALPN), so a gateway that offers only
     * HTTP/1.1 is still reached; over plain {@code http} the client opens every connection
     * speaking HTTP/2 at once (prior knowledge), so the gateway must speak it (h2c): one that
     * does not fails every attempt as a broken connection, and the circuit opens.
     */
    public enum HttpVersion {
        HTTP_1_1("1.1"),
        HTTP_2("2");

        private final String spelling;

        HttpVersion(String spelling) {
            this.spelling = spelling;
        }

        /** As a config file spells it: {@code 1.1} or {@code 2}. */
        public String spelling() {
            return spelling;
        }

        /** The version a config file spells so; null for any other spelling. */
        public static HttpVersion spelled(String spelling) {
            for (HttpVersion version : values()) {
                if (version.spelling.equals(spelling)) {
                    return version;
                }
            }
            return null;
        }
    }

    private static String stripTrailingSlashes(String url) {
        String stripped = url;
        while (stripped.endsWith("/")) {
            stripped = stripped.substring(0, stripped.length() - 1);
        }
        return stripped;
    }

    /**
     * Options with defaults for everything but the base URL. The defaults suit a gateway that
     * answers in tens of milliseconds: a 2 s attempt, a 1 s connect, HTTP/1.1 with up to 200
     * connections, and a circuit that opens when half of the last 20 calls (at least 10) failed,
     * stays open 10 s, then lets 3 trial calls through.
     */
    public static final class Builder {

        private String baseUrl;
        private Duration requestTimeout = Duration.ofSeconds(2);
        private Duration connectTimeout = Duration.ofSeconds(1);
        private int maxConnections = 200;
        private HttpVersion httpVersion = HttpVersion.HTTP_1_1;
        private float failureRateThresholdPercent = 50f;
        private int slidingWindowSize = 20;
        private int minimumNumberOfCalls = 10;
        private Duration waitDurationInOpenState = Duration.ofSeconds(10);
        private int permittedCallsInHalfOpenState = 3;

        private Builder() {}

        /**
         * The gateway's base URL, {@code http} or {@code https}, e.g. {@code
         * https://gateway.example.com}; may include a path prefix. Required.
         */
        public Builder baseUrl(String baseUrl) {
            this.baseUrl = baseUrl;
            return this;
        }

        /**
         * How long one attempt may take in all, connecting included; after it the attempt fails
         * with {@code gateway_timeout}. Default 2 s.
         */
        public Builder requestTimeout(Duration requestTimeout) {
            this.requestTimeout = requestTimeout;
            return this;
        }

        /**
         * How long opening a connection may take; after it the attempt fails with {@code
         * gateway_connect_failed}. At most the request timeout. Default 1 s.
         */
        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
            return this;
        }

        /**
         * How many connections one client keeps open at most, at least 1. HTTP/1.1 carries one
         * attempt per connection at a time, so this bounds the attempts in flight; set it to the
         * calls the caller keeps under way (the authorizer's {@code gateway.capacity}). Over
         * HTTP/2 the client opens one connection per 100 of it ({@link #http2Connections()}).
         * Default 200.
         */
        public Builder maxConnections(int maxConnections) {
            this.maxConnections = maxConnections;
            return this;
        }

        /**
         * The HTTP version to speak, see {@link HttpVersion}; required. Default HTTP/1.1, which
         * every gateway speaks.
         */
        public Builder httpVersion(HttpVersion httpVersion) {
            this.httpVersion = httpVersion;
            return this;
        }

        /**
         * Percentage (above 0, at most 100) of transient failures among the calls in the sliding
         * window at which the circuit opens. Declines and rejected requests are not failures.
         * Default 50.
         */
        public Builder failureRateThresholdPercent(float failureRateThresholdPercent) {
            this.failureRateThresholdPercent = failureRateThresholdPercent;
            return this;
        }

        /**
         * How many of the latest calls the failure rate is computed over, at least 1. Default 20.
         */
        public Builder slidingWindowSize(int slidingWindowSize) {
            this.slidingWindowSize = slidingWindowSize;
            return this;
        }

        /**
         * How many calls must have been made before the failure rate can open the circuit, from 1
         * to the sliding window size; keeps a couple of early failures from opening it. Default 10.
         */
        public Builder minimumNumberOfCalls(int minimumNumberOfCalls) {
            this.minimumNumberOfCalls = minimumNumberOfCalls;
            return this;
        }

        /**
         * How long the circuit stays open, failing calls at once with {@code gateway_circuit_open},
         * before letting trial calls through; at least 1 ms. Default 10 s.
         */
        public Builder waitDurationInOpenState(Duration waitDurationInOpenState) {
            this.waitDurationInOpenState = waitDurationInOpenState;
            return this;
        }

        /**
         * How many trial calls go through while half open, at least 1; if their failure rate is
         * below the threshold the circuit closes, otherwise it opens again. Default 3.
         */
        public Builder permittedCallsInHalfOpenState(int permittedCallsInHalfOpenState) {
            this.permittedCallsInHalfOpenState = permittedCallsInHalfOpenState;
            return this;
        }

        /**
         * Checks every value and builds the options.
         *
         * @throws IllegalArgumentException with one sentence per bad value
         */
        public GatewayOptions build() {
            List<String> problems = new ArrayList<>();
            checkBaseUrl(problems);
            checkAtLeastOneMillisecond(requestTimeout, "The request timeout", problems);
            checkAtLeastOneMillisecond(connectTimeout, "The connect timeout", problems);
            if (isAtLeastOneMillisecond(requestTimeout)
                    && isAtLeastOneMillisecond(connectTimeout)
                    && connectTimeout.compareTo(requestTimeout) > 0) {
                problems.add(
                        "The connect timeout ("
                                + connectTimeout
                                + ") must not exceed the request timeout ("
                                + requestTimeout
                                + "), which bounds the whole attempt.");
            }
            if (maxConnections < 1) {
                problems.add(
                        "The maximum number of connections must be at least 1 but is "
                                + maxConnections
                                + ".");
            }
            if (httpVersion == null) {
                problems.add("The HTTP version is missing.");
            }
            if (!(failureRateThresholdPercent > 0 && failureRateThresholdPercent <= 100)) {
                problems.add(
                        "The failure rate threshold must be above 0 and at most 100 percent but is "
                                + failureRateThresholdPercent
                                + ".");
            }
            if (slidingWindowSize < 1) {
                problems.add(
                        "The sliding window size must be at least 1 call but is "
                                + slidingWindowSize
                                + ".");
            }
            if (minimumNumberOfCalls < 1
                    || (slidingWindowSize >= 1 && minimumNumberOfCalls > slidingWindowSize)) {
                problems.add(
                        "The minimum number of calls must be from 1 to the sliding window size ("
                                + slidingWindowSize
                                + ") but is "
                                + minimumNumberOfCalls
                                + ".");
            }
            checkAtLeastOneMillisecond(
                    waitDurationInOpenState, "The wait duration in open state", problems);
            if (permittedCallsInHalfOpenState < 1) {
                problems.add(
                        "The permitted calls in half-open state must be at least 1 but is "
                                + permittedCallsInHalfOpenState
                                + ".");
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException(String.join(" ", problems));
            }
            return new GatewayOptions(this);
        }

        private void checkBaseUrl(List<String> problems) {
            if (baseUrl == null || baseUrl.isBlank()) {
                problems.add("The gateway base URL is missing.");
                return;
            }
            URI uri;
            try {
                uri = new URI(baseUrl);
            } catch (URISyntaxException e) {
                problems.add("The gateway base URL " + baseUrl + " is not a valid URL.");
                return;
            }
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                problems.add(
                        "The gateway base URL "
                                + baseUrl
                                + " must start with http:// or https://.");
            } else if (uri.getHost() == null) {
                problems.add("The gateway base URL " + baseUrl + " names no host.");
            } else if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
                problems.add(
                        "The gateway base URL " + baseUrl + " must not have a query or fragment.");
            }
        }

        private static void checkAtLeastOneMillisecond(
                Duration value, String name, List<String> problems) {
            if (!isAtLeastOneMillisecond(value)) {
                problems.add(
                        name
                                + " must be at least 1 ms but is "
                                + (value == null ? "missing" : value)
                                + ".");
            }
        }

        private static boolean isAtLeastOneMillisecond(Duration value) {
            return value != null && value.compareTo(Duration.ofMillis(1)) >= 0;
        }
    }
}
