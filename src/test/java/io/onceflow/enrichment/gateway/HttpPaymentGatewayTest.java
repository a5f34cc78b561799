package io.onceflow.enrichment.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.onceflow.enrichment.gateway.GatewayDecision.Outcome;
import io.onceflow.local.FreePorts;
import io.onceflow.local.GatewaySimulator;
import io.onceflow.local.GatewaySimulator.ExpectedOutcome;
import io.onceflow.testing.Await;
import io.vertx.core.Context;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The HTTP client against the gateway simulator (and a stub server), over real loopback HTTP/1.1;
 * {@link HttpPaymentGatewayHttp2Test} runs the same against the simulator over HTTP/2.
 */
class HttpPaymentGatewayTest {

    private static final Duration ANSWER_DEADLINE = Duration.ofSeconds(5);
    private static final long AMOUNT = 12_50;

    GatewaySimulator simulator;
    HttpPaymentGateway gateway;

    @BeforeEach
    void startSimulator() throws Exception {
        simulator =
                GatewaySimulator.builder()
                        .seed(7)
                        .declineRate(0.3)
                        .transientErrorRate(0.3)
                        .permanentFailureRate(0.1)
                        .start();
        gateway = HttpPaymentGateway.builder(options(simulator.baseUrl()).build()).build();
    }

    @AfterEach
    void stop() {
        gateway.close();
        simulator.close();
    }

    @Test
    void approvesWhatTheGatewayApproves() throws Exception {
        String key = keyWhere(outcome(Outcome.APPROVED).and(answeredOnAttempt(1)));

        GatewayDecision decision = answerOf(gateway.authorize(request(key, AMOUNT)));

        assertThat(decision)
                .isEqualTo(GatewayDecision.approved(simulator.expectedOutcome(key).reference()));
        assertThat(simulator.stats().approvedKeys()).isEqualTo(1);
        assertThat(simulator.stats().approvedAmountMinor("EUR")).isEqualTo(AMOUNT);
        assertThat(gateway.inFlightCount()).isZero();
    }

    @Test
    void declineIsADecisionWithItsReasonNotAFailure() throws Exception {
        String key = keyWhere(outcome(Outcome.DECLINED).and(answeredOnAttempt(1)));
        ExpectedOutcome expected = simulator.expectedOutcome(key);

        GatewayDecision decision = answerOf(gateway.authorize(request(key, AMOUNT)));

        assertThat(decision)
                .isEqualTo(
                        GatewayDecision.declined(expected.reference(), expected.declineReason()));
        assertThat(decision.declineReason()).isNotBlank();
        assertThat(simulator.stats().approvedKeys()).isZero();
    }

    @Test
    void repeatingAPaymentReturnsTheFirstAnswerAndChargesOnce() throws Exception {
        String key = keyWhere(outcome(Outcome.APPROVED).and(answeredOnAttempt(1)));

        GatewayDecision first = answerOf(gateway.authorize(request(key, AMOUNT)));
        GatewayDecision second = answerOf(gateway.authorize(request(key, AMOUNT)));

        assertThat(second).isEqualTo(first);
        GatewaySimulator.Stats stats = simulator.stats();
        assertThat(stats.replays()).isEqualTo(1);
        assertThat(stats.approvedKeys()).isEqualTo(1);
        assertThat(stats.approvedAmountMinor("EUR")).isEqualTo(AMOUNT);
    }

    @Test
    void http503IsTransientAndIsNotRetriedByTheClient() throws Exception {
        String key =
                keyWhere(
                        outcome(Outcome.APPROVED)
                                .and(k -> simulator.servesTransientError(k, 1))
                                .and(answeredOnAttempt(2)));

        GatewayException failure = failureOf(gateway.authorize(request(key, AMOUNT)));

        assertThat(failure).isInstanceOf(GatewayUnavailableException.class);
        assertThat(failure.reason()).isEqualTo("gateway_http_503");
        assertThat(PaymentGateway.isTransient(failure)).isTrue();
        // One call, one request: retrying is the caller's job.
        assertThat(simulator.stats().requests()).isEqualTo(1);

        GatewayDecision retried = answerOf(gateway.authorize(request(key, AMOUNT)));

        assertThat(retried.outcome()).isEqualTo(Outcome.APPROVED);
        assertThat(simulator.stats().requests()).isEqualTo(2);
        assertThat(simulator.stats().approvedKeys()).isEqualTo(1);
    }

