package io.onceflow.payments;

import io.onceflow.config.RetrySettings;
import io.onceflow.enrichment.gateway.GatewayDecision;
import io.onceflow.enrichment.gateway.GatewayRequest;
import io.onceflow.enrichment.gateway.GatewayUnavailableException;
import io.onceflow.enrichment.gateway.PaymentGateway;
import io.onceflow.payments.model.AuthorizationRequest;
import io.onceflow.payments.model.CustomerProfile;
import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.payments.model.RequestMetadata;
import io.onceflow.records.SourcePosition;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The per-customer authorizer with Flink's keyed operator harness and a gateway whose answers the
 * test gives by hand, so every interleaving is chosen, not hoped for.
 */
class PaymentAuthorizerTest {

    private static final Instant NOW = Instant.parse("2026-11-25T12:00:00Z");
    private static final Duration TTL = Duration.ofDays(7);

    /** Gateways by test instance; the operator's factory is serialized, so it finds it by id. */
    private static final ConcurrentHashMap<Integer, ScriptedGateway> GATEWAYS = new ConcurrentHashMap<>();

    private static final AtomicInteger IDS = new AtomicInteger();

    private ScriptedGateway gateway;
    private int gatewayId;
    private KeyedOneInputStreamOperatorTestHarness<String, AuthorizationRequest, PaymentResult> harness;
    private long offset;

    @BeforeEach
    void setUp() throws Exception {
        gatewayId = IDS.incrementAndGet();
        gateway = new ScriptedGateway();
        GATEWAYS.put(gatewayId, gateway);
        harness = newHarness(settings(2, 10));
        harness.open();
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
        GATEWAYS.remove(gatewayId);
    }

    private PaymentAuthorizer.Settings settings(int maxRetries, int capacity) {
        return new PaymentAuthorizer.Settings(
                TTL,
                Duration.ofDays(4),
                new RetrySettings(maxRetries, Duration.ofMillis(100), Duration.ofSeconds(1), 2.0),
                Duration.ofSeconds(5),
                Duration.ofSeconds(30),
                capacity,
                2);
    }

