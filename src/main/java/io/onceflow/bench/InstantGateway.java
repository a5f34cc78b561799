package io.onceflow.bench;

import io.onceflow.enrichment.gateway.GatewayDecision;
import io.onceflow.enrichment.gateway.GatewayRequest;
import io.onceflow.enrichment.gateway.PaymentGateway;

import java.util.concurrent.CompletableFuture;

/**
 * A gateway that approves every payment at once, in process: the cheapest gateway there can be,
 * for measuring the payments job's own operators without the network and the simulator.
 *
 * <p>It answers with an already completed future, so the caller's callbacks run on the caller's
 * thread, which {@link PaymentGateway} promises never happens. {@code PaymentAuthorizer}, its one
 * caller, does not depend on that promise: it hands every answer to its task's mailbox.
 */
final class InstantGateway implements PaymentGateway {

    @Override
    public CompletableFuture<GatewayDecision> authorize(GatewayRequest request) {
        return CompletableFuture.completedFuture(GatewayDecision.approved(request.paymentId()));
    }

    @Override
    public void close() {}
}
