package io.onceflow.payments;

import io.onceflow.payments.model.AuthorizationRequest;
import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.records.SourcePosition;
import io.onceflow.testing.OperatorMetrics;

import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/**
 * The validation operator in Flink's harness: what passes, what is answered REJECTED on the side
 * output and with which fields, against the operator's processing-time clock.
 */
class RequestValidationTest {

    private static final Instant NOW = Instant.parse("2026-11-25T12:00:00Z");
    private static final ValidationSettings SETTINGS =
            new ValidationSettings(
                    100_000L, 8, List.of("EUR", "USD"), Duration.ofMinutes(5), Duration.ofDays(2));

    private OperatorMetrics metrics;
    private OneInputStreamOperatorTestHarness<AuthorizationRequest, AuthorizationRequest> harness;
    private long offset = 100;

    @BeforeEach
    void setUp() throws Exception {
        metrics = new OperatorMetrics();
        harness =
                new OneInputStreamOperatorTestHarness<>(
                        new ProcessOperator<>(new RequestValidation(SETTINGS)),
                        metrics.environment());
        harness.setProcessingTime(NOW.toEpochMilli());
        harness.open();
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
        metrics.close();
    }

    @Test
    void aValidRequestPassesUnchangedAndNothingIsRejected() throws Exception {
        AuthorizationRequest payment = payment(request());

        harness.processElement(payment, 0);

        assertThat(harness.extractOutputValues()).containsExactly(payment);
        assertThat(rejected()).isEmpty();
        assertThat(metrics.count("requestsRejected")).isZero();
    }

    @Test
    void anInvalidRequestIsAnsweredRejectedOnTheSideOutputOnly() throws Exception {
        AuthorizationRequest payment =
                payment(PaymentRequest.newBuilder(request()).setAmountMinor(0).build());
        harness.setProcessingTime(NOW.plusMillis(250).toEpochMilli());

        harness.processElement(payment, 0);

        assertThat(harness.extractOutputValues()).isEmpty();
        PaymentResult result = single(rejected());
        assertThat(result.getStatus()).isEqualTo(PaymentStatus.REJECTED);
        assertThat(result.getReason()).isEqualTo("amount_not_positive");
        assertThat(result.getSource()).isEqualTo(payment.getSource());
        assertThat(result.getPaymentId()).isEqualTo(PaymentIds.paymentId("alice", "k1"));
        assertThat(result.getIdempotencyKey()).isEqualTo("k1");
        assertThat(result.getCustomerId()).isEqualTo("alice");
        assertThat(result.getMerchantId()).isEqualTo("shop");
        assertThat(result.getAmountMinor()).isZero();
        assertThat(result.getCurrency()).isEqualTo("EUR");
        assertThat(result.getRequestedAt()).isEqualTo(NOW);
        assertThat(result.getProcessedAt()).isEqualTo(NOW.plusMillis(250));
        assertThat(result.getGatewayReference()).isNull();
        assertThat(result.getOriginal()).isNull();
        assertThat(metrics.count("requestsRejected")).isEqualTo(1);
    }

    @Test
    void everyRejectionReasonReachesTheResult() throws Exception {
        List<PaymentRequest> requests =
                List.of(
                        PaymentRequest.newBuilder(request()).setIdempotencyKey("").build(),
                        PaymentRequest.newBuilder(request()).setCustomerId("").build(),
                        PaymentRequest.newBuilder(request()).setMerchantId("").build(),
                        PaymentRequest.newBuilder(request()).setAmountMinor(-5).build(),
                        PaymentRequest.newBuilder(request()).setAmountMinor(100_001).build(),
                        PaymentRequest.newBuilder(request()).setCurrency("GBP").build(),
                        PaymentRequest.newBuilder(request())
                                .setRequestedAt(NOW.plus(Duration.ofMinutes(5)).plusMillis(1))
                                .build(),
                        PaymentRequest.newBuilder(request())
                                .setRequestedAt(NOW.minus(Duration.ofDays(2)).minusMillis(1))
                                .build());
        for (PaymentRequest request : requests) {
            harness.processElement(payment(request), 0);
        }

        assertThat(harness.extractOutputValues()).isEmpty();
        assertThat(rejected())
                .extracting(PaymentResult::getReason)
                .containsExactly(
                        "invalid_idempotency_key",
                        "invalid_customer_id",
                        "invalid_merchant_id",
                        "amount_not_positive",
                        "amount_above_maximum",
                        "unknown_currency",
                        "requested_in_future",
                        "request_too_old");
        assertThat(rejected())
                .extracting(result -> result.getSource().getOffset())
                .containsExactly(100L, 101L, 102L, 103L, 104L, 105L, 106L, 107L);
        assertThat(metrics.count("requestsRejected")).isEqualTo(8);
    }

    /** Ids that are not valid ids must not be turned into a payment id someone could look up. */
    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "k1\n", "k\u0000", "much-too-long-key"})
    void aRejectedRequestWithAnInvalidKeyHasNoPaymentId(String key) throws Exception {
        harness.processElement(
                payment(PaymentRequest.newBuilder(request()).setIdempotencyKey(key).build()), 0);

        PaymentResult result = single(rejected());
        assertThat(result.getReason()).isEqualTo("invalid_idempotency_key");
        assertThat(result.getPaymentId()).isNull();
        assertThat(result.getIdempotencyKey()).isEqualTo(key);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "al\tice", "much-too-long-customer"})
    void aRejectedRequestWithAnInvalidCustomerHasNoPaymentId(String customer) throws Exception {
        harness.processElement(
                payment(PaymentRequest.newBuilder(request()).setCustomerId(customer).build()), 0);

        PaymentResult result = single(rejected());
        assertThat(result.getReason()).isEqualTo("invalid_customer_id");
        assertThat(result.getPaymentId()).isNull();
    }

    @Test
    void theClockIsTheOperatorsProcessingTime() throws Exception {
        PaymentRequest early =
                PaymentRequest.newBuilder(request())
                        .setRequestedAt(NOW.plus(Duration.ofMinutes(10)))
                        .build();

        harness.processElement(payment(early), 0);
        harness.setProcessingTime(NOW.plus(Duration.ofMinutes(5)).toEpochMilli());
        harness.processElement(payment(early), 0);

        assertThat(rejected())
                .extracting(PaymentResult::getReason)
                .containsExactly("requested_in_future");
        assertThat(harness.extractOutputValues()).hasSize(1);
    }

    @Test
    void aRejectedRequestIsRejectedAgainWhenRepeated() throws Exception {
        PaymentRequest bad = PaymentRequest.newBuilder(request()).setCurrency("XYZ").build();

        harness.processElement(payment(bad), 0);
        harness.processElement(payment(bad), 0);

        assertThat(rejected())
                .extracting(PaymentResult::getStatus, PaymentResult::getReason)
                .containsOnly(tuple(PaymentStatus.REJECTED, "unknown_currency"))
                .hasSize(2);
    }

    private List<PaymentResult> rejected() {
        var side = harness.getSideOutput(RequestValidation.REJECTED);
        return side == null ? List.of() : side.stream().map(StreamRecord::getValue).toList();
    }

    private static PaymentResult single(List<PaymentResult> results) {
        assertThat(results).hasSize(1);
        return results.get(0);
    }

    private AuthorizationRequest payment(PaymentRequest request) {
        return AuthorizationRequest.newBuilder()
                .setRequest(request)
                .setSource(new SourcePosition("payments.requests", 3, offset++))
                .setCustomer(null)
                .setLookupFailure(null)
                .build();
    }

    private static PaymentRequest request() {
        return PaymentRequestValidatorTest.valid();
    }
}
