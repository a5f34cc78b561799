package io.onceflow.enrichment.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;

/**
 * The payment gateway over HTTP: {@code POST {baseUrl}/v1/authorizations} with a JSON body and an
 * {@code Idempotency-Key} header, answered by {@code {"outcome":"APPROVED","reference":"gw_..."}}
 * or {@code {"outcome":"DECLINED","reference":"gw_...","declineReason":"..."}}.
 *
 * <p>The caller never blocks: {@link #authorize} returns a future at once. Each attempt is a
 * blocking {@link HttpClient#send} on a pooled thread, not {@link HttpClient#sendAsync}: Java 17's
 * {@code sendAsync} hands every response to {@code CompletableFuture}'s default executor, which on
 * a machine with 2 CPUs or fewer (common pool parallelism 1, e.g. a TaskManager pod with {@code
 * cpu: 2}) starts a new thread per task: one thread created and destroyed per payment (JFR of
 * {@code onceflow bench}: 169,581 threads in one run). The pool's threads are reused; there are as
 * many as attempts in flight, which the caller bounds (the authorizer's {@code capacity}). One
 * attempt per {@link #authorize} call (see {@link PaymentGateway}), bounded by {@link
 * GatewayOptions#requestTimeout()} at the future, so the future completes even if the connection
 * hangs in a way the HTTP client does not notice. The JDK
 * client never re-sends a POST on its own (unless {@code jdk.httpclient.enableAllMethodRetry} is
 * set, which this client must not run with); it only retries opening a connection, when nothing has
 * reached the gateway yet.
 *
 * <p>A circuit breaker counts transient failures only (5xx, 429, 408, timeouts, connection
 * failures). A decline, a 4xx, a 409 (this key's earlier attempt is still being answered) or an
 * unreadable answer means the gateway is up and answering, so they count as successful calls;
 * otherwise a burst of invalid or repeated requests would cut off every customer.
 *
 * <p>Create it where it runs (in the operator's {@code open()} on the TaskManager) from
 * serializable {@link GatewayOptions}:
 *
 * <pre>{@code
 * PaymentGateway gateway =
 *         HttpPaymentGateway.builder(options).latencyListener(latencyHistogram::update).build();
 * }</pre>
 */
public final class HttpPaymentGateway implements PaymentGateway {

    private static final Logger LOG = LoggerFactory.getLogger(HttpPaymentGateway.class);

    /** Path of the authorization endpoint under the base URL. */
    public static final String AUTHORIZATIONS_PATH = "/v1/authorizations";

    public static final String IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";

    /** Enough of an error body to tell what went wrong, short enough for a log line. */
    private static final int ERROR_BODY_EXCERPT_CHARS = 200;

    /** Thread-safe once configured; shared by all clients in the JVM. */
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String CONFLICT_REASON = "gateway_http_409";

    private static final AtomicInteger CLIENT_NUMBERS = new AtomicInteger();

