package io.onceflow.enrichment.gateway;

/**
 * The attempt got no decision, and a later attempt with the same idempotency key may: retry it.
 *
 * <p>Reasons:
 *
 * <ul>
 *   <li>{@code gateway_http_<status>} for 5xx, 429 (rate limited), 408 and 409 (the same key is
 *       still being processed by an earlier attempt);
 *   <li>{@code gateway_timeout}: no answer within the request timeout. The gateway may have
 *       charged; the retry's idempotency key returns that charge instead of making a second one;
 *   <li>{@code gateway_connect_failed}: no connection (refused, unreachable, connect timeout), so
 *       the request never reached the gateway;
 *   <li>{@code gateway_connection_lost}: the connection broke after the request may have been sent;
 *   <li>{@code gateway_circuit_open}: the circuit breaker is open after too many such failures, so
 *       the call was not sent at all;
 *   <li>{@code gateway_client_closed}: the client was closed while the attempt was in flight.
 * </ul>
 */
public final class GatewayUnavailableException extends GatewayException {

    private static final long serialVersionUID = 1L;

    public GatewayUnavailableException(String reason, String message) {
        super(reason, message, null);
    }

    public GatewayUnavailableException(String reason, String message, Throwable cause) {
        super(reason, message, cause);
    }

    @Override
    public boolean isTransient() {
        return true;
    }
}