    @Test
    void invalidRequestIsRejectedPermanently() throws Exception {
        String key = keyWhere(answeredOnAttempt(1));
        // Well-formed for the client, but no currency the gateway knows.
        GatewayRequest unknownCurrency =
                new GatewayRequest(key, "pay-1", "cust-1", "m-1", AMOUNT, "XYZ");

        GatewayException failure = failureOf(gateway.authorize(unknownCurrency));

        assertThat(failure).isInstanceOf(GatewayRejectedException.class);
        assertThat(failure.reason()).isEqualTo("gateway_http_400");
        assertThat(failure.getMessage()).contains("invalid_currency");
        assertThat(PaymentGateway.isTransient(failure)).isFalse();
    }

    @Test
    void reusingAKeyForADifferentPaymentIsRejectedAndChargesNothingMore() throws Exception {
        String key = keyWhere(outcome(Outcome.APPROVED).and(answeredOnAttempt(1)));
        answerOf(gateway.authorize(request(key, AMOUNT)));

        GatewayException failure = failureOf(gateway.authorize(request(key, AMOUNT + 1)));

        assertThat(failure).isInstanceOf(GatewayRejectedException.class);
        assertThat(failure.reason()).isEqualTo("gateway_http_422");
        assertThat(simulator.stats().approvedAmountMinor("EUR")).isEqualTo(AMOUNT);
    }

    @Test
    void aSecondAttemptWhileTheFirstIsStillAnsweredIsTransient() throws Exception {
        String key = keyWhere(outcome(Outcome.APPROVED).and(answeredOnAttempt(1)));
        simulator.setLatency(Duration.ofMillis(400), Duration.ZERO);

        // Whichever reaches the gateway first is answered; the other finds it in progress.
        List<CompletableFuture<GatewayDecision>> sameKeyTwice =
                List.of(
                        gateway.authorize(request(key, AMOUNT)),
                        gateway.authorize(request(key, AMOUNT)));
        List<Object> results = new ArrayList<>();
        for (CompletableFuture<GatewayDecision> attempt : sameKeyTwice) {
            Throwable failure = attempt.handle((decision, f) -> f).get(5, TimeUnit.SECONDS);
            results.add(
                    failure == null
                            ? attempt.join().outcome()
                            : ((GatewayException) failure).reason());
        }

        assertThat(results).containsExactlyInAnyOrder(Outcome.APPROVED, "gateway_http_409");
        assertThat(
                        PaymentGateway.isTransient(
                                new GatewayUnavailableException("gateway_http_409", "conflict")))
                .isTrue();
        assertThat(simulator.stats().approvedKeys()).isEqualTo(1);
    }

    @Test
    void conflictsDoNotOpenTheCircuit() throws Exception {
        gateway.close();
        try (StubHttpServer stub = new StubHttpServer(409, "{\"error\":\"request_in_progress\"}")) {
            gateway =
                    HttpPaymentGateway.builder(
                                    http11Options(stub.baseUrl())
                                            .slidingWindowSize(2)
                                            .minimumNumberOfCalls(2)
                                            .build())
                            .build();
            for (int i = 0; i < 4; i++) {
                GatewayException conflict =
                        failureOf(gateway.authorize(request("conflict", AMOUNT)));
                assertThat(conflict).isInstanceOf(GatewayUnavailableException.class);
                assertThat(conflict.reason()).isEqualTo("gateway_http_409");
            }
            assertThat(gateway.circuitState()).isEqualTo(CircuitState.CLOSED);
        }
    }

