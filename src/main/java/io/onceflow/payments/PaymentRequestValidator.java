package io.onceflow.payments;

import io.onceflow.payments.model.PaymentRequest;

import java.io.Serializable;
import java.time.Instant;
import java.util.Currency;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides whether a decoded request is well-formed, before any state or other system is
 * touched. Stateless and deterministic given the clock, so a replay validates alike.
 *
 * <p>Reasons are machine-readable and part of the results contract: {@code
 * invalid_idempotency_key}, {@code invalid_customer_id}, {@code invalid_merchant_id}, {@code
 * amount_not_positive}, {@code amount_above_maximum}, {@code unknown_currency}, {@code
 * requested_in_future}, {@code request_too_old}.
 */
public final class PaymentRequestValidator implements Serializable {

    private static final long serialVersionUID = 1L;

    private final ValidationSettings settings;
    private final Set<String> currencies;

    public PaymentRequestValidator(ValidationSettings settings) {
        this.settings = settings;
        this.currencies =
                settings.currencies().isEmpty()
                        ? Currency.getAvailableCurrencies().stream()
                                .map(Currency::getCurrencyCode)
                                .collect(Collectors.toUnmodifiableSet())
                        : Set.copyOf(settings.currencies());
    }

    /** Why {@code request} is not acceptable at {@code now}, or empty when it is. */
    public Optional<String> violation(PaymentRequest request, Instant now) {
        if (!isValidId(request.getIdempotencyKey())) {
            return Optional.of("invalid_idempotency_key");
        }
        if (!isValidId(request.getCustomerId())) {
            return Optional.of("invalid_customer_id");
        }
        if (!isValidId(request.getMerchantId())) {
            return Optional.of("invalid_merchant_id");
        }
        if (request.getAmountMinor() <= 0) {
            return Optional.of("amount_not_positive");
        }
        if (request.getAmountMinor() > settings.maxAmountMinor()) {
            return Optional.of("amount_above_maximum");
        }
        if (!currencies.contains(request.getCurrency())) {
            return Optional.of("unknown_currency");
        }
        if (request.getRequestedAt().isAfter(now.plus(settings.maxClockSkew()))) {
            return Optional.of("requested_in_future");
        }
        if (request.getRequestedAt().isBefore(now.minus(settings.maxRequestAge()))) {
            return Optional.of("request_too_old");
        }
        return Optional.empty();
    }

    /**
     * Whether {@code reason} refuses the customer id or idempotency key, the two ids a payment id
     * is derived from: such a request has no payment id.
     */
    public static boolean refusesPaymentIdentity(String reason) {
        return "invalid_idempotency_key".equals(reason) || "invalid_customer_id".equals(reason);
    }

    /** Present, bounded, and free of control characters (ids end up in logs, keys and SQL). */
    private boolean isValidId(String id) {
        if (id == null || id.isBlank() || id.length() > settings.maxIdLength()) {
            return false;
        }
        return id.chars().noneMatch(Character::isISOControl);
    }
}
