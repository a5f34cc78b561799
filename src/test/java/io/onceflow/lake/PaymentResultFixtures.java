package io.onceflow.lake;

import io.onceflow.payments.model.OriginalResult;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.records.SourcePosition;

import java.time.Instant;

/** PaymentResult records as the payments job emits them, numbered so tests can count them. */
final class PaymentResultFixtures {

    static final String TOPIC = "payments.requests";

    private PaymentResultFixtures() {}

    /**
     * Result number {@code n}: offset {@code n} of partition {@code n % 3}, processed on day {@code
     * n % 3} after {@link TestLake#DAY_ZERO}; every seventh a DUPLICATE carrying its original.
     */
    static PaymentResult numbered(long n) {
        Instant processed = TestLake.DAY_ZERO.plusSeconds(86_400L * (n % 3) + n);
        boolean duplicate = n % 7 == 0;
        return PaymentResult.newBuilder()
                .setIdempotencyKey("key-" + n)
                .setCustomerId("customer-" + (n % 17))
                .setPaymentId("payment-" + n)
                .setStatus(duplicate ? PaymentStatus.DUPLICATE : PaymentStatus.COMPLETED)
                .setReason(null)
                .setGatewayReference(duplicate ? null : "gw-" + n)
                .setMerchantId("merchant-1")
                .setAmountMinor(100 + n)
                .setCurrency("EUR")
                .setRequestedAt(processed.minusSeconds(1))
                .setProcessedAt(processed)
                .setOriginal(duplicate
                        ? OriginalResult.newBuilder()
                                .setStatus(PaymentStatus.COMPLETED)
                                .setPaymentId("payment-" + n)
                                .setReason(null)
                                .setGatewayReference("gw-original-" + n)
                                .setProcessedAt(processed.minusSeconds(60))
                                .build()
                        : null)
                .setSource(SourcePosition.newBuilder()
                        .setTopic(TOPIC)
                        .setPartition((int) (n % 3))
                        .setOffset(n)
                        .build())
                .build();
    }
}
