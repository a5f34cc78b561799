package io.onceflow.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.onceflow.local.GatewaySimulator.ExpectedOutcome;
import io.onceflow.local.GatewaySimulator.Outcome;
import io.onceflow.testing.Await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The simulator over raw HTTP, independent of the production client. */
class GatewaySimulatorTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final int KEYS = 10_000;

    private final List<GatewaySimulator> started = new ArrayList<>();

    @AfterEach
    void stopSimulators() {
        started.forEach(GatewaySimulator::close);
    }

    private GatewaySimulator start(GatewaySimulator.Builder builder) throws IOException {
        GatewaySimulator simulator = builder.start();
        started.add(simulator);
        return simulator;
    }

    private static GatewaySimulator.Builder rates(long seed) {
        return GatewaySimulator.builder()
                .seed(seed)
                .declineRate(0.2)
                .transientErrorRate(0.3)
                .permanentFailureRate(0.05);
    }

    @Test
    void sameSeedGivesTheSameAnswersAndAnotherSeedOthers() throws Exception {
        GatewaySimulator first = start(rates(42));
        GatewaySimulator second = start(rates(42));
        GatewaySimulator otherSeed = start(rates(43));

        List<String> keys = keys(KEYS);
        assertThat(keys)
                .allSatisfy(
                        key -> {
                            assertThat(second.expectedOutcome(key))
                                    .isEqualTo(first.expectedOutcome(key));
                            assertThat(second.servesTransientError(key, 1))
                                    .isEqualTo(first.servesTransientError(key, 1));
                        });
        long differentOutcomes =
                keys.stream()
                        .filter(
                                key ->
                                        first.expectedOutcome(key).outcome()
                                                != otherSeed.expectedOutcome(key).outcome())
                        .count();
        assertThat(differentOutcomes).isGreaterThan(KEYS / 10);

        // What is served over HTTP is the same too, attempt by attempt.
        for (String key : keys.subList(0, 40)) {
            for (int attempt = 1; attempt <= 3; attempt++) {
                assertThat(post(second, key, charge(key, 100)).text())
                        .isEqualTo(post(first, key, charge(key, 100)).text());
            }
        }
    }

    @Test
    void servesExactlyWhatItPredicts() throws Exception {
        GatewaySimulator simulator = start(rates(5));

        for (String key : keys(150)) {
            ExpectedOutcome expected = simulator.expectedOutcome(key);
            int maxAttempts = 8;
            Answer answer = null;
            int attempt = 1;
            for (; attempt <= maxAttempts; attempt++) {
                answer = post(simulator, key, charge(key, 100));
                if (simulator.servesTransientError(key, attempt)) {
                    assertThat(answer.status()).as("attempt %d of %s", attempt, key).isEqualTo(503);
                } else {
                    break;
                }
            }
            if (expected.outcome() == Outcome.ALWAYS_UNAVAILABLE) {
                assertThat(attempt).isGreaterThan(maxAttempts);
                continue;
            }
            if (attempt > maxAttempts) {
                continue; // Unlucky enough to need more retries; the transient draws were checked.
            }
            assertThat(answer.status()).isEqualTo(200);
            assertThat(answer.json().get("outcome").textValue())
                    .isEqualTo(expected.outcome().name());
            assertThat(answer.json().get("reference").textValue())
                    .isEqualTo(expected.reference())
                    .startsWith("gw_");
            if (expected.outcome() == Outcome.DECLINED) {
                assertThat(answer.json().get("declineReason").textValue())
                        .isEqualTo(expected.declineReason());
            } else {
                assertThat(answer.json().has("declineReason")).isFalse();
            }
        }
    }

    @Test
    void ratesAreHonouredOverTenThousandKeys() throws Exception {
        GatewaySimulator simulator = start(rates(11));
        List<String> keys = keys(KEYS);

        Map<Outcome, Long> outcomes =
                keys.stream()
                        .collect(
                                Collectors.groupingBy(
                                        key -> simulator.expectedOutcome(key).outcome(),
                                        Collectors.counting()));
        long answerable = KEYS - outcomes.getOrDefault(Outcome.ALWAYS_UNAVAILABLE, 0L);
        List<String> transientCapable =
                keys.stream()
                        .filter(
                                key ->
                                        simulator.expectedOutcome(key).outcome()
                                                != Outcome.ALWAYS_UNAVAILABLE)
                        .toList();
        double transientOnFirst =
                share(transientCapable, key -> simulator.servesTransientError(key, 1));
        double transientOnFirstAndSecond =
                share(
                        transientCapable,
                        key ->
                                simulator.servesTransientError(key, 1)
                                        && simulator.servesTransientError(key, 2));

        // Tolerances are about five standard deviations of a fair draw over these counts.
        assertThat(outcomes.get(Outcome.ALWAYS_UNAVAILABLE) / (double) KEYS)
                .isCloseTo(0.05, within(0.012));
        assertThat(outcomes.get(Outcome.DECLINED) / (double) answerable)
                .isCloseTo(0.2, within(0.02));
        assertThat(transientOnFirst).isCloseTo(0.3, within(0.025));
        // Attempts draw independently, so retries get through.
        assertThat(transientOnFirstAndSecond).isCloseTo(0.09, within(0.015));

        Map<String, Long> reasons =
                keys.stream()
                        .map(simulator::expectedOutcome)
                        .filter(expected -> expected.outcome() == Outcome.DECLINED)
                        .collect(
                                Collectors.groupingBy(
                                        ExpectedOutcome::declineReason, Collectors.counting()));
        assertThat(reasons.keySet())
                .containsExactlyInAnyOrderElementsOf(GatewaySimulator.DECLINE_REASONS);
        long declines = outcomes.get(Outcome.DECLINED);
        assertThat(reasons.values())
                .allSatisfy(
                        count ->
                                assertThat(count / (double) declines)
                                        .isCloseTo(0.25, within(0.06)));

        long distinctReferences =
                keys.stream()
                        .map(key -> simulator.expectedOutcome(key).reference())
                        .distinct()
                        .count();
        assertThat(distinctReferences).isEqualTo(KEYS);
    }

    @Test
    void extremeRatesAreExact() throws Exception {
        GatewaySimulator everyoneApproved = start(GatewaySimulator.builder().seed(3));
        GatewaySimulator everyoneDeclined =
                start(GatewaySimulator.builder().seed(3).declineRate(1));
        GatewaySimulator neverAnswers =
                start(GatewaySimulator.builder().seed(3).permanentFailureRate(1));

        assertThat(keys(1000))
                .allSatisfy(
                        key -> {
                            assertThat(everyoneApproved.expectedOutcome(key).outcome())
                                    .isEqualTo(Outcome.APPROVED);
                            assertThat(everyoneApproved.servesTransientError(key, 1)).isFalse();
                            assertThat(everyoneDeclined.expectedOutcome(key).outcome())
                                    .isEqualTo(Outcome.DECLINED);
                            assertThat(neverAnswers.servesTransientError(key, 50)).isTrue();
                        });
    }

    @Test
    void repeatedKeyReplaysTheFirstAnswerWithoutChargingAgain() throws Exception {
        GatewaySimulator simulator = start(GatewaySimulator.builder().seed(9));

        Answer first = post(simulator, "order-1", charge("order-1", 2500));
        Answer second = post(simulator, "order-1", charge("order-1", 2500));

        assertThat(first.status()).isEqualTo(200);
        assertThat(second.text()).isEqualTo(first.text());
        GatewaySimulator.Stats stats = simulator.stats();
        assertThat(stats.requests()).isEqualTo(2);
        assertThat(stats.replays()).isEqualTo(1);
        assertThat(stats.approvedKeys()).isEqualTo(1);
        assertThat(stats.approvedAmountMinor("EUR")).isEqualTo(2500);
    }

    @Test
    void forgottenKeyIsChargedAgainWithItsFirstAnswer() throws Exception {
        GatewaySimulator simulator = start(GatewaySimulator.builder().seed(9).declineRate(0));
        Answer first = post(simulator, "order-3", charge("order-3", 2500));

        simulator.forgetKeys();
        Answer again = post(simulator, "order-3", charge("order-3", 2500));
        simulator.forgetKeys();
        Answer otherAmount = post(simulator, "order-3", charge("order-3", 2600));

        assertThat(first.status()).isEqualTo(200);
        assertThat(again.text()).isEqualTo(first.text());
        assertThat(otherAmount.status()).isEqualTo(200);
        assertThat(otherAmount.text()).isEqualTo(first.text());
        GatewaySimulator.Stats stats = simulator.stats();
        assertThat(stats.replays()).isZero();
        assertThat(stats.rejected()).isZero();
        assertThat(stats.approvedKeys()).isEqualTo(3);
        assertThat(stats.approvedAmountMinor("EUR")).isEqualTo(2500 + 2500 + 2600);
    }

    @Test
    void sameKeyWithAnotherBodyIsRefusedWith422AndTheFirstAnswerStays() throws Exception {
        GatewaySimulator simulator = start(GatewaySimulator.builder().seed(9));
        Answer first = post(simulator, "order-2", charge("order-2", 2500));

        Answer otherAmount = post(simulator, "order-2", charge("order-2", 2600));
        Answer original = post(simulator, "order-2", charge("order-2", 2500));

        assertThat(otherAmount.status()).isEqualTo(422);
        assertThat(otherAmount.json().get("error").textValue()).isEqualTo("idempotency_key_reused");
        assertThat(original.text()).isEqualTo(first.text());
        assertThat(simulator.stats().approvedAmountMinor("EUR")).isEqualTo(2500);
        assertThat(simulator.stats().rejected()).isEqualTo(1);
    }

    @Test
    void invalidRequestsAreRefusedWith4xx() throws Exception {
        GatewaySimulator simulator = start(GatewaySimulator.builder().seed(9));

        assertThat(send(simulator, request(simulator).POST(body(charge("k", 1)))).status())
                .isEqualTo(400);
        assertThat(post(simulator, "k1", "{not json").status()).isEqualTo(400);
        assertThat(post(simulator, "k2", charge("k2", 0)).json().get("error").textValue())
                .isEqualTo("invalid_amountMinor");
        assertThat(
                        post(simulator, "k3", charge("k3", 1).replace("EUR", "XYZ"))
                                .json()
                                .get("error")
                                .textValue())
                .isEqualTo("invalid_currency");
        assertThat(
                        send(simulator, request(simulator).header("Idempotency-Key", "k4").GET())
                                .status())
                .isEqualTo(405);

        assertThat(simulator.stats().rejected()).isEqualTo(5);
        assertThat(simulator.stats().approvedKeys()).isZero();
    }

    @Test
    void outageAnswers503ToEverythingWithoutUsingUpAttempts() throws Exception {
        GatewaySimulator simulator =
                start(GatewaySimulator.builder().seed(9).transientErrorRate(0.5));
        String answered = firstKey(simulator, key -> !simulator.servesTransientError(key, 1));
        String fresh =
                firstKey(
                        simulator,
                        key -> !key.equals(answered) && !simulator.servesTransientError(key, 1));
        Answer before = post(simulator, answered, charge(answered, 100));
        assertThat(before.status()).isEqualTo(200);

        simulator.setDown(true);
        assertThat(post(simulator, answered, charge(answered, 100)).status()).isEqualTo(503);
        for (int i = 0; i < 3; i++) {
            assertThat(post(simulator, fresh, charge(fresh, 100)).status()).isEqualTo(503);
        }
        assertThat(simulator.stats().transientErrors()).isEqualTo(4);

        simulator.setDown(false);
        assertThat(post(simulator, answered, charge(answered, 100)).text())
                .isEqualTo(before.text());
        // Attempt 1 of the fresh key: the outage did not count as its attempts.
        assertThat(post(simulator, fresh, charge(fresh, 100)).status()).isEqualTo(200);
        assertThat(simulator.stats().approvedKeys()).isEqualTo(2);
    }

    @Test
    void keyStillBeingAnsweredGets409() throws Exception {
        GatewaySimulator simulator =
                start(GatewaySimulator.builder().seed(9).latency(Duration.ofMillis(400)));

        // Whichever arrives first is answered after the latency; the other finds it in progress.
        List<CompletableFuture<HttpResponse<String>>> sameKeyTwice =
                IntStream.range(0, 2)
                        .mapToObj(i -> postAsync(simulator, "busy", charge("busy", 100)))
                        .toList();
        List<Integer> statuses = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> response : sameKeyTwice) {
            statuses.add(response.get(5, TimeUnit.SECONDS).statusCode());
        }

        assertThat(statuses).containsExactlyInAnyOrder(200, 409);
        assertThat(simulator.stats().conflicts()).isEqualTo(1);
        assertThat(post(simulator, "busy", charge("busy", 100)).status()).isEqualTo(200);
        assertThat(simulator.stats().replays()).isEqualTo(1);
        assertThat(simulator.stats().approvedKeys()).isEqualTo(1);
    }

    @Test
    void latencyIsWaitedWithoutHoldingServerThreads() throws Exception {
        GatewaySimulator simulator = start(GatewaySimulator.builder().seed(9));
        Duration latency = Duration.ofMillis(400);
        simulator.setLatency(latency, Duration.ofMillis(50));
        int concurrent = 16;

        long start = System.nanoTime();
        List<CompletableFuture<HttpResponse<String>>> responses =
                IntStream.range(0, concurrent)
                        .mapToObj(i -> postAsync(simulator, "slow-" + i, charge("slow-" + i, 100)))
                        .toList();
        CompletableFuture.allOf(responses.toArray(CompletableFuture[]::new))
                .get(10, TimeUnit.SECONDS);
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(responses)
                .allSatisfy(response -> assertThat(response.join().statusCode()).isEqualTo(200));
        assertThat(elapsedMillis).isGreaterThanOrEqualTo(latency.toMillis());
        // Two server threads sleeping through 16 answers would need 8 x 400 ms.
        assertThat(elapsedMillis).isLessThan(4 * latency.toMillis());
    }

    @Test
    void answersWithoutAddingDelaysOfItsOwn() throws Exception {
        GatewaySimulator simulator = start(GatewaySimulator.builder().seed(9));
        int requests = 100;

        long start = System.nanoTime();
        for (int i = 0; i < requests; i++) {
            assertThat(post(simulator, "quick-" + i, charge("quick-" + i, 100)).status())
                    .isEqualTo(200);
        }
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        // With Nagle's algorithm on the server socket each answer waits ~40 ms for a delayed ACK.
        assertThat(elapsedMillis).isLessThan(requests * 20L);
    }

    @Test
    void oversizedBodyIsRefusedWith413AndTheConnectionServesOn() throws Exception {
        GatewaySimulator simulator = start(GatewaySimulator.builder().seed(9));
        String padding = "x".repeat(GatewaySimulator.MAX_BODY_BYTES);
        String oversized = charge("big", 100).replace("\"cust-1\"", "\"" + padding + "\"");

        Answer declared = post(simulator, "big", oversized);
        // Without a Content-Length the body comes chunked and is cut off while it is read.
        Answer chunked =
                send(
                        simulator,
                        request(simulator)
                                .header("Idempotency-Key", "big")
                                .POST(
                                        HttpRequest.BodyPublishers.fromPublisher(
                                                body(oversized))));
        Answer afterwards = post(simulator, "small", charge("small", 100));

        assertThat(declared.status()).isEqualTo(413);
        assertThat(declared.json().get("error").textValue()).isEqualTo("request_too_large");
        assertThat(chunked.status()).isEqualTo(413);
        assertThat(afterwards.status()).isEqualTo(200);
        assertThat(simulator.stats().rejected()).isEqualTo(2);
        assertThat(simulator.stats().approvedKeys()).isEqualTo(1);
    }

    @Test
    void callerThatHangsUpBeforeTheAnswerGetsTheChargeOnItsRetry() throws Exception {
        GatewaySimulator simulator =
                start(GatewaySimulator.builder().seed(9).latency(Duration.ofMillis(300)));

        HttpRequest impatient =
                request(simulator)
                        .timeout(Duration.ofMillis(50))
                        .header("Idempotency-Key", "gone")
                        .POST(body(charge("gone", 100)))
                        .build();
        assertThatThrownBy(() -> HTTP.send(impatient, HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(HttpTimeoutException.class);
        // The retry may come while the first attempt is still waiting for its latency (409).
        AtomicReference<Answer> retry = new AtomicReference<>();
        Await.until(
                Duration.ofSeconds(5),
                Duration.ofMillis(50),
                "a retry is answered with something other than 409",
                () -> {
                    try {
                        retry.set(post(simulator, "gone", charge("gone", 100)));
                    } catch (Exception e) {
                        throw new AssertionError("The retry could not be sent", e);
                    }
                    return retry.get().status() != 409;
                });

        assertThat(retry.get().status()).isEqualTo(200);
        assertThat(retry.get().json().get("reference").textValue())
                .isEqualTo(simulator.expectedOutcome("gone").reference());
        assertThat(simulator.stats().approvedKeys()).isEqualTo(1);
        assertThat(simulator.stats().replays()).isEqualTo(1);
    }

    @Test
    void portInUseIsAnIOException() throws Exception {
        GatewaySimulator first = start(GatewaySimulator.builder());

        assertThatThrownBy(() -> start(GatewaySimulator.builder().port(first.port())))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("127.0.0.1:" + first.port());
        assertThat(post(first, "still-here", charge("still-here", 100)).status()).isEqualTo(200);
    }

    @Test
    void badOptionsAreNamedInSentences() {
        assertThatThrownBy(
                        () ->
                                GatewaySimulator.builder()
                                        .declineRate(1.5)
                                        .latency(Duration.ofMillis(-1))
                                        .port(70000)
                                        .start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("The decline rate must be from 0 to 1 but is 1.5.")
                .hasMessageContaining(
                        "The simulated latency must not be negative but is PT-0.001S.")
                .hasMessageContaining("The port must be from 0 to 65535 but is 70000.");
    }

    // ---- helpers

    private record Answer(int status, String text) {
        JsonNode json() throws IOException {
            return JSON.readTree(text);
        }
    }

    private static List<String> keys(int count) {
        return IntStream.range(0, count).mapToObj(i -> "key-" + i).toList();
    }

    private static String firstKey(
            GatewaySimulator simulator, java.util.function.Predicate<String> wanted) {
        return keys(KEYS).stream().filter(wanted).findFirst().orElseThrow();
    }

    private static double share(List<String> keys, Function<String, Boolean> counted) {
        return keys.stream().filter(counted::apply).count() / (double) keys.size();
    }

    private static String charge(String key, long amountMinor) {
        return "{\"paymentId\":\"pay-"
                + key
                + "\",\"customerId\":\"cust-1\",\"merchantId\":\"m-1\","
                + "\"amountMinor\":"
                + amountMinor
                + ",\"currency\":\"EUR\"}";
    }

    private static HttpRequest.Builder request(GatewaySimulator simulator) {
        return HttpRequest.newBuilder(URI.create(simulator.baseUrl() + "/v1/authorizations"))
                .timeout(Duration.ofSeconds(5))
                .header("Content-Type", "application/json");
    }

    private static HttpRequest.BodyPublisher body(String json) {
        return HttpRequest.BodyPublishers.ofString(json);
    }

    private static Answer post(GatewaySimulator simulator, String key, String json)
            throws Exception {
        return send(simulator, request(simulator).header("Idempotency-Key", key).POST(body(json)));
    }

    private static Answer send(GatewaySimulator simulator, HttpRequest.Builder request)
            throws Exception {
        HttpResponse<String> response =
                HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(response.statusCode(), response.body());
    }

    private static CompletableFuture<HttpResponse<String>> postAsync(
            GatewaySimulator simulator, String key, String json) {
        return HTTP.sendAsync(
                request(simulator).header("Idempotency-Key", key).POST(body(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
