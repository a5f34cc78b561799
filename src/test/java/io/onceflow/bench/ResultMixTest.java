package io.onceflow.bench;

import io.onceflow.payments.PaymentResults;
import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.payments.model.RequestMetadata;
import io.onceflow.records.SourcePosition;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ResultMixTest {

    private static final Instant NOW = Instant.parse("2026-11-26T08:00:00Z");

    @Test
    void rejectionsAndFailuresCountByReasonOtherStatusesAlone() {
        assertThat(ResultMix.outcome(result(PaymentStatus.COMPLETED, null))).isEqualTo("COMPLETED");
        assertThat(ResultMix.outcome(result(PaymentStatus.DECLINED, "insufficient_funds"))).isEqualTo("DECLINED");
        assertThat(ResultMix.outcome(result(PaymentStatus.REJECTED, "daily_limit_exceeded")))
                .isEqualTo("REJECTED daily_limit_exceeded");
        assertThat(ResultMix.outcome(result(PaymentStatus.FAILED, "gateway_timeout"))).isEqualTo("FAILED gateway_timeout");
        assertThat(ResultMix.outcome(result(PaymentStatus.REJECTED, null))).isEqualTo("REJECTED");
    }

    @Test
    void theLineGivesTheGatewaysShareAndEveryOutcomesShareOfAllResults() {
        Map<String, Long> outcomes = new LinkedHashMap<>();
        outcomes.put("COMPLETED", 700L);
        outcomes.put("REJECTED daily_limit_exceeded", 150L);
        outcomes.put("DUPLICATE", 50L);
        outcomes.put("DECLINED", 30L);
        outcomes.put("FAILED gateway_timeout", 70L);

        assertThat(ResultMix.describe(outcomes)).isEqualTo(
                "1,000 results; decided by the gateway 73.0% (COMPLETED 70.0%, REJECTED daily_limit_exceeded 15.0%,"
                        + " DUPLICATE 5.0%, DECLINED 3.0%, FAILED gateway_timeout 7.0%)");
        assertThat(ResultMix.describe(Map.of())).isEqualTo("no results read");
    }

    private static io.onceflow.payments.model.PaymentResult result(PaymentStatus status, String reason) {
        PaymentRequest request = PaymentRequest.newBuilder()
                .setIdempotencyKey("k1")
                .setCustomerId("cust-00001")
                .setMerchantId("shop")
                .setAmountMinor(500)
                .setCurrency("EUR")
                .setRequestedAt(NOW)
                .setMetadata(new RequestMetadata(null, null))
                .build();
        return PaymentResults.of(request, new SourcePosition("payments.requests", 0, 1L), status, reason, null, NOW);
    }
}
