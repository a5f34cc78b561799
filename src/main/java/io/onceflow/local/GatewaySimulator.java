package io.onceflow.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Currency;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A <b>simulated</b> payment gateway, for the demo and the tests only; it never charges anything
 * and must never stand in for a real gateway in production.
 *
 * <p>Speaks the gateway's wire format on {@code POST /v1/authorizations} over real HTTP/1.1 on
 * 127.0.0.1 (a Vert.x HTTP server on one event loop of the simulator's own), and behaves like a
 * real gateway where the jobs' exactly-once guarantees depend on it:
 *
 * <ul>
 *   <li><b>Idempotency.</b> The first answer for an {@code Idempotency-Key} is stored and every
 *       later request with that key gets it again (same reference) without a second charge. The
 *       same key with a different body is refused with 422, a key whose first request is still
 *       being answered with 409, a missing key with 400 (as Stripe does).
 *   <li><b>Deterministic outcomes.</b> Whether a key is declined (and why), whether attempt
 *       <i>n</i> of a key gets a transient 503, and whether a key gets 503 forever all follow from
 *       a hash of the seed and the key, so tests can predict every answer ({@link
 *       #expectedOutcome}, {@link #servesTransientError}) without calling the simulator. Retries of
 *       a key with transient errors eventually succeed, because each attempt draws anew.
 *   <li><b>Latency</b> fixed plus uniform jitter, waited on a timer, never by blocking the event
 *       loop; changeable at run time ({@link #setLatency}).
 *   <li><b>Outages.</b> {@link #setDown(boolean)} answers 503 to everything until set back.
 * </ul>
 *
 * <p>Counters ({@link #stats()}) tell tests and the demo's summary what was really charged.
 *
 * <p>Run standalone with {@link #main}: {@code GatewaySimulator --port 8089 --seed 7}.
 */
public final class GatewaySimulator implements AutoCloseable {

    public static final String AUTHORIZATIONS_PATH = "/v1/authorizations";

    public static final String IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";

    /** Reasons a simulated decline gives, each equally likely. */
    public static final List<String> DECLINE_REASONS =
            List.of("insufficient_funds", "card_declined", "expired_card", "do_not_honor");

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * An authorization is a few hundred bytes; a larger body is refused with 413 rather than held
     * in memory, whatever its {@code Content-Length} says.
     */
    static final int MAX_BODY_BYTES = 64 * 1024;

    /**
     * Vert.x names its threads alike in every instance; this name tells the simulator's work apart
     * from the jobs' own Vert.x event loops (PostgreSQL lookups) in a profile or thread dump.
     */
    private static final String EVENT_LOOP_THREAD = "gateway-simulator-eventloop";

    /** What the simulator will finally answer for a key, once any transient errors are past. */
    public enum Outcome {
        APPROVED,
        DECLINED,
        /** Every attempt gets 503: the caller's retries run out. */
        ALWAYS_UNAVAILABLE
    }

    /**
     * The answer a key will get.
     *
     * @param reference the gateway reference of the answer; also what a 503 key would have got
     * @param declineReason only for {@link Outcome#DECLINED}
     */
    public record ExpectedOutcome(Outcome outcome, String reference, String declineReason) {}

    /**
     * A snapshot of the counters.
     *
     * @param requests every request to the authorization endpoint, whatever its answer
     * @param replays answers served again from the idempotency store
     * @param declines keys declined (each once, replays not counted)
     * @param transientErrors 503 answers served, outages included
     * @param conflicts 409 answers: the key's first request was still being answered
     * @param rejected 4xx answers for invalid requests and reused keys (400, 404, 405, 413, 422)
     * @param approvedKeys distinct keys charged
     * @param approvedAmountMinorByCurrency total charged per currency, in minor units
     */
    public record Stats(
            long requests,
            long replays,
            long declines,
            long transientErrors,
            long conflicts,
            long rejected,
            long approvedKeys,
            Map<String, Long> approvedAmountMinorByCurrency) {

        /** Total charged in {@code currency}, in minor units; 0 when nothing was. */
        public long approvedAmountMinor(String currency) {
            return approvedAmountMinorByCurrency.getOrDefault(currency, 0L);
        }
    }

    private record Latency(Duration fixed, Duration jitter) {}

    /** The part of a request the idempotency key is bound to. */
    private record Charge(
            String paymentId,
            String customerId,
            String merchantId,
            long amountMinor,
            String currency) {}

    private record Reply(int status, byte[] body) {}

    /**
     * Everything known about one idempotency key; guarded by its own monitor, though one event
     * loop is its only user today.
     */
    private static final class KeyRecord {
        final Charge charge;
        int attempts;
        Reply answer;
        boolean answering;

        KeyRecord(Charge charge) {
            this.charge = charge;
        }
    }

    private final long seed;
    private final double declineRate;
    private final double transientErrorRate;
    private final double permanentFailureRate;
    private volatile Latency latency;
    private volatile boolean down;

    private final Map<String, KeyRecord> keys = new ConcurrentHashMap<>();
    private final LongAdder requests = new LongAdder();
    private final LongAdder replays = new LongAdder();
    private final LongAdder declines = new LongAdder();
    private final LongAdder transientErrors = new LongAdder();
    private final LongAdder conflicts = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder approvedKeys = new LongAdder();
    private final Map<String, AtomicLong> approvedAmountByCurrency = new ConcurrentHashMap<>();

    private final Vertx vertx;
    private final HttpServer server;

    private GatewaySimulator(Builder builder) throws IOException {
        this.seed = builder.seed;
        this.declineRate = builder.declineRate;
        this.transientErrorRate = builder.transientErrorRate;
        this.permanentFailureRate = builder.permanentFailureRate;
        this.latency = new Latency(builder.latency, builder.jitter);
        // One event loop: at 1,000 requests/s with 5 ms latency it was busy about a fifth of the
        // time on a 2-core machine, several times the benchmark's rate in reserve; more loops
        // would only compete with the jobs for the cores. Nothing here blocks, so the worker
        // pools stay minimal. Daemon threads: a simulator left open must not keep its JVM alive.
        this.vertx =
                Vertx.vertx(
                        new VertxOptions()
                                .setEventLoopPoolSize(1)
                                .setWorkerPoolSize(1)
                                .setInternalBlockingPoolSize(1)
                                .setUseDaemonThread(true));
        vertx.runOnContext(ignored -> Thread.currentThread().setName(EVENT_LOOP_THREAD));
        String host = InetAddress.getLoopbackAddress().getHostAddress();
        HttpServerOptions options =
                new HttpServerOptions()
                        .setHost(host)
                        .setPort(builder.port)
                        // HTTP/1.1 and HTTP/2 over plain http (h2c): the job's client speaks
                        // the version gateway.http-version names, as against a real gateway.
                        // The server itself answers "Expect: 100-continue".
                        .setHttp2ClearTextEnabled(true)
                        .setHandle100ContinueAutomatically(true);
        try {
            this.server =
                    vertx.createHttpServer(options)
                            // A caller that hangs up is expected (it timed out), not an error.
                            .connectionHandler(
                                    connection -> connection.exceptionHandler(ignored -> {}))
                            .requestHandler(this::handle)
                            .listen()
                            .await();
        } catch (Exception bindFailure) { // await() rethrows the failure as is, checked or not
            vertx.close().await();
            if (bindFailure instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IOException(
                    "The gateway simulator cannot listen on "
                            + host
                            + ":"
                            + builder.port
                            + ": "
                            + bindFailure.getMessage(),
                    bindFailure);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Where the simulator listens, e.g. {@code http://127.0.0.1:41234}; the gateway's base URL. */
    public String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    public int port() {
        return server.actualPort();
    }

    /**
     * Takes the gateway down ({@code true}: every request gets 503, replays included, and no
     * attempt of any key is used up) or brings it back ({@code false}).
     */
    public void setDown(boolean down) {
        this.down = down;
    }

    public boolean isDown() {
        return down;
    }

    /**
     * Every answer from now on waits {@code fixed} plus a uniformly random part of {@code jitter}.
     */
    public void setLatency(Duration fixed, Duration jitter) {
        checkLatency(fixed, jitter);
        this.latency = new Latency(fixed, jitter);
    }

    /**
     * What the simulator will finally answer for {@code key}, computed without calling it: the same
     * for every simulator with this seed and these rates.
     */
    public ExpectedOutcome expectedOutcome(String key) {
        String reference = reference(key);
        if (draw("always_unavailable", key, 0) < permanentFailureRate) {
            return new ExpectedOutcome(Outcome.ALWAYS_UNAVAILABLE, reference, null);
        }
        if (draw("decline", key, 0) < declineRate) {
            int reason = (int) (draw("decline_reason", key, 0) * DECLINE_REASONS.size());
            return new ExpectedOutcome(Outcome.DECLINED, reference, DECLINE_REASONS.get(reason));
        }
        return new ExpectedOutcome(Outcome.APPROVED, reference, null);
    }

    /**
     * Whether attempt {@code attempt} (1 for the first) of {@code key} gets 503 instead of its
     * answer, outages aside; always true for an {@link Outcome#ALWAYS_UNAVAILABLE} key. Replays of
     * a stored answer are not attempts.
     */
    public boolean servesTransientError(String key, int attempt) {
        if (attempt < 1) {
            throw new IllegalArgumentException("Attempts count from 1, not " + attempt + ".");
        }
        return draw("always_unavailable", key, 0) < permanentFailureRate
                || draw("transient", key, attempt) < transientErrorRate;
    }

    /**
     * Forgets every idempotency key it has seen, as a gateway does once its keys expire: a later
     * request with one of them is a new charge, with the same answer as before (answers depend on
     * the seed and the key only). Counters keep counting. Requests being answered right now are
     * answered as if nothing happened.
     *
     * <p>For the benchmark, whose runs send the same keys again, one run after another: without
     * this, every run after the first on a topic got replays where the first had charges, and
     * every run found the keys of all runs before it on the heap (2.35 million keys by the end of
     * the payments runs).
     */
    public void forgetKeys() {
        keys.clear();
    }

    public Stats stats() {
        Map<String, Long> amounts = new TreeMap<>();
        approvedAmountByCurrency.forEach((currency, amount) -> amounts.put(currency, amount.get()));
        return new Stats(
                requests.sum(),
                replays.sum(),
                declines.sum(),
                transientErrors.sum(),
                conflicts.sum(),
                rejected.sum(),
                approvedKeys.sum(),
                Map.copyOf(amounts));
    }

    /** Stops listening, drops the answers still waiting for their latency and waits until done. */
    @Override
    public void close() {
        vertx.close().await();
    }

    private void handle(HttpServerRequest request) {
        try {
            requests.increment();
            if (!AUTHORIZATIONS_PATH.equals(request.path())) {
                reply(request, rejection(404, "not_found"));
                return;
            }
            if (request.method() != HttpMethod.POST) {
                reply(request, rejection(405, "method_not_allowed"));
                return;
            }
            String key = request.getHeader(IDEMPOTENCY_KEY_HEADER);
            if (key == null || key.isBlank()) {
                reply(request, rejection(400, "missing_idempotency_key"));
                return;
            }
            if (declaredLength(request) > MAX_BODY_BYTES) {
                reply(request, rejection(413, "request_too_large"));
                return;
            }
            readBody(request, key);
        } catch (RuntimeException e) {
            request.connection().close();
        }
    }

    /** How long the caller says the body is; 0 when it does not say or says nonsense. */
    private static long declaredLength(HttpServerRequest request) {
        String length = request.getHeader("Content-Length");
        if (length == null) {
            return 0;
        }
        try {
            return Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Collects the body, at most {@link #MAX_BODY_BYTES} of it, then answers. */
    private void readBody(HttpServerRequest request, String key) {
        Buffer body = Buffer.buffer();
        request.handler(
                chunk -> {
                    if (body.length() + chunk.length() > MAX_BODY_BYTES) {
                        // Vert.x reads the rest and drops it before the connection's next request.
                        request.handler(null).endHandler(null);
                        reply(request, rejection(413, "request_too_large"));
                        return;
                    }
                    body.appendBuffer(chunk);
                });
        request.endHandler(ended -> answerBody(request, key, body.getBytes()));
    }

    private void answerBody(HttpServerRequest request, String key, byte[] body) {
        try {
            Charge charge;
            try {
                charge = parseCharge(body);
            } catch (InvalidRequest invalid) {
                reply(request, rejection(400, invalid.getMessage()));
                return;
            }
            if (down) {
                transientErrors.increment();
                reply(request, error(503, "gateway_down"));
                return;
            }
            answer(request, key, charge);
        } catch (RuntimeException e) {
            request.connection().close();
        }
    }

    private void answer(HttpServerRequest request, String key, Charge charge) {
        KeyRecord record = keys.computeIfAbsent(key, k -> new KeyRecord(charge));
        Reply reply;
        boolean attempt = false;
        synchronized (record) {
            if (!record.charge.equals(charge)) {
                reply = rejection(422, "idempotency_key_reused");
            } else if (record.answering) {
                conflicts.increment();
                reply = error(409, "request_in_progress");
            } else if (record.answer != null) {
                replays.increment();
                reply = record.answer;
            } else {
                record.attempts++;
                if (servesTransientError(key, record.attempts)) {
                    transientErrors.increment();
                    reply = error(503, "temporarily_unavailable");
                } else {
                    // The charge happens now, whether or not the caller is still waiting for
                    // the answer: that is the case the idempotency key exists for.
                    reply = decide(key, charge);
                    record.answer = reply;
                }
                // Until this attempt is answered, another request with the key is a conflict.
                record.answering = true;
                attempt = true;
            }
        }
        if (attempt) {
            replyLater(
                    request,
                    reply,
                    () -> {
                        synchronized (record) {
                            record.answering = false;
                        }
                    });
        } else {
            reply(request, reply);
        }
    }

    private Reply decide(String key, Charge charge) {
        ExpectedOutcome expected = expectedOutcome(key);
        ObjectNode body = JSON.createObjectNode();
        body.put("outcome", expected.outcome().name());
        body.put("reference", expected.reference());
        if (expected.outcome() == Outcome.DECLINED) {
            declines.increment();
            body.put("declineReason", expected.declineReason());
        } else {
            approvedKeys.increment();
            approvedAmountByCurrency
                    .computeIfAbsent(charge.currency(), c -> new AtomicLong())
                    .addAndGet(charge.amountMinor());
        }
        return new Reply(200, toBytes(body));
    }

    private Reply rejection(int status, String error) {
        rejected.increment();
        return error(status, error);
    }

    private static Reply error(int status, String error) {
        ObjectNode body = JSON.createObjectNode();
        body.put("error", error);
        return new Reply(status, toBytes(body));
    }

    private void reply(HttpServerRequest request, Reply reply) {
        replyLater(request, reply, () -> {});
    }

    /** Sends {@code reply} after the current latency; {@code beforeSending} runs just before. */
    private void replyLater(HttpServerRequest request, Reply reply, Runnable beforeSending) {
        Latency current = latency;
        long delayNanos = current.fixed().toNanos();
        if (!current.jitter().isZero()) {
            delayNanos += ThreadLocalRandom.current().nextLong(current.jitter().toNanos() + 1);
        }
        if (delayNanos == 0) {
            beforeSending.run();
            write(request, reply);
            return;
        }
        // Not setTimer, which counts whole milliseconds: the jitter is drawn in nanoseconds.
        vertx.timer(delayNanos, TimeUnit.NANOSECONDS)
                .onComplete(
                        fired -> {
                            beforeSending.run();
                            if (fired.succeeded()) {
                                write(request, reply);
                            } else { // The simulator is closing and cancelled the timer.
                                request.connection().close();
                            }
                        });
    }

    private static void write(HttpServerRequest request, Reply reply) {
        HttpServerResponse response = request.response();
        if (response.closed()) {
            // The caller timed out and hung up; what it missed stays in the idempotency store.
            return;
        }
        // A connection that closes while this is written fails the returned future, which is
        // left alone for the same reason.
        response.setStatusCode(reply.status())
                .putHeader("Content-Type", "application/json")
                .end(Buffer.buffer(reply.body()));
    }

    private static Charge parseCharge(byte[] body) throws InvalidRequest {
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (IOException e) {
            throw new InvalidRequest("invalid_json");
        }
        if (json == null || !json.isObject()) {
            throw new InvalidRequest("invalid_json");
        }
        String paymentId = text(json, "paymentId");
        String customerId = text(json, "customerId");
        String merchantId = text(json, "merchantId");
        String currency = text(json, "currency");
        JsonNode amount = json.get("amountMinor");
        if (amount == null || !amount.isIntegralNumber() || !amount.canConvertToLong()) {
            throw new InvalidRequest("invalid_amountMinor");
        }
        if (amount.longValue() <= 0) {
            throw new InvalidRequest("invalid_amountMinor");
        }
        try {
            Currency.getInstance(currency);
        } catch (IllegalArgumentException unknown) {
            throw new InvalidRequest("invalid_currency");
        }
        return new Charge(paymentId, customerId, merchantId, amount.longValue(), currency);
    }

    private static String text(JsonNode json, String field) throws InvalidRequest {
        JsonNode value = json.get(field);
        if (value == null || !value.isTextual() || value.textValue().isBlank()) {
            throw new InvalidRequest("invalid_" + field);
        }
        return value.textValue();
    }

    private static final class InvalidRequest extends Exception {
        private static final long serialVersionUID = 1L;

        InvalidRequest(String error) {
            super(error, null, false, false);
        }
    }

    private String reference(String key) {
        return "gw_" + String.format("%016x", hash("reference", key, 0));
    }

    /** A number in [0, 1) fixed by the seed, the purpose, the key and {@code n}. */
    private double draw(String purpose, String key, long n) {
        return (hash(purpose, key, n) >>> 11) * 0x1.0p-53;
    }

    /** Stable across JVMs and runs, unlike anything seeded from the clock. */
    private long hash(String purpose, String key, long n) {
        long h = mix(seed ^ 0x9E3779B97F4A7C15L);
        h = mix(h ^ fnv1a(purpose));
        h = mix(h ^ fnv1a(key));
        return mix(h ^ n);
    }

    private static long fnv1a(String text) {
        long h = 0xcbf29ce484222325L;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** SplitMix64's finalizer: spreads every input bit over the whole output. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    private static byte[] toBytes(JsonNode json) {
        try {
            return JSON.writeValueAsBytes(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void checkLatency(Duration fixed, Duration jitter) {
        List<String> problems = new ArrayList<>();
        checkLatency(fixed, jitter, problems);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join(" ", problems));
        }
    }

    private static void checkLatency(Duration fixed, Duration jitter, List<String> problems) {
        if (fixed == null || fixed.isNegative()) {
            problems.add("The simulated latency must not be negative but is " + fixed + ".");
        }
        if (jitter == null || jitter.isNegative()) {
            problems.add("The simulated jitter must not be negative but is " + jitter + ".");
        }
    }

    /** Options for a simulator; defaults: seed 1, every request approved at once, port 0 (free). */
    public static final class Builder {

        private long seed = 1;
        private double declineRate;
        private double transientErrorRate;
        private double permanentFailureRate;
        private Duration latency = Duration.ZERO;
        private Duration jitter = Duration.ZERO;
        private int port;

        private Builder() {}

        /** Fixes every outcome: the same seed gives the same answers for the same keys. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Share of keys declined, from 0 to 1. */
        public Builder declineRate(double declineRate) {
            this.declineRate = declineRate;
            return this;
        }

        /** Chance, from 0 to 1, that any one attempt of a key gets 503 before its answer. */
        public Builder transientErrorRate(double transientErrorRate) {
            this.transientErrorRate = transientErrorRate;
            return this;
        }

        /** Share of keys, from 0 to 1, that get 503 on every attempt and never an answer. */
        public Builder permanentFailureRate(double permanentFailureRate) {
            this.permanentFailureRate = permanentFailureRate;
            return this;
        }

        /** Fixed delay before every answer. */
        public Builder latency(Duration latency) {
            this.latency = latency;
            return this;
        }

        /** Uniformly random extra delay, from 0 to this, added to every answer. */
        public Builder jitter(Duration jitter) {
            this.jitter = jitter;
            return this;
        }

        /** Port on 127.0.0.1; 0 (the default) picks a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /**
         * Checks the options and starts the simulator.
         *
         * @throws IllegalArgumentException with one sentence per bad value
         * @throws IOException when the port cannot be bound
         */
        public GatewaySimulator start() throws IOException {
            List<String> problems = new ArrayList<>();
            checkRate(declineRate, "decline rate", problems);
            checkRate(transientErrorRate, "transient error rate", problems);
            checkRate(permanentFailureRate, "permanent failure rate", problems);
            checkLatency(latency, jitter, problems);
            if (port < 0 || port > 65535) {
                problems.add("The port must be from 0 to 65535 but is " + port + ".");
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException(String.join(" ", problems));
            }
            return new GatewaySimulator(this);
        }

        private static void checkRate(double rate, String name, List<String> problems) {
            if (!(rate >= 0 && rate <= 1)) {
                problems.add("The " + name + " must be from 0 to 1 but is " + rate + ".");
            }
        }
    }

    /**
     * Starts a simulator and runs until the process is stopped. Options: {@code --port} (default
     * 8089), {@code --seed}, {@code --decline-rate}, {@code --transient-error-rate}, {@code
     * --permanent-failure-rate}, {@code --latency-ms}, {@code --jitter-ms}.
     */
    public static void main(String[] args) throws IOException, InterruptedException {
        Builder builder = builder().port(8089);
        try {
            for (int i = 0; i < args.length; i += 2) {
                String option = args[i];
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("Option " + option + " needs a value.");
                }
                String value = args[i + 1];
                switch (option) {
                    case "--port" -> builder.port(Integer.parseInt(value));
                    case "--seed" -> builder.seed(Long.parseLong(value));
                    case "--decline-rate" -> builder.declineRate(Double.parseDouble(value));
                    case "--transient-error-rate" ->
                            builder.transientErrorRate(Double.parseDouble(value));
                    case "--permanent-failure-rate" ->
                            builder.permanentFailureRate(Double.parseDouble(value));
                    case "--latency-ms" ->
                            builder.latency(Duration.ofMillis(Long.parseLong(value)));
                    case "--jitter-ms" -> builder.jitter(Duration.ofMillis(Long.parseLong(value)));
                    default -> throw new IllegalArgumentException("Unknown option " + option + ".");
                }
            }
        } catch (NumberFormatException e) {
            System.err.println("Not a number: " + e.getMessage());
            System.exit(2);
            return;
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        GatewaySimulator simulator;
        try {
            simulator = builder.start();
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(
                                () -> {
                                    simulator.close();
                                    stopped.countDown();
                                },
                                "gateway-simulator-stop"));
        System.out.println(
                "Gateway SIMULATOR (demo and tests only, charges nothing) listening on "
                        + simulator.baseUrl());
        stopped.await();
    }

    @Override
    public String toString() {
        return "GatewaySimulator{" + baseUrl() + ", seed=" + seed + "}";
    }
}