    @Test
    void slowGatewayTimesOutAsTransientAndTheRetryGetsTheChargeItMade() throws Exception {
        gateway.close();
        Duration timeout = Duration.ofMillis(300);
        gateway =
                HttpPaymentGateway.builder(
                                options(simulator.baseUrl())
                                        .requestTimeout(timeout)
                                        .connectTimeout(timeout)
                                        .build())
                        .build();
        String key = keyWhere(outcome(Outcome.APPROVED).and(answeredOnAttempt(1)));
        simulator.setLatency(Duration.ofMillis(1500), Duration.ZERO);

        long start = System.nanoTime();
        GatewayException failure = failureOf(gateway.authorize(request(key, AMOUNT)));
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(failure).isInstanceOf(GatewayUnavailableException.class);
        assertThat(failure.reason()).isEqualTo("gateway_timeout");
        assertThat(elapsedMillis).isBetween(timeout.toMillis() - 20, 1200L);

        // The gateway charged although nobody heard the answer; the retry must get that charge.
        Await.until(
                Duration.ofSeconds(5),
                "the simulator charged the timed-out attempt",
                () -> simulator.stats().approvedKeys() == 1);
        simulator.setLatency(Duration.ZERO, Duration.ZERO);
        Await.until(
                Duration.ofSeconds(5),
                Duration.ofMillis(50),
                "the timed-out attempt was answered",
                () -> answersWithoutConflict(key));

        assertThat(simulator.stats().approvedKeys()).isEqualTo(1);
        assertThat(simulator.stats().approvedAmountMinor("EUR")).isEqualTo(AMOUNT);
        assertThat(simulator.stats().replays()).isGreaterThanOrEqualTo(1);
    }

    /** Retries like the operator would, until the key's stored answer comes back. */
    private boolean answersWithoutConflict(String key) {
        CompletableFuture<GatewayDecision> attempt = gateway.authorize(request(key, AMOUNT));
        Throwable failure = attempt.handle((decision, f) -> f).join();
        if (failure == null) {
            assertThat(attempt.join())
                    .isEqualTo(
                            GatewayDecision.approved(simulator.expectedOutcome(key).reference()));
            return true;
        }
        assertThat(((GatewayException) failure).reason()).isEqualTo("gateway_http_409");
        return false;
    }

    @Test
    void circuitOpensOnOutageFailsFastAndClosesWhenTheGatewayIsBack() throws Exception {
        gateway.close();
        Duration waitInOpen = Duration.ofMillis(300);
        gateway =
                HttpPaymentGateway.builder(
                                options(simulator.baseUrl())
                                        .slidingWindowSize(4)
                                        .minimumNumberOfCalls(4)
                                        .failureRateThresholdPercent(50)
                                        .waitDurationInOpenState(waitInOpen)
                                        .permittedCallsInHalfOpenState(1)
                                        .build())
                        .build();
        simulator.setDown(true);

        for (int i = 0; i < 4; i++) {
            assertThat(gateway.circuitState()).isEqualTo(CircuitState.CLOSED);
            assertThat(failureOf(gateway.authorize(request("outage-" + i, AMOUNT))).reason())
                    .isEqualTo("gateway_http_503");
        }
        long openedAt = System.nanoTime();
        assertThat(gateway.circuitState()).isEqualTo(CircuitState.OPEN);
        long requestsWhenOpened = simulator.stats().requests();

        GatewayException fastFailure = failureOf(gateway.authorize(request("outage-4", AMOUNT)));

        assertThat(fastFailure).isInstanceOf(GatewayUnavailableException.class);
        assertThat(fastFailure.reason()).isEqualTo("gateway_circuit_open");
        assertThat(simulator.stats().requests()).isEqualTo(requestsWhenOpened);

        simulator.setDown(false);
        String key = keyWhere(outcome(Outcome.APPROVED).and(answeredOnAttempt(1)));
        AtomicReference<GatewayDecision> trial = new AtomicReference<>();
        Await.until(
                waitInOpen.plusSeconds(5),
                "a trial call went through the half-open circuit",
                () -> {
                    CompletableFuture<GatewayDecision> attempt =
                            gateway.authorize(request(key, AMOUNT));
                    Throwable failure = attempt.handle((decision, f) -> f).join();
                    if (failure != null) {
                        assertThat(((GatewayException) failure).reason())
                                .isEqualTo("gateway_circuit_open");
                        return false;
                    }
                    trial.set(attempt.join());
                    return true;
                });
        long closedAfterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - openedAt);

