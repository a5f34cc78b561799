package io.onceflow.payments;

import io.onceflow.payments.model.PaymentRequest;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;

/** Identities derived from a request, so that a replay of the same request derives the same ones. */
public final class PaymentIds {

    /** Never used themselves, only cloned: a digest is not thread-safe. */
    private static final MessageDigest MD5 = newDigest("MD5");

    private static final MessageDigest SHA_256 = newDigest("SHA-256");

    private PaymentIds() {}

    /**
     * The payment id of {@code (customerId, idempotencyKey)}: a name-based UUID, stable across
     * restarts and replays, which makes it a safe primary key for idempotent sinks. The same
     * UUID as {@link UUID#nameUUIDFromBytes}, whose provider lookup of MD5 on every call was a
     * twentieth of the authorizer's thread in the benchmark's profile.
     */
    public static String paymentId(String customerId, String idempotencyKey) {
        byte[] md5 = copyOf(MD5).digest((customerId + '\u0000' + idempotencyKey).getBytes(StandardCharsets.UTF_8));
        md5[6] &= 0x0f; // version 3: name-based, MD5
        md5[6] |= 0x30;
        md5[8] &= 0x3f; // the IETF variant
        md5[8] |= (byte) 0x80;
        ByteBuffer bits = ByteBuffer.wrap(md5);
        return new UUID(bits.getLong(), bits.getLong()).toString();
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
        return copyOf(SHA_256);
    }

    private static MessageDigest copyOf(MessageDigest digest) {
        try {
            return (MessageDigest) digest.clone();
        } catch (CloneNotSupportedException e) {
            return newDigest(digest.getAlgorithm());
        }
    }

    private static MessageDigest newDigest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("Every Java runtime has " + algorithm, e);
        }
    }
}
