package io.onceflow.enrichment.gateway;

import java.util.Objects;

/**
 * Why a gateway attempt gave no decision. Callers branch on the subclass (retry {@link
 * GatewayUnavailableException}, give up on {@link GatewayRejectedException}) and record {@link
 * #reason()}, a short machine-readable code such as {@code gateway_timeout}, meant for metrics,
 * dead letters and payment status columns.
 */
public abstract sealed class GatewayException extends RuntimeException
        permits GatewayUnavailableException, GatewayRejectedException {

    private static final long serialVersionUID = 1L;

    private final String reason;

    GatewayException(String reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** A machine-readable code, lower case with underscores, e.g. {@code gateway_http_503}. */
    public String reason() {
        return reason;
    }

    /** Whether trying the same request again later may succeed. */
    public abstract boolean isTransient();
}
