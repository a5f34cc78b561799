package io.onceflow.payments;

import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.payments.model.RequestMetadata;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Every reason the validator gives, and each limit exactly at and just past its boundary. */
class PaymentRequestValidatorTest {

    private static final Instant NOW = Instant.parse("2026-11-25T12:00:00Z");
    private static final long MAX_AMOUNT = 100_000;
    private static final int MAX_ID_LENGTH = 8;
    private static final Duration SKEW = Duration.ofMinutes(5);
    private static final Duration MAX_AGE = Duration.ofDays(2);

    private static final PaymentRequestValidator ANY_CURRENCY =
            new PaymentRequestValidator(settings(List.of()));

    private static ValidationSettings settings(List<String> currencies) {
        return new ValidationSettings(MAX_AMOUNT, MAX_ID_LENGTH, currencies, SKEW, MAX_AGE);
    }

    static PaymentRequest valid() {
        return PaymentRequest.newBuilder()
                .setIdempotencyKey("k1")
                .setCustomerId("alice")
                .setMerchantId("shop")
                .setAmountMinor(1250)
                .setCurrency("EUR")
                .setRequestedAt(NOW)
                .setMetadata(new RequestMetadata(null, null))
                .build();
    }

    /** One change to an otherwise valid request. */
    interface Change extends UnaryOperator<PaymentRequest.Builder> {}

    private static Arguments rejected(String description, String reason, Change change) {
        return Arguments.of(description, reason, change);
    }

    private static Arguments accepted(String description, Change change) {
        return Arguments.of(description, change);
    }

    static Stream<Arguments> violations() {
        String tooLong = "x".repeat(MAX_ID_LENGTH + 1);
        String key = "invalid_idempotency_key";
        return Stream.of(
                rejected("empty key", key, r -> r.setIdempotencyKey("")),
                rejected("blank key", key, r -> r.setIdempotencyKey(" \t ")),
                rejected("key longer than the maximum", key, r -> r.setIdempotencyKey(tooLong)),
                rejected("key with NUL", key, r -> r.setIdempotencyKey("k\u00001")),
                rejected("key with newline", key, r -> r.setIdempotencyKey("k1\n")),
                rejected("key with DEL", key, r -> r.setIdempotencyKey("k\u007f")),
                rejected("key with C1 control", key, r -> r.setIdempotencyKey("k\u0085")),
                rejected("blank customer", "invalid_customer_id", r -> r.setCustomerId("  ")),
                rejected("customer too long", "invalid_customer_id", r -> r.setCustomerId(tooLong)),
                rejected("customer with tab", "invalid_customer_id", r -> r.setCustomerId("a\tb")),
                rejected("empty merchant", "invalid_merchant_id", r -> r.setMerchantId("")),
                rejected("merchant too long", "invalid_merchant_id", r -> r.setMerchantId(tooLong)),
                rejected("ESC in merchant", "invalid_merchant_id", r -> r.setMerchantId("m\u001b")),
                rejected("zero amount", "amount_not_positive", r -> r.setAmountMinor(0)),
                rejected("negative amount", "amount_not_positive", r -> r.setAmountMinor(-1)),
                rejected(
                        "most negative amount",
                        "amount_not_positive",
                        r -> r.setAmountMinor(Long.MIN_VALUE)),
                rejected(
                        "one above the maximum",
                        "amount_above_maximum",
                        r -> r.setAmountMinor(MAX_AMOUNT + 1)),
                rejected(
                        "largest long",
                        "amount_above_maximum",
                        r -> r.setAmountMinor(Long.MAX_VALUE)),
                rejected("made-up currency", "unknown_currency", r -> r.setCurrency("ABC")),
                rejected("lower-case currency", "unknown_currency", r -> r.setCurrency("eur")),
                rejected("empty currency", "unknown_currency", r -> r.setCurrency("")),
                rejected(
                        "1 ms past the skew",
                        "requested_in_future",
                        r -> r.setRequestedAt(NOW.plus(SKEW).plusMillis(1))),
                rejected(
                        "1 ms older than allowed",
                        "request_too_old",
                        r -> r.setRequestedAt(NOW.minus(MAX_AGE).minusMillis(1))));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("violations")
    void rejects(String description, String reason, Change change) {
        PaymentRequest request = change.apply(PaymentRequest.newBuilder(valid())).build();

        assertThat(ANY_CURRENCY.violation(request, NOW)).contains(reason);
    }

    static Stream<Arguments> boundaries() {
        String longest = "x".repeat(MAX_ID_LENGTH);
        return Stream.of(
                accepted("key of exactly the maximum length", r -> r.setIdempotencyKey(longest)),
                accepted("customer of exactly the maximum length", r -> r.setCustomerId(longest)),
                accepted("merchant of exactly the maximum length", r -> r.setMerchantId(longest)),
                accepted("inner spaces and non-ASCII letters", r -> r.setCustomerId("zoë m")),
                accepted("amount of 1", r -> r.setAmountMinor(1)),
                accepted("amount of exactly the maximum", r -> r.setAmountMinor(MAX_AMOUNT)),
                accepted("exactly at the skew limit", r -> r.setRequestedAt(NOW.plus(SKEW))),
                accepted("exactly at the age limit", r -> r.setRequestedAt(NOW.minus(MAX_AGE))),
                accepted("any ISO 4217 code without an allow-list", r -> r.setCurrency("JPY")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("boundaries")
    void accepts(String description, Change change) {
        PaymentRequest request = change.apply(PaymentRequest.newBuilder(valid())).build();

        assertThat(ANY_CURRENCY.violation(request, NOW)).isEmpty();
    }

    @Test
    void aConfiguredAllowListAcceptsOnlyItsCurrencies() {
        PaymentRequestValidator euroAndDollar =
                new PaymentRequestValidator(settings(List.of("EUR", "USD")));

        assertThat(euroAndDollar.violation(valid(), NOW)).isEmpty();
        assertThat(euroAndDollar.violation(withCurrency("USD"), NOW)).isEmpty();
        assertThat(euroAndDollar.violation(withCurrency("GBP"), NOW)).contains("unknown_currency");
        assertThat(ANY_CURRENCY.violation(withCurrency("GBP"), NOW))
                .as("GBP itself is a valid code")
                .isEmpty();
    }

    @Test
    void theFirstViolationInContractOrderIsTheReason() {
        PaymentRequest everythingWrong =
                PaymentRequest.newBuilder(valid())
                        .setIdempotencyKey("")
                        .setCustomerId("")
                        .setMerchantId("")
                        .setAmountMinor(0)
                        .setCurrency("???")
                        .setRequestedAt(NOW.plus(Duration.ofDays(1)))
                        .build();

        assertThat(ANY_CURRENCY.violation(everythingWrong, NOW))
                .contains("invalid_idempotency_key");
    }

    private static PaymentRequest withCurrency(String currency) {
        return PaymentRequest.newBuilder(valid()).setCurrency(currency).build();
    }
}
