package io.onceflow.payments;

import io.onceflow.payments.model.PaymentRequest;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;

/** Identities derived from a request, so that a replay of the same request derives the same ones. */
public final class PaymentIds {

    /** Never used itself, only cloned: a digest is not thread-safe. */
    private static final MessageDigest SHA_256 = newSha256();

    private PaymentIds() {}

    /**
     * The payment id of {@code (customerId, idempotencyKey)}: a name-based UUID, stable across
     * restarts and replays, which makes it a safe primary key for idempotent sinks.
     */
    public static String paymentId(String customerId, String idempotencyKey) {
        return UUID.nameUUIDFromBytes(
                        (customerId + '\u0000' + idempotencyKey).getBytes(StandardCharsets.UTF_8))
                .toString();
    }

    /**
     * A fingerprint of what the payment is (merchant, amount, currency): two requests with one
     * idempotency key are the same payment only if their fingerprints match. The client's
     * metadata and timestamp are left out, since a client's retry may change them.
     */
    public static long payloadFingerprint(PaymentRequest request) {
        MessageDigest digest = sha256();
        digest.update(request.getMerchantId().getBytes(StandardCharsets.UTF_8));
        digest.update((byte) 0);
        digest.update(ByteBuffer.allocate(Long.BYTES).putLong(0, request.getAmountMinor()));
        digest.update(request.getCurrency().getBytes(StandardCharsets.UTF_8));
        return ByteBuffer.wrap(digest.digest()).getLong();
    }

    /**
     * A fresh SHA-256 digest, cloned from one looked up once: the provider lookup of {@code
     * MessageDigest.getInstance} per call showed up in the authorizer's profile.
     */
    private static MessageDigest sha256() {
        try {
            return (MessageDigest) SHA_256.clone();
        } catch (CloneNotSupportedException e) {
            return newSha256();
        }
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("Every Java runtime has SHA-256", e);
        }
    }
}
