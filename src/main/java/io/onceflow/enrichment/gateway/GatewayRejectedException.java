package io.onceflow.enrichment.gateway;

/**
 * The gateway refused the request itself, or answered something unusable: sending it again would
 * fail the same way, so do not retry.
 *
 * <p>Reasons:
 *
 * <ul>
 *   <li>{@code gateway_http_<status>} for 4xx other than 408, 409 and 429 (e.g. 400 for an invalid
 *       request, 422 when the idempotency key was already used with a different body), and for 1xx
 *       and 3xx answers (redirects are not followed: a payment must not go elsewhere);
 *   <li>{@code gateway_malformed_response}: a 2xx answer that is not a decision this client
 *       understands;
 *   <li>{@code gateway_client_error}: the client failed in a way no retry can fix.
 * </ul>
 */
public final class GatewayRejectedException extends GatewayException {

    private static final long serialVersionUID = 1L;

    public GatewayRejectedException(String reason, String message) {
        super(reason, message, null);
    }

    public GatewayRejectedException(String reason, String message, Throwable cause) {
        super(reason, message, cause);
    }

    @Override
    public boolean isTransient() {
        return false;
    }
}