        assertThat(trial.get().outcome()).isEqualTo(Outcome.APPROVED);
        assertThat(closedAfterMillis).isGreaterThanOrEqualTo(waitInOpen.toMillis());
        assertThat(gateway.circuitState()).isEqualTo(CircuitState.CLOSED);
        // While open, nothing reached the simulator: only the one trial call did.
        assertThat(simulator.stats().requests()).isEqualTo(requestsWhenOpened + 1);
    }

    @Test
    void declinesAndRejectionsDoNotOpenTheCircuit() throws Exception {
        gateway.close();
        gateway =
                HttpPaymentGateway.builder(
                                options(simulator.baseUrl())
                                        .slidingWindowSize(4)
                                        .minimumNumberOfCalls(4)
                                        .failureRateThresholdPercent(50)
                                        .build())
                        .build();
        List<String> declinedKeys =
                keysWhere(outcome(Outcome.DECLINED).and(answeredOnAttempt(1)), 4);

        for (String key : declinedKeys) {
            assertThat(answerOf(gateway.authorize(request(key, AMOUNT))).outcome())
                    .isEqualTo(Outcome.DECLINED);
            assertThat(failureOf(gateway.authorize(request(key, AMOUNT + 1))).reason())
                    .isEqualTo("gateway_http_422");
        }

        assertThat(gateway.circuitState()).isEqualTo(CircuitState.CLOSED);
    }

    @Test
    void refusedConnectionIsTransient() throws Exception {
        gateway.close();
        gateway =
                HttpPaymentGateway.builder(http11Options("http://127.0.0.1:" + FreePorts.pick()).build())
                        .build();

        GatewayException failure = failureOf(gateway.authorize(request("refused", AMOUNT)));

        assertThat(failure).isInstanceOf(GatewayUnavailableException.class);
        assertThat(failure.reason()).isEqualTo("gateway_connect_failed");
    }

    @Test
    void connectionClosedBeforeTheAnswerIsTransient() throws Exception {
        try (ServerSocket hangsUp = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> closedAfterRequest =
                    CompletableFuture.runAsync(
                            () -> {
                                try (Socket connection = hangsUp.accept()) {
                                    connection.getInputStream().read(new byte[1024]);
                                } catch (IOException e) {
                                    throw new UncheckedIOException(e);
                                }
                            });
            try (HttpPaymentGateway hangingUpGateway =
                    HttpPaymentGateway.builder(
                                    http11Options("http://127.0.0.1:" + hangsUp.getLocalPort()).build())
                            .build()) {

                GatewayException failure =
                        failureOf(hangingUpGateway.authorize(request("hung-up", AMOUNT)));

                closedAfterRequest.get(5, TimeUnit.SECONDS);
                assertThat(failure).isInstanceOf(GatewayUnavailableException.class);
                assertThat(failure.reason()).isEqualTo("gateway_connection_lost");
            }
        }
    }

    @ParameterizedTest
    @CsvSource({
        "429, GatewayUnavailableException",
        "500, GatewayUnavailableException",
        "502, GatewayUnavailableException",
        "504, GatewayUnavailableException",
        "408, GatewayUnavailableException",
        "409, GatewayUnavailableException",
        "400, GatewayRejectedException",
        "401, GatewayRejectedException",
        "404, GatewayRejectedException",
        "422, GatewayRejectedException",
        "302, GatewayRejectedException"
    })
    void httpStatusDecidesWhetherToRetry(int status, String expectedType) throws Exception {
        try (StubHttpServer stub = new StubHttpServer(status, "{\"error\":\"stub\"}");
                HttpPaymentGateway stubGateway =
                        HttpPaymentGateway.builder(http11Options(stub.baseUrl()).build()).build()) {

            GatewayException failure = failureOf(stubGateway.authorize(request("status", AMOUNT)));

            assertThat(failure.getClass().getSimpleName()).isEqualTo(expectedType);
            assertThat(failure.reason()).isEqualTo("gateway_http_" + status);
        }
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "not json",
                "[]",
                "{\"outcome\":\"MAYBE\",\"reference\":\"gw_1\"}",
                "{\"outcome\":\"APPROVED\"}",
                "{\"outcome\":\"APPROVED\",\"reference\":\"\"}",
                "{\"outcome\":\"APPROVED\",\"reference\":\"gw_1\",\"declineReason\":\"card_declined\"}",
                "{\"outcome\":\"DECLINED\",\"reference\":\"gw_1\",\"declineReason\":42}"
            })
    void answerThatIsNoDecisionIsRejected(String body) throws Exception {
        try (StubHttpServer stub = new StubHttpServer(200, body);
                HttpPaymentGateway stubGateway =
                        HttpPaymentGateway.builder(http11Options(stub.baseUrl()).build()).build()) {

            GatewayException failure =
                    failureOf(stubGateway.authorize(request("malformed", AMOUNT)));

            assertThat(failure).isInstanceOf(GatewayRejectedException.class);
            assertThat(failure.reason()).isEqualTo("gateway_malformed_response");
        }
    }

    @Test
    void sendsTheWireFormatTheGatewayExpects() throws Exception {
        try (StubHttpServer stub =
                        new StubHttpServer(
                                200,
                                "{\"outcome\":\"APPROVED\",\"reference\":\"gw_stub\",\"extra\":1}");
                HttpPaymentGateway stubGateway =
                        HttpPaymentGateway.builder(http11Options(stub.baseUrl() + "/psp/").build())
                                .build()) {

            GatewayDecision decision =
                    answerOf(
                            stubGateway.authorize(
                                    new GatewayRequest(
                                            "key-42", "pay-42", "cust-7", "merch-3", 999, "USD")));

            assertThat(decision).isEqualTo(GatewayDecision.approved("gw_stub"));
            StubHttpServer.RecordedRequest sent = stub.lastRequest();
            assertThat(sent.method()).isEqualTo("POST");
            assertThat(sent.path()).isEqualTo("/psp/v1/authorizations");
            assertThat(sent.idempotencyKey()).isEqualTo("key-42");
            assertThat(sent.contentType()).isEqualTo("application/json");
            JsonNode body = new ObjectMapper().readTree(sent.body());
            assertThat(body.size()).isEqualTo(5);
            assertThat(body.get("paymentId").textValue()).isEqualTo("pay-42");
            assertThat(body.get("customerId").textValue()).isEqualTo("cust-7");
            assertThat(body.get("merchantId").textValue()).isEqualTo("merch-3");
            assertThat(body.get("amountMinor").isIntegralNumber()).isTrue();
            assertThat(body.get("amountMinor").longValue()).isEqualTo(999);
            assertThat(body.get("currency").textValue()).isEqualTo("USD");
        }
    }

    @Test
    void reportsTheLatencyOfEveryAttemptButNotOfCallsTheOpenCircuitRefused() throws Exception {
        gateway.close();
        List<Long> latencies = new CopyOnWriteArrayList<>();
        gateway = HttpPaymentGateway.builder(openAfterTwoFailures()).latencyListener(latencies::add).build();
        simulator.setLatency(Duration.ofMillis(100), Duration.ZERO);
        simulator.setDown(true);

        failureOf(gateway.authorize(request("latency-1", AMOUNT)));
        failureOf(gateway.authorize(request("latency-2", AMOUNT)));
        assertThat(failureOf(gateway.authorize(request("latency-3", AMOUNT))).reason())
                .isEqualTo("gateway_circuit_open");

        assertThat(latencies)
                .hasSize(2)
                .allSatisfy(millis -> assertThat(millis).isBetween(100L, 2000L));
    }

    @Test
    void completesOnTheClientsEventLoopNeverOnTheCallersThread() throws Exception {
        simulator.setLatency(Duration.ofMillis(100), Duration.ZERO);
        String key = keyWhere(answeredOnAttempt(1));

        boolean answerOnEventLoop =
                gateway.authorize(request(key, AMOUNT))
                        .handle((decision, failure) -> Context.isOnEventLoopThread())
                        .get(5, TimeUnit.SECONDS);

        assertThat(answerOnEventLoop).isTrue();
    }

    @Test
    void closingFailsAttemptsInFlightAndRefusesNewOnes() throws Exception {
        simulator.setLatency(Duration.ofSeconds(2), Duration.ZERO);
        CompletableFuture<GatewayDecision> inFlight = gateway.authorize(request("closing", AMOUNT));
        assertThat(gateway.inFlightCount()).isEqualTo(1);

        gateway.close();

        GatewayException failure = failureOf(inFlight);
        assertThat(failure).isInstanceOf(GatewayUnavailableException.class);
        assertThat(failure.reason()).isEqualTo("gateway_client_closed");
        assertThat(gateway.inFlightCount()).isZero();
        assertThatThrownBy(() -> gateway.authorize(request("after-close", AMOUNT)))
                .isInstanceOf(IllegalStateException.class);
    }

    /** The simulator's options with a circuit that opens after two failed calls and stays open. */
    private GatewayOptions openAfterTwoFailures() {
        return options(simulator.baseUrl())
                .slidingWindowSize(2)
                .minimumNumberOfCalls(2)
                .waitDurationInOpenState(Duration.ofMinutes(1))
                .build();
    }

    /** The HTTP version of the client against the simulator; a subclass runs every test with 2. */
    GatewayOptions.HttpVersion httpVersion() {
        return GatewayOptions.HttpVersion.HTTP_1_1;
    }

    /** Options for a server that speaks the version under test (the simulator speaks both). */
    GatewayOptions.Builder options(String baseUrl) {
        return http11Options(baseUrl).httpVersion(httpVersion());
    }

    /** Options for the JDK's stub server and raw sockets, which speak HTTP/1.1 only. */
    static GatewayOptions.Builder http11Options(String baseUrl) {
        return GatewayOptions.builder()
                .baseUrl(baseUrl)
                .requestTimeout(Duration.ofSeconds(3))
                .connectTimeout(Duration.ofSeconds(1));
    }

    static GatewayRequest request(String key, long amountMinor) {
        return new GatewayRequest(key, "pay-" + key, "cust-1", "merchant-1", amountMinor, "EUR");
    }

    private Predicate<String> outcome(Outcome outcome) {
        return key -> simulator.expectedOutcome(key).outcome().name().equals(outcome.name());
    }

    private Predicate<String> answeredOnAttempt(int attempt) {
        return key -> {
            for (int earlier = 1; earlier < attempt; earlier++) {
                if (!simulator.servesTransientError(key, earlier)) {
                    return false;
                }
            }
            return !simulator.servesTransientError(key, attempt);
        };
    }

    private String keyWhere(Predicate<String> wanted) {
        return keysWhere(wanted, 1).get(0);
    }

    private List<String> keysWhere(Predicate<String> wanted, int count) {
        List<String> keys =
                IntStream.range(0, 10_000)
                        .mapToObj(i -> "key-" + i)
                        .filter(wanted)
                        .limit(count)
                        .toList();
        assertThat(keys).as("keys the simulator answers as wanted").hasSize(count);
        return keys;
    }

    static GatewayDecision answerOf(CompletableFuture<GatewayDecision> attempt)
            throws Exception {
        return attempt.get(ANSWER_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The exception the future failed with, as the caller's callback sees it: not wrapped. */
    static GatewayException failureOf(CompletableFuture<GatewayDecision> attempt)
            throws Exception {
        Throwable failure =
                attempt.handle(
                                (decision, f) ->
                                        f == null
                                                ? new AssertionError(
                                                        "Expected a failure but got " + decision)
                                                : f)
                        .get(ANSWER_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(failure).isInstanceOf(GatewayException.class);
        return (GatewayException) failure;
    }
}
