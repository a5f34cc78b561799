package io.onceflow.payments;

import io.onceflow.payments.model.AuthorizationRequest;
import io.onceflow.payments.model.OriginalResult;
import io.onceflow.payments.model.PaymentCompleted;
import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.records.SourcePosition;

import java.time.Instant;

/** Builds the one {@link PaymentResult} each request record gets. */
public final class PaymentResults {

    private PaymentResults() {}

    public static PaymentResult of(
            PaymentRequest request,
            SourcePosition source,
            PaymentStatus status,
            String reason,
            String gatewayReference,
            Instant processedAt) {
        boolean identified = !request.getCustomerId().isEmpty() && !request.getIdempotencyKey().isEmpty();
        return PaymentResult.newBuilder()
                .setIdempotencyKey(request.getIdempotencyKey())
                .setCustomerId(request.getCustomerId())
                .setPaymentId(
                        identified
                                ? PaymentIds.paymentId(request.getCustomerId(), request.getIdempotencyKey())
                                : null)
                .setStatus(status)
                .setReason(reason)
                .setGatewayReference(gatewayReference)
                .setMerchantId(request.getMerchantId())
                .setAmountMinor(request.getAmountMinor())
                .setCurrency(request.getCurrency())
                .setRequestedAt(request.getRequestedAt())
                .setProcessedAt(processedAt)
                .setOriginal(null)
                .setSource(source)
                .build();
    }

    public static PaymentResult rejected(AuthorizationRequest payment, String reason, Instant now) {
        return of(payment.getRequest(), payment.getSource(), PaymentStatus.REJECTED, reason, null, now);
    }

    public static PaymentResult failed(AuthorizationRequest payment, String reason, Instant now) {
        return of(payment.getRequest(), payment.getSource(), PaymentStatus.FAILED, reason, null, now);
    }

    /** A repeat of a request whose first answer was {@code original}. */
    public static PaymentResult duplicate(
            AuthorizationRequest payment, OriginalResult original, Instant now) {
        PaymentResult result =
                of(payment.getRequest(), payment.getSource(), PaymentStatus.DUPLICATE, null, null, now);
        result.setGatewayReference(original.getGatewayReference());
        result.setOriginal(original);
        return result;
    }

    /** What a repeat of {@code result} will be answered with. */
    public static OriginalResult original(PaymentResult result) {
        return OriginalResult.newBuilder()
                .setStatus(result.getStatus())
                .setPaymentId(result.getPaymentId())
                .setReason(result.getReason())
                .setGatewayReference(result.getGatewayReference())
                .setProcessedAt(result.getProcessedAt())
                .build();
    }

    /** The domain event of a COMPLETED result. */
    public static PaymentCompleted completedEvent(PaymentResult result) {
        if (result.getStatus() != PaymentStatus.COMPLETED) {
            throw new IllegalArgumentException("Only a COMPLETED result has a completion event");
        }
        return PaymentCompleted.newBuilder()
                .setPaymentId(result.getPaymentId())
                .setIdempotencyKey(result.getIdempotencyKey())
                .setCustomerId(result.getCustomerId())
                .setMerchantId(result.getMerchantId())
                .setAmountMinor(result.getAmountMinor())
                .setCurrency(result.getCurrency())
                .setGatewayReference(result.getGatewayReference())
                .setRequestedAt(result.getRequestedAt())
                .setCompletedAt(result.getProcessedAt())
                .build();
    }
}