    private KeyedOneInputStreamOperatorTestHarness<String, AuthorizationRequest, PaymentResult> newHarness(
            PaymentAuthorizer.Settings settings) throws Exception {
        int id = gatewayId;
        var testHarness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new PaymentAuthorizerFactory(settings, () -> GATEWAYS.get(id)),
                        (AuthorizationRequest payment) -> payment.getRequest().getCustomerId(),
                        Types.STRING);
        testHarness.setProcessingTime(NOW.toEpochMilli());
        testHarness.setStateTtlProcessingTime(NOW.toEpochMilli());
        return testHarness;
    }

    @Test
    void approvedPaymentCompletesAndReleasesTheCustomer() throws Exception {
        process(payment("alice", "k1", 500));

        assertThat(calledKeys("alice")).containsExactly("k1");
        assertThat(results()).isEmpty();

        gateway.approve(0);
        runMails();

        assertThat(results()).singleElement().satisfies(result -> {
            assertThat(result.getStatus()).isEqualTo(PaymentStatus.COMPLETED);
            assertThat(result.getGatewayReference()).isEqualTo("ref-0");
            assertThat(result.getPaymentId()).isEqualTo(PaymentIds.paymentId("alice", "k1"));
        });
        assertNoCallsOrQueuesInState();
    }

    @Test
    void repeatWhileTheOriginalIsInFlightWaitsAndGetsTheOriginalResult() throws Exception {
        process(payment("alice", "k1", 500));
        process(payment("alice", "k1", 500));

        assertThat(gateway.calls).hasSize(1);
        gateway.approve(0);
        runMails();

        assertThat(statuses()).containsExactly(PaymentStatus.COMPLETED, PaymentStatus.DUPLICATE);
        PaymentResult duplicate = results().get(1);
        assertThat(duplicate.getOriginal().getStatus()).isEqualTo(PaymentStatus.COMPLETED);
        assertThat(duplicate.getOriginal().getGatewayReference()).isEqualTo("ref-0");
        assertThat(gateway.calls).hasSize(1);
        assertNoCallsOrQueuesInState();
    }

    @Test
    void repeatAfterCompletionIsAnsweredWithoutCallingTheGateway() throws Exception {
        process(payment("alice", "k1", 500));
        gateway.approve(0);
        runMails();

        process(payment("alice", "k1", 500));

        assertThat(statuses()).containsExactly(PaymentStatus.COMPLETED, PaymentStatus.DUPLICATE);
        assertThat(gateway.calls).hasSize(1);
    }

    @Test
    void repeatWithADifferentPayloadIsRejectedAndTheOriginalIsKept() throws Exception {
        process(payment("alice", "k1", 500));
        gateway.approve(0);
        runMails();

        process(payment("alice", "k1", 501));
        process(payment("alice", "k1", 500));

        assertThat(results()).extracting(PaymentResult::getStatus, PaymentResult::getReason)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(PaymentStatus.COMPLETED, null),
                        org.assertj.core.groups.Tuple.tuple(PaymentStatus.REJECTED, "idempotency_key_reused"),
                        org.assertj.core.groups.Tuple.tuple(PaymentStatus.DUPLICATE, null));
    }

    @Test
    void idempotencyExpiresAfterItsTtlSoTheKeyIsProcessedAgain() throws Exception {
        process(payment("alice", "k1", 500));
        gateway.approve(0);
        runMails();

        harness.setStateTtlProcessingTime(NOW.plus(TTL).plusMillis(1).toEpochMilli());
        process(payment("alice", "k1", 500, NOW.plus(TTL)));

        assertThat(gateway.calls).hasSize(2);
        assertThat(harness.getOperator()
                        .getKeyedStateBackend()
                        .getKeys(PaymentAuthorizer.IDEMPOTENCY_STATE, VoidNamespace.INSTANCE)
                        .count())
                .as("the expired entry is gone from state once read")
                .isZero();
    }

    @Test
    void declineIsFinalAndDoesNotSpendTheLimit() throws Exception {
        process(payment("alice", "k1", 900));
        gateway.decline(0, "insufficient_funds");
        runMails();
        process(payment("alice", "k2", 900));
        gateway.approve(1);
        runMails();
        process(payment("alice", "k1", 900));

        assertThat(results()).extracting(PaymentResult::getStatus, PaymentResult::getReason)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(PaymentStatus.DECLINED, "insufficient_funds"),
                        org.assertj.core.groups.Tuple.tuple(PaymentStatus.COMPLETED, null),
                        org.assertj.core.groups.Tuple.tuple(PaymentStatus.DUPLICATE, null));
        assertThat(results().get(2).getOriginal().getStatus()).isEqualTo(PaymentStatus.DECLINED);
    }

    @Test
    void dailyLimitCountsApprovedPaymentsOfTheSameUtcDay() throws Exception {
        process(payment("alice", "k1", 600));
        gateway.approve(0);
        runMails();
        process(payment("alice", "k2", 500));
        process(payment("alice", "k3", 400));
        gateway.approve(1);
        runMails();
        process(payment("alice", "k4", 500, NOW.plus(Duration.ofDays(1))));

        assertThat(results()).extracting(PaymentResult::getStatus, PaymentResult::getReason)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(PaymentStatus.COMPLETED, null),
                        org.assertj.core.groups.Tuple.tuple(PaymentStatus.REJECTED, "daily_limit_exceeded"),
                        org.assertj.core.groups.Tuple.tuple(PaymentStatus.COMPLETED, null));
        assertThat(calledKeys("alice"))
                .as("the next day has its own limit")
                .containsExactly("k1", "k3", "k4");
    }

    @Test
    void unknownInactiveAndForeignCurrencyCustomersAreRejectedAndRemembered() throws Exception {
        process(withCustomer(payment("nobody", "k1", 100), null));
        process(withCustomer(payment("bob", "k1", 100), customer("bob", "INACTIVE", "EUR")));
        process(withCustomer(payment("carol", "k1", 100), customer("carol", "ACTIVE", "USD")));
        process(withCustomer(payment("nobody", "k1", 100), null));

        assertThat(results()).extracting(PaymentResult::getStatus, PaymentResult::getReason)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(PaymentStatus.REJECTED, "unknown_customer"),
                        org.assertj.core.groups.Tuple.tuple(PaymentStatus.REJECTED, "customer_inactive"),
                        org.assertj.core.groups.Tuple.tuple(PaymentStatus.REJECTED, "currency_mismatch"),
                        org.assertj.core.groups.Tuple.tuple(PaymentStatus.DUPLICATE, null));
        assertThat(gateway.calls).isEmpty();
    }

    @Test
    void transientFailuresAreRetriedWithBackoffOnTimers() throws Exception {
        process(payment("alice", "k1", 500));
        gateway.fail(0);
        runMails();

        assertThat(results()).isEmpty();
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        assertThat(gateway.calls).hasSize(1);

        harness.setProcessingTime(NOW.plusMillis(100).toEpochMilli());
        assertThat(gateway.calls).hasSize(2);
        gateway.approve(1);
        runMails();

        assertThat(statuses()).containsExactly(PaymentStatus.COMPLETED);
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void stillUnavailableAfterTheRetriesIsFailedAndNotRemembered() throws Exception {
        process(payment("alice", "k1", 500));
        for (int attempt = 0; attempt < 3; attempt++) {
            gateway.fail(attempt);
            runMails();
            harness.setProcessingTime(harness.getProcessingTime() + 1_000);
        }
        assertThat(results()).extracting(PaymentResult::getStatus, PaymentResult::getReason)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(PaymentStatus.FAILED, "gateway_http_503"));

        process(payment("alice", "k1", 500));
        assertThat(gateway.calls).as("a client's retry of a FAILED payment is processed again").hasSize(4);
        gateway.approve(3);
        runMails();
        assertThat(statuses()).containsExactly(PaymentStatus.FAILED, PaymentStatus.COMPLETED);
    }

    @Test
    void anOpenCircuitIsWaitedOutWithoutSpendingRetries() throws Exception {
        process(payment("alice", "k1", 500));
        for (int refused = 0; refused < 5; refused++) {
            gateway.refuseWithOpenCircuit(refused);
            runMails();
            harness.setProcessingTime(harness.getProcessingTime() + 5_000);
        }
        assertThat(results()).as("five refusals exceed the two retries, yet nothing failed").isEmpty();
        gateway.approve(5);
        runMails();
        assertThat(statuses()).containsExactly(PaymentStatus.COMPLETED);
    }

    @Test
    void anOpenCircuitFailsThePaymentAfterGiveUpAfter() throws Exception {
        process(payment("alice", "k1", 500));
        int refused = 0;
        while (results().isEmpty()) {
            gateway.refuseWithOpenCircuit(refused++);
            runMails();
            harness.setProcessingTime(harness.getProcessingTime() + 5_000);
        }
        assertThat(results()).extracting(PaymentResult::getStatus, PaymentResult::getReason)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(PaymentStatus.FAILED, "gateway_circuit_open"));
        assertThat(refused).as("refusals within 30 s at one per 5 s").isEqualTo(7);
        assertNoCallsOrQueuesInState();
    }

    @Test
    void lookupFailureIsFailedWithoutState() throws Exception {
        AuthorizationRequest payment = payment("alice", "k1", 500);
        payment.setCustomer(null);
        payment.setLookupFailure("customer_lookup_timeout");
        process(payment);

        assertThat(results()).extracting(PaymentResult::getStatus, PaymentResult::getReason)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(PaymentStatus.FAILED, "customer_lookup_timeout"));
        assertThat(harness.numKeyedStateEntries()).isZero();
    }

    @Test
    void aCallInFlightAtTheSnapshotIsMadeAgainAfterRestoreAndAnsweredOnce() throws Exception {
        process(payment("alice", "k1", 500));
        process(payment("alice", "k2", 100));
        OperatorSubtaskState snapshot = harness.snapshot(1, NOW.toEpochMilli());
        gateway.approve(0);
        runMails();
        assertThat(statuses()).as("the answer after the snapshot is lost with the failure").hasSize(1);
        restartFrom(snapshot);

        assertThat(calledKeys("alice")).containsExactly("k1");
        gateway.approve(0);
        runMails();
        assertThat(calledKeys("alice")).containsExactly("k1", "k2");
        gateway.approve(1);
        runMails();
        assertThat(statuses()).containsExactly(PaymentStatus.COMPLETED, PaymentStatus.COMPLETED);
        assertNoCallsOrQueuesInState();
    }

    @Test
    void aCallUnderWayReachesKeyedStateOnlyWithASnapshotAndLeavesItWhenItEnds() throws Exception {
        process(payment("alice", "k1", 500));
        assertThat(callsInKeyedState()).as("no state write per call").isZero();

        OperatorSubtaskState withCall = harness.snapshot(1, NOW.toEpochMilli());
        assertThat(callsInKeyedState()).isEqualTo(1);

        gateway.approve(0);
        runMails();
        assertThat(statuses()).containsExactly(PaymentStatus.COMPLETED);
        assertNoCallsOrQueuesInState();
        OperatorSubtaskState afterCall = harness.snapshot(2, NOW.toEpochMilli());
        restartFrom(afterCall);
        assertThat(gateway.calls).as("the ended call is not made again").isEmpty();
        restartFrom(withCall);
        assertThat(calledKeys("alice")).as("the call of the earlier snapshot is made again").containsExactly("k1");
    }

    @Test
    void requestsQueuedAfterTheSnapshotAreNotInIt() throws Exception {
        process(payment("alice", "k1", 500));
        OperatorSubtaskState snapshot = harness.snapshot(1, NOW.toEpochMilli());
        process(payment("alice", "k2", 100));
        gateway.fail(0);
        runMails();
        restartFrom(snapshot);
        assertThat(calledKeys("alice")).as("attempt 1 again, not the retry of after the snapshot").containsExactly("k1");
        gateway.approve(0);
        runMails();
        assertThat(statuses()).containsExactly(PaymentStatus.COMPLETED);
        assertThat(gateway.calls).as("k2 came after the snapshot; its source replays it").hasSize(1);
        assertNoCallsOrQueuesInState();
    }

    @Test
    void aCallBackingOffAtTheSnapshotResumesFromItsRestoredTimer() throws Exception {
        process(payment("alice", "k1", 500));
        gateway.fail(0);
        runMails();
        OperatorSubtaskState snapshot = harness.snapshot(1, NOW.toEpochMilli());
        restartFrom(snapshot);
        assertThat(gateway.calls).as("no call before the backoff ends").isEmpty();

        harness.setProcessingTime(NOW.plusMillis(100).toEpochMilli());
        gateway.approve(0);
        runMails();
        assertThat(statuses()).containsExactly(PaymentStatus.COMPLETED);
    }

    @Test
    void atCapacityInputWaitsForACallToEnd() throws Exception {
        harness.close();
        harness = newHarness(settings(2, 1));
        harness.open();

        process(payment("alice", "k1", 500));
        gateway.approve(0);
        // The answer is queued in the mailbox; the next request must wait for it to be handled.
        process(payment("bob", "k1", 500));

        assertThat(statuses()).containsExactly(PaymentStatus.COMPLETED);
        assertThat(gateway.calls).extracting(GatewayRequest::customerId).containsExactly("alice", "bob");
    }

    @Test
    void tooManyWaitingRequestsOfOneCustomerAreRejected() throws Exception {
        process(payment("alice", "k1", 100));
        process(payment("alice", "k2", 100));
        process(payment("alice", "k3", 100));
        process(payment("alice", "k4", 100));

        assertThat(results()).extracting(PaymentResult::getStatus, PaymentResult::getReason)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(PaymentStatus.REJECTED, "too_many_pending"));
        gateway.approve(0);
        runMails();
        gateway.approve(1);
        runMails();
        gateway.approve(2);
        runMails();
        assertThat(calledKeys("alice")).containsExactly("k1", "k2", "k3");
        assertNoCallsOrQueuesInState();
    }

    @Test
    void endOfInputWaitsForEveryCall() throws Exception {
        process(payment("alice", "k1", 100));
        process(payment("bob", "k1", 100));
        gateway.approve(0);
        gateway.approve(1);

        harness.endInput();

        assertThat(statuses()).containsExactly(PaymentStatus.COMPLETED, PaymentStatus.COMPLETED);
    }

    // ---------------------------------------------------------------------------------------

    /** A failure and restore: a new operator with a new gateway, from {@code snapshot}. */
    private void restartFrom(OperatorSubtaskState snapshot) throws Exception {
        harness.close();
        gateway = new ScriptedGateway();
        GATEWAYS.put(gatewayId, gateway);
        harness = newHarness(settings(2, 10));
        harness.initializeState(snapshot);
        harness.open();
    }

    private void process(AuthorizationRequest payment) throws Exception {
        harness.processElement(payment, 0);
    }

    private void runMails() throws Exception {
        TaskMailbox mailbox = harness.getTaskMailbox();
        Optional<Mail> mail;
        while ((mail = mailbox.tryTake(TaskMailbox.MIN_PRIORITY)).isPresent()) {
            mail.get().run();
        }
    }

    /** The idempotency keys of {@code customer} that reached the gateway, in call order. */
    private List<String> calledKeys(String customer) {
        return gateway.calls.stream()
                .map(call -> {
                    for (int i = 0; i < 100; i++) {
                        if (PaymentIds.paymentId(customer, "k" + i).equals(call.idempotencyKey())) {
                            return "k" + i;
                        }
                    }
                    return "other:" + call.idempotencyKey();
                })
                .toList();
    }

    private List<PaymentResult> results() {
        return harness.extractOutputValues();
    }

    private List<PaymentStatus> statuses() {
        return results().stream().map(PaymentResult::getStatus).toList();
    }

    private long callsInKeyedState() throws Exception {
        return harness.getOperator()
                .getKeyedStateBackend()
                .getKeys(PaymentAuthorizer.GATEWAY_CALL_STATE, VoidNamespace.INSTANCE)
                .count();
    }

    private void assertNoCallsOrQueuesInState() throws Exception {
        var backend = harness.getOperator().getKeyedStateBackend();
        assertThat(backend.getKeys(PaymentAuthorizer.GATEWAY_CALL_STATE, VoidNamespace.INSTANCE).count())
                .isZero();
        assertThat(backend.getKeys(PaymentAuthorizer.WAITING_STATE, VoidNamespace.INSTANCE).count())
                .isZero();
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    private AuthorizationRequest payment(String customerId, String key, long amountMinor) {
        return payment(customerId, key, amountMinor, NOW);
    }

    private AuthorizationRequest payment(String customerId, String key, long amountMinor, Instant at) {
        PaymentRequest request =
                PaymentRequest.newBuilder()
                        .setIdempotencyKey(key)
                        .setCustomerId(customerId)
                        .setMerchantId("shop")
                        .setAmountMinor(amountMinor)
                        .setCurrency("EUR")
                        .setRequestedAt(at)
                        .setMetadata(new RequestMetadata(null, null))
                        .build();
        return AuthorizationRequest.newBuilder()
                .setRequest(request)
                .setSource(new SourcePosition("payments.requests", 0, offset++))
                .setCustomer(customer(customerId, "ACTIVE", "EUR"))
                .setLookupFailure(null)
                .build();
    }

    private static AuthorizationRequest withCustomer(AuthorizationRequest payment, CustomerProfile customer) {
        payment.setCustomer(customer);
        return payment;
    }

    private static CustomerProfile customer(String id, String status, String currency) {
        return new CustomerProfile(id, status, 1_000L, currency);
    }

    /** A gateway whose n-th call the test answers with {@link #approve}, {@link #decline} or {@link #fail}. */
    static final class ScriptedGateway implements PaymentGateway {
        final List<GatewayRequest> calls = new CopyOnWriteArrayList<>();
        final List<CompletableFuture<GatewayDecision>> answers = new ArrayList<>();

        @Override
        public synchronized CompletableFuture<GatewayDecision> authorize(GatewayRequest request) {
            calls.add(request);
            CompletableFuture<GatewayDecision> answer = new CompletableFuture<>();
            answers.add(answer);
            return answer;
        }

        void approve(int call) {
            answers.get(call).complete(GatewayDecision.approved("ref-" + call));
        }

        void decline(int call, String reason) {
            answers.get(call).complete(GatewayDecision.declined("ref-" + call, reason));
        }

        void fail(int call) {
            answers.get(call).completeExceptionally(
                    new GatewayUnavailableException("gateway_http_503", "HTTP 503", null));
        }

        void refuseWithOpenCircuit(int call) {
            answers.get(call).completeExceptionally(
                    new GatewayUnavailableException("gateway_circuit_open", "circuit open", null));
        }

        @Override
        public void close() {}
    }
}
