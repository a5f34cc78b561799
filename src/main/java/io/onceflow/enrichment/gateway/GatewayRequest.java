package io.onceflow.enrichment.gateway;

import java.util.regex.Pattern;

/**
 * One authorization to ask the payment gateway for.
 *
 * <p>The {@code idempotencyKey} travels as the {@code Idempotency-Key} header, never in the body:
 * every attempt of the same payment must carry the same key, so that a retry after a timeout (when
 * the first attempt may have charged) returns the first answer instead of charging again.
 *
 * @param idempotencyKey same for every attempt of one payment; 1 to 255 visible ASCII characters
 * @param paymentId the payment this authorization is for
 * @param customerId who pays
 * @param merchantId who is paid
 * @param amountMinor amount in the currency's minor unit (cents), positive
 * @param currency ISO 4217 code, three capital letters
 */
public record GatewayRequest(
        String idempotencyKey,
        String paymentId,
        String customerId,
        String merchantId,
        long amountMinor,
        String currency) {

    /** Header values must not contain spaces or control characters; 255 is Stripe's limit. */
    private static final Pattern IDEMPOTENCY_KEY = Pattern.compile("[\\x21-\\x7E]{1,255}");

    private static final Pattern CURRENCY = Pattern.compile("[A-Z]{3}");

    public GatewayRequest {
        if (idempotencyKey == null || !IDEMPOTENCY_KEY.matcher(idempotencyKey).matches()) {
            throw new IllegalArgumentException(
                    "The idempotency key must be 1 to 255 visible ASCII characters but is "
                            + quoted(idempotencyKey)
                            + ".");
        }
        requireText(paymentId, "payment id");
        requireText(customerId, "customer id");
        requireText(merchantId, "merchant id");
        if (amountMinor <= 0) {
            throw new IllegalArgumentException(
                    "The amount must be positive but is " + amountMinor + ".");
        }
        if (currency == null || !CURRENCY.matcher(currency).matches()) {
            throw new IllegalArgumentException(
                    "The currency must be three capital letters (ISO 4217) but is "
                            + quoted(currency)
                            + ".");
        }
    }

    private static void requireText(String value, String name) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("The " + name + " is empty.");
        }
    }

    private static String quoted(String value) {
        return value == null ? "missing" : "\"" + value + "\"";
    }
}
