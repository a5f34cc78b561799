package io.onceflow.enrichment.gateway;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.onceflow.enrichment.SharedVertx;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.StreamResetException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongConsumer;

/**
 * The payment gateway over HTTP: {@code POST {baseUrl}/v1/authorizations} with a JSON body and an
 * {@code Idempotency-Key} header, answered by {@code {"outcome":"APPROVED","reference":"gw_..."}}
 * or {@code {"outcome":"DECLINED","reference":"gw_...","declineReason":"..."}}.
 *
 * <p>The caller never blocks: {@link #authorize} returns a future at once, and the future
 * completes on the client's Vert.x event loop, never on the caller's thread. The client is
 * Vert.x's non-blocking HTTP client on the TaskManager's {@link SharedVertx} event loops, with
 * keep-alive connections (at most {@link GatewayOptions#maxConnections()}), over HTTP/1.1 or
 * HTTP/2 ({@link GatewayOptions.HttpVersion} says what each demands of the gateway). Why not
 * the JDK's {@code HttpClient}: its blocking {@code send} needs a thread per attempt in flight, and on Java
 * 17 its {@code sendAsync} hands every response to {@code CompletableFuture}'s default executor,
 * which with 2 CPUs or fewer starts a thread per task (JFR of {@code onceflow bench}: 169,581
 * threads in one run). Either way its threads and selector took a quarter of a 2-core machine at
 * 600 payments/s ({@code docs/benchmarks-profile.md}).
 *
 * <p>One attempt per {@link #authorize} call (see {@link PaymentGateway}), bounded as a whole by
 * {@link GatewayOptions#requestTimeout()}, the wait for a pooled connection included. An attempt
 * that runs out of time is reset, so a late answer never arrives on a connection another attempt
 * uses. Vert.x's client never sends a request twice on its own and follows no redirect: a payment
 * goes to the configured gateway once per attempt, and only the caller's retries (with the same
 * idempotency key) repeat it.
 *
 * <p>A circuit breaker counts transient failures only (5xx, 429, 408, timeouts, connection
 * failures). A decline, a 4xx, a 409 (this key's earlier attempt is still being answered) or an
 * unreadable answer means the gateway is up and answering, so they count as successful calls;
 * otherwise a burst of invalid or repeated requests would cut off every customer.
 *
 * <p>Create it where it runs (in the operator's {@code open()} on the TaskManager) from
 * serializable {@link GatewayOptions}, and close it there:
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

    private static final CharSequence APPLICATION_JSON =
            HttpHeaders.createOptimized("application/json");

    /** Parsed once: parsing it per attempt was 4.6% of the authorizer's thread in a profile. */
    private final URL authorizationsUrl;
    private final long requestTimeoutMillis;
    private final Vertx vertx;
    private final Context context;
    private final HttpClientAgent httpClient;
    private final CircuitBreaker circuitBreaker;
    private final LongConsumer latencyListener;
    private final Set<CompletableFuture<GatewayDecision>> inFlight = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private HttpPaymentGateway(GatewayOptions options, String name, LongConsumer latencyListener) {
        try {
            this.authorizationsUrl = new URL(options.baseUrl() + AUTHORIZATIONS_PATH);
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException("The gateway's base URL is not a URL: " + options.baseUrl(), e);
        }
        this.requestTimeoutMillis = options.requestTimeout().toMillis();
        this.latencyListener = latencyListener;
        this.vertx = SharedVertx.acquire();
        // A context of its own: one event loop runs every attempt and completion of this client,
        // so they need no locks; another client (another subtask) may get the other loop.
        this.context = vertx.getOrCreateContext();
        this.httpClient =
                vertx.httpClientBuilder()
                        .with(
                                new HttpClientOptions()
                                        .setName("onceflow-gateway-" + name)
                                        .setConnectTimeout(
                                                (int) Math.min(
                                                        Integer.MAX_VALUE,
                                                        options.connectTimeout().toMillis()))
                                        .setKeepAlive(true)
                                        // A payment must not be sent somewhere else than configured.
                                        .setMaxRedirects(0)
                                        .setProtocolVersion(
                                                options.httpVersion() == GatewayOptions.HttpVersion.HTTP_2
                                                        ? HttpVersion.HTTP_2
                                                        : HttpVersion.HTTP_1_1)
                                        // https negotiates the version; plain http speaks HTTP/2
                                        // from the first byte instead of upgrading each connection.
                                        .setUseAlpn(true)
                                        .setHttp2ClearTextUpgrade(false))
                        .with(
                                new PoolOptions()
                                        .setHttp1MaxSize(options.maxConnections())
                                        .setHttp2MaxSize(options.http2Connections()))
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
        httpClient.close();
        SharedVertx.release();
    }

    private CompletableFuture<GatewayDecision> attempt(GatewayRequest request) {
        CompletableFuture<GatewayDecision> attempt = new CompletableFuture<>();
        RequestOptions httpRequest =
                new RequestOptions()
                        .setMethod(HttpMethod.POST)
                        .setAbsoluteURI(authorizationsUrl)
                        .putHeader(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON)
                        .putHeader(HttpHeaders.ACCEPT, APPLICATION_JSON)
                        .putHeader(IDEMPOTENCY_KEY_HEADER, request.idempotencyKey());
        Buffer body = Buffer.buffer(requestBody(request));
        long startNanos = System.nanoTime();
        attempt.whenComplete((decision, failure) -> reportLatency(System.nanoTime() - startNanos));
        try {
            context.runOnContext(ignored -> send(httpRequest, body, attempt));
        } catch (RejectedExecutionException closing) {
            attempt.completeExceptionally(closing);
        }
        return attempt;
    }

    /** Sends one attempt; runs on the client's event loop, like every callback in it. */
    private void send(
            RequestOptions httpRequest, Buffer body, CompletableFuture<GatewayDecision> attempt) {
        if (closed) {
            attempt.completeExceptionally(new IllegalStateException("The client is closed."));
            return;
        }
        HttpClientRequest[] sent = new HttpClientRequest[1];
        // Bounds the whole attempt, the wait for a pooled connection and the body included,
        // whatever the connection does.
        long timer =
                vertx.setTimer(
                        requestTimeoutMillis,
                        id -> {
                            boolean timedOut =
                                    attempt.completeExceptionally(
                                            new TimeoutException(
                                                    "No answer within "
                                                            + requestTimeoutMillis
                                                            + " ms"));
                            if (timedOut && sent[0] != null) {
                                // A late answer must not reach a connection another attempt uses.
                                sent[0].reset();
                            }
                        });
        httpClient
                .request(httpRequest)
                .compose(
                        request -> {
                            sent[0] = request;
                            return request.send(body);
                        })
                .compose(
                        response ->
                                response.body()
                                        .map(answer -> new Answer(response.statusCode(), answer.getBytes())))
                .onComplete(
                        (answer, failure) -> {
                            vertx.cancelTimer(timer);
                            if (attempt.isDone()) {
                                return;
                            }
                            try {
                                if (failure != null) {
                                    throw transportFailure(failure);
                                }
                                attempt.complete(decisionFrom(answer));
                            } catch (RuntimeException decided) {
                                attempt.completeExceptionally(decided);
                            }
                        });
    }

    /** A whole HTTP answer: its status and body. */
    private record Answer(int status, byte[] body) {}

    private static byte[] requestBody(GatewayRequest request) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(192);
        try (JsonGenerator body = JSON.createGenerator(bytes)) {
            body.writeStartObject();
            body.writeStringField("paymentId", request.paymentId());
            body.writeStringField("customerId", request.customerId());
            body.writeStringField("merchantId", request.merchantId());
            body.writeNumberField("amountMinor", request.amountMinor());
            body.writeStringField("currency", request.currency());
            body.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write an authorization request as JSON", e);
        }
        return bytes.toByteArray();
    }

    private static GatewayDecision decisionFrom(Answer answer) {
        int status = answer.status();
        if (status >= 200 && status < 300) {
            return parseDecision(answer.body());
        }
        String reason = "gateway_http_" + status;
        String message =
                "The payment gateway answered HTTP " + status + ": " + excerpt(answer.body());
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
        // Netty's connect timeout and refused connection are both ConnectExceptions.
        if (hasCause(failure, ConnectException.class)) {
            return new GatewayUnavailableException(
                    "gateway_connect_failed",
                    "Could not connect to the payment gateway: " + failure,
                    failure);
        }
        if (failure instanceof TimeoutException) {
            return new GatewayUnavailableException(
                    "gateway_timeout", "The payment gateway did not answer in time.", failure);
        }
        if (failure instanceof StreamResetException reset) {
            // HTTP/2: the gateway dropped this attempt's stream (overloaded, restarting); the
            // connection and the other attempts on it live on.
            return new GatewayUnavailableException(
                    "gateway_stream_reset",
                    "The payment gateway reset the attempt's HTTP/2 stream (error code "
                            + reset.getCode()
                            + ").",
                    failure);
        }
        if (failure instanceof IOException || failure instanceof HttpClosedException) {
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
        if (Vertx.currentContext() == context || closed) {
            completion.run();
            return;
        }
        // A circuit-open refusal completes on the caller's thread; the caller was promised ours.
        try {
            context.runOnContext(ignored -> completion.run());
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

    /** Builds an {@link HttpPaymentGateway}; everything but the options is optional. */
    public static final class Builder {

        private final GatewayOptions options;
        private String name = "payment-gateway";
        private LongConsumer latencyListener = millis -> {};

        private Builder(GatewayOptions options) {
            this.options = Objects.requireNonNull(options, "options");
        }

        /** Names the circuit breaker and the HTTP client, e.g. after the operator. */
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
         * reported. Called on the client's event loop, so it must be thread-safe, quick and never
         * block, e.g. a Flink {@code Histogram::update}.
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
