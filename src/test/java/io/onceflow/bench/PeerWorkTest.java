package io.onceflow.bench;

import io.onceflow.payments.PaymentAuthorizer;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.records.SourcePosition;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class PeerWorkTest {

    @Test
    void onlyEachRequestsOwnDecisionBecomesARowNotTheAnswersToItsRepeats() {
        assertThat(PeerWork.isOwnDecision(result(PaymentStatus.COMPLETED, null))).isTrue();
        assertThat(PeerWork.isOwnDecision(result(PaymentStatus.DECLINED, "insufficient_funds"))).isTrue();
        assertThat(PeerWork.isOwnDecision(result(PaymentStatus.REJECTED, "unknown_customer"))).isTrue();
        assertThat(PeerWork.isOwnDecision(result(PaymentStatus.REJECTED, "invalid_merchant_id"))).isTrue();

        assertThat(PeerWork.isOwnDecision(result(PaymentStatus.DUPLICATE, null))).isFalse();
        assertThat(PeerWork.isOwnDecision(result(PaymentStatus.REJECTED, PaymentAuthorizer.KEY_REUSED))).isFalse();
    }

    private static PaymentResult result(PaymentStatus status, String reason) {
        Instant at = Instant.parse("2026-11-27T08:00:00Z");
        return PaymentResult.newBuilder()
                .setIdempotencyKey("key-1")
                .setCustomerId("customer-1")
                .setPaymentId("payment-1")
                .setStatus(status)
                .setReason(reason)
                .setGatewayReference(null)
                .setMerchantId("merchant-1")
                .setAmountMinor(100)
                .setCurrency("EUR")
                .setRequestedAt(at)
                .setProcessedAt(at)
                .setOriginal(null)
                .setSource(SourcePosition.newBuilder().setTopic("payments.requests").setPartition(0).setOffset(1).build())
                .build();
    }
}
