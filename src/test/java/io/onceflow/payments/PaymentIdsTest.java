package io.onceflow.payments;

import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.payments.model.RequestMetadata;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Random;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class PaymentIdsTest {

    private static final Instant AT = Instant.parse("2026-11-25T12:00:00Z");

    @Test
    void paymentIdIsTheSameNameBasedUuidInEveryRunAndVersion() {
        // Pinned: rows already in the payments table carry this id, so a replay after an upgrade
        // must derive the very same one, or ON CONFLICT no longer guards against a second row.
        assertThat(PaymentIds.paymentId("alice", "k1"))
                .isEqualTo("f4c7424e-4914-3643-9256-4b451513e141");
        assertThat(UUID.fromString(PaymentIds.paymentId("alice", "k1")).version()).isEqualTo(3);
    }

    @Test
    void paymentIdIsTheJdksNameBasedUuidOfCustomerAndKey() {
        Random random = new Random(7);
        for (int i = 0; i < 1_000; i++) {
            String customer = "cust-" + random.nextInt(100_000);
            String key = Long.toHexString(random.nextLong()) + (i % 3 == 0 ? "-\u00e9\u4e2d" : "");
            assertThat(PaymentIds.paymentId(customer, key))
                    .isEqualTo(UUID.nameUUIDFromBytes((customer + '\u0000' + key).getBytes(StandardCharsets.UTF_8))
                            .toString());
        }
    }

    @Test
    void paymentIdSeparatesCustomerFromKey() {
        assertThat(PaymentIds.paymentId("ab", "c")).isNotEqualTo(PaymentIds.paymentId("a", "bc"));
        assertThat(PaymentIds.paymentId("alice", "k1"))
                .isNotEqualTo(PaymentIds.paymentId("bob", "k1"))
                .isNotEqualTo(PaymentIds.paymentId("alice", "k2"));
    }

    @Test
    void fingerprintIgnoresWhatAClientRetryMayChange() {
        PaymentRequest original = request();
        PaymentRequest retry =
                PaymentRequest.newBuilder(original)
                        .setRequestedAt(AT.plusSeconds(30))
                        .setMetadata(new RequestMetadata("10.9.9.9", "retrying-client/2"))
                        .build();

        assertThat(PaymentIds.payloadFingerprint(retry))
                .isEqualTo(PaymentIds.payloadFingerprint(original));
    }

    @Test
    void fingerprintChangesWithAmountMerchantOrCurrency() {
        long original = PaymentIds.payloadFingerprint(request());

        assertThat(fingerprint(PaymentRequest.newBuilder(request()).setAmountMinor(1251)))
                .isNotEqualTo(original);
        assertThat(fingerprint(PaymentRequest.newBuilder(request()).setMerchantId("shop-2")))
                .isNotEqualTo(original);
        assertThat(fingerprint(PaymentRequest.newBuilder(request()).setCurrency("USD")))
                .isNotEqualTo(original);
    }

    private static long fingerprint(PaymentRequest.Builder request) {
        return PaymentIds.payloadFingerprint(request.build());
    }

    private static PaymentRequest request() {
        return PaymentRequest.newBuilder()
                .setIdempotencyKey("k1")
                .setCustomerId("alice")
                .setMerchantId("shop")
                .setAmountMinor(1250)
                .setCurrency("EUR")
                .setRequestedAt(AT)
                .setMetadata(new RequestMetadata("10.0.0.1", "curl/8"))
                .build();
    }
}