    private final URI authorizationsUri;
    private final Duration requestTimeout;
    private final ThreadPoolExecutor clientThreads;
    private final ThreadPoolExecutor callThreads;
    private final HttpClient httpClient;
    private final CircuitBreaker circuitBreaker;
    private final LongConsumer latencyListener;
    private final Set<CompletableFuture<GatewayDecision>> inFlight = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private HttpPaymentGateway(GatewayOptions options, String name, LongConsumer latencyListener) {
        this.authorizationsUri = URI.create(options.baseUrl() + AUTHORIZATIONS_PATH);
        this.requestTimeout = options.requestTimeout();
        this.latencyListener = latencyListener;
        // The HTTP client's work is non-blocking, so two threads serve any number of attempts.
        // Our own pool, unlike the client's default one, can be released on close (Java 17's
        // HttpClient has no close()); core threads time out so an idle client holds none.
        int number = CLIENT_NUMBERS.incrementAndGet();
        this.clientThreads =
                new ThreadPoolExecutor(
                        2,
                        2,
                        30,
                        TimeUnit.SECONDS,
                        new LinkedBlockingQueue<>(),
                        daemonThreads(
                                "onceflow-gateway-"
                                        + name
                                        + "-"
                                        + number));
        clientThreads.allowCoreThreadTimeOut(true);
        // One thread per attempt in flight, reused; idle ones end after 30 s.
        this.callThreads =
                new ThreadPoolExecutor(
                        0,
                        Integer.MAX_VALUE,
                        30,
                        TimeUnit.SECONDS,
                        new SynchronousQueue<>(),
                        daemonThreads("onceflow-gateway-calls-" + name + "-" + number));
        this.httpClient =
                HttpClient.newBuilder()
                        .executor(clientThreads)
                        .connectTimeout(options.connectTimeout())
                        // A payment must not be sent somewhere else than configured.
                        .followRedirects(HttpClient.Redirect.NEVER)
                        .build();
        this.circuitBreaker =
                CircuitBreaker.of(
                        name,
                        CircuitBreakerConfig.custom()
                                .slidingWindowType(
                                        CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                                .slidingWindowSize(options.slidingWindowSize())
                                .minimumNumberOfCalls(options.minimumNumberOfCalls())
                                .failureRateThreshold(options.failureRateThresholdPercent())
                                .waitDurationInOpenState(options.waitDurationInOpenState())
                                .permittedNumberOfCallsInHalfOpenState(
                                        options.permittedCallsInHalfOpenState())
                                .recordException(HttpPaymentGateway::isGatewayFailure)
                                // Callers see our own exception, so its stack trace is not needed.
                                .writableStackTraceEnabled(false)
                                .build());
    }

    /** A builder for a client of the gateway {@code options} describe. */
    public static Builder builder(GatewayOptions options) {
        return new Builder(options);
    }

    @Override
    public CompletableFuture<GatewayDecision> authorize(GatewayRequest request) {
        Objects.requireNonNull(request, "request");
        if (closed) {
            throw new IllegalStateException("The payment gateway client is closed.");
        }
        CompletableFuture<GatewayDecision> result = new CompletableFuture<>();
        inFlight.add(result);
        result.whenComplete((decision, failure) -> inFlight.remove(result));
        CompletionStage<GatewayDecision> guarded;
        try {
            guarded = circuitBreaker.decorateCompletionStage(() -> attempt(request)).get();
        } catch (RuntimeException unexpected) {
            guarded = CompletableFuture.failedFuture(unexpected);
        }
        guarded.whenComplete(
                (decision, failure) -> completeOnClientThread(result, decision, failure));
        return result;
    }

    @Override
    public CircuitState circuitState() {
        switch (circuitBreaker.getState()) {
            case OPEN:
            case FORCED_OPEN:
                return CircuitState.OPEN;
            case HALF_OPEN:
                return CircuitState.HALF_OPEN;
            default:
                return CircuitState.CLOSED;
        }
    }

    /** Attempts sent and not yet answered. */
    public int inFlightCount() {
        return inFlight.size();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (CompletableFuture<GatewayDecision> attempt : inFlight) {
            attempt.completeExceptionally(
                    new GatewayUnavailableException(
                            "gateway_client_closed",
                            "The payment gateway client was closed while the attempt was in"
                                + " flight."));
        }
        callThreads.shutdownNow();
        clientThreads.shutdownNow();
    }

    private CompletableFuture<GatewayDecision> attempt(GatewayRequest request) {
        HttpRequest httpRequest =
                HttpRequest.newBuilder(authorizationsUri)
                        .timeout(requestTimeout)
                        .header("Content-Type", "application/json")
                        .header("Accept", "application/json")
                        .header(IDEMPOTENCY_KEY_HEADER, request.idempotencyKey())
                        .POST(HttpRequest.BodyPublishers.ofByteArray(requestBody(request)))
                        .build();
        long startNanos = System.nanoTime();
        CompletableFuture<HttpResponse<byte[]>> sent;
        try {
            sent = CompletableFuture.supplyAsync(() -> send(httpRequest), callThreads);
        } catch (RejectedExecutionException closing) {
            sent = CompletableFuture.failedFuture(closing);
        }
        return sent
                // HttpRequest.timeout may stop counting once the response headers are in; this
                // bounds the whole attempt, body included, whatever the connection does.
                .orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .handle(
                        (response, failure) -> {
                            reportLatency(System.nanoTime() - startNanos);
                            if (failure != null) {
                                throw transportFailure(PaymentGateway.unwrap(failure));
                            }
                            return decisionFrom(response);
                        });
    }

    private HttpResponse<byte[]> send(HttpRequest httpRequest) {
        try {
            return httpClient.send(httpRequest, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new CompletionException(e);
        } catch (InterruptedException e) {
            // Only close() interrupts these threads; the attempt's future is already failed.
            Thread.currentThread().interrupt();
            throw new CompletionException(e);
        }
    }

    private static byte[] requestBody(GatewayRequest request) {
        ObjectNode body = JSON.createObjectNode();
        body.put("paymentId", request.paymentId());
        body.put("customerId", request.customerId());
        body.put("merchantId", request.merchantId());
        body.put("amountMinor", request.amountMinor());
        body.put("currency", request.currency());
        try {
            return JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("Could not write an authorization request as JSON", e);
        }
    }

    private static GatewayDecision decisionFrom(HttpResponse<byte[]> response) {
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            return parseDecision(response.body());
        }
        String reason = "gateway_http_" + status;
        String message =
                "The payment gateway answered HTTP " + status + ": " + excerpt(response.body());
        if (status >= 500 || status == 429 || status == 408 || status == 409) {
            throw new GatewayUnavailableException(reason, message);
        }
        throw new GatewayRejectedException(reason, message);
    }

    private static GatewayDecision parseDecision(byte[] body) {
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (IOException e) {
            throw malformed(body, e);
        }
        if (json == null || !json.isObject()) {
            throw malformed(body, null);
        }
        JsonNode outcome = json.get("outcome");
        JsonNode reference = json.get("reference");
        JsonNode declineReason = json.get("declineReason");
        if (outcome == null
                || !outcome.isTextual()
                || reference == null
                || !reference.isTextual()
                || (declineReason != null
                        && !declineReason.isNull()
                        && !declineReason.isTextual())) {
            throw malformed(body, null);
        }
        try {
            return new GatewayDecision(
                    GatewayDecision.Outcome.valueOf(outcome.textValue()),
                    reference.textValue(),
                    declineReason == null || declineReason.isNull()
                            ? null
                            : declineReason.textValue());
        } catch (IllegalArgumentException unknownOrContradictory) {
            throw malformed(body, unknownOrContradictory);
        }
    }

    /**
     * Whether {@code failure} says the gateway is unwell. A 409 is transient but says only that
     * this key's earlier attempt is still being answered: the gateway itself is fine.
     */
    private static boolean isGatewayFailure(Throwable failure) {
        return PaymentGateway.isTransient(failure)
                && !((GatewayException) PaymentGateway.unwrap(failure))
                        .reason()
                        .equals(CONFLICT_REASON);
    }

    private static GatewayRejectedException malformed(byte[] body, Throwable cause) {
        return new GatewayRejectedException(
                "gateway_malformed_response",
                "The payment gateway's answer is not a decision: " + excerpt(body),
                cause);
    }

    private static GatewayException transportFailure(Throwable failure) {
        if (failure instanceof GatewayException gatewayFailure) {
            return gatewayFailure;
        }
        if (failure instanceof HttpConnectTimeoutException
                || hasCause(failure, ConnectException.class)) {
            return new GatewayUnavailableException(
                    "gateway_connect_failed",
                    "Could not connect to the payment gateway: " + failure,
                    failure);
        }
        if (failure instanceof HttpTimeoutException || failure instanceof TimeoutException) {
            return new GatewayUnavailableException(
                    "gateway_timeout", "The payment gateway did not answer in time.", failure);
        }
        if (failure instanceof IOException) {
            return new GatewayUnavailableException(
                    "gateway_connection_lost",
                    "The connection to the payment gateway broke: " + failure,
                    failure);
        }
        return new GatewayRejectedException(
                "gateway_client_error", "The payment gateway client failed: " + failure, failure);
    }

    private void completeOnClientThread(
            CompletableFuture<GatewayDecision> result,
            GatewayDecision decision,
            Throwable failure) {
        Runnable completion =
                () -> {
                    if (failure == null) {
                        result.complete(decision);
                    } else {
                        result.completeExceptionally(asGatewayException(failure));
                    }
                };
        try {
            // Timeouts and circuit-open rejections complete on the JDK's timer thread or the
            // caller's thread; the caller was promised ours.
            clientThreads.execute(completion);
        } catch (RejectedExecutionException closing) {
            completion.run();
        }
    }

    private static GatewayException asGatewayException(Throwable failure) {
        Throwable unwrapped = PaymentGateway.unwrap(failure);
        if (unwrapped instanceof CallNotPermittedException) {
            return new GatewayUnavailableException(
                    "gateway_circuit_open",
                    "The payment gateway circuit breaker is open; the attempt was not sent.",
                    unwrapped);
        }
        return transportFailure(unwrapped);
    }

    private void reportLatency(long nanos) {
        try {
            latencyListener.accept(TimeUnit.NANOSECONDS.toMillis(nanos));
        } catch (RuntimeException e) {
            // A broken metric must not fail a payment.
            LOG.warn("The gateway latency listener failed", e);
        }
    }

    private static boolean hasCause(Throwable failure, Class<? extends Throwable> type) {
        for (Throwable current = failure; current != null; current = current.getCause()) {
            if (type.isInstance(current)) {
                return true;
            }
        }
        return false;
    }

    private static String excerpt(byte[] body) {
        if (body == null || body.length == 0) {
            return "(empty body)";
        }
        String text = new String(body, StandardCharsets.UTF_8).strip();
        return text.length() <= ERROR_BODY_EXCERPT_CHARS
                ? text
                : text.substring(0, ERROR_BODY_EXCERPT_CHARS) + "...";
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger numbers = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + numbers.incrementAndGet());
            // A client someone forgot to close must not keep a TaskManager or test JVM alive.
            thread.setDaemon(true);
            return thread;
        };
    }

    /** Builds an {@link HttpPaymentGateway}; everything but the options is optional. */
    public static final class Builder {

        private final GatewayOptions options;
        private String name = "payment-gateway";
        private LongConsumer latencyListener = millis -> {};

        private Builder(GatewayOptions options) {
            this.options = Objects.requireNonNull(options, "options");
        }

        /** Names the circuit breaker and the client's threads, e.g. after the operator. */
        public Builder name(String name) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("The gateway client's name is empty.");
            }
            this.name = name;
            return this;
        }

        /**
         * Receives the duration in milliseconds of every attempt sent to the gateway, whatever its
         * outcome (timeouts included); calls the open circuit refused are not attempts and are not
         * reported. Called on the client's threads, so it must be thread-safe and quick, e.g. a
         * Flink {@code Histogram::update}.
         */
        public Builder latencyListener(LongConsumer latencyListener) {
            this.latencyListener = Objects.requireNonNull(latencyListener, "latencyListener");
            return this;
        }

        public HttpPaymentGateway build() {
            return new HttpPaymentGateway(options, name, latencyListener);
        }
    }
}
