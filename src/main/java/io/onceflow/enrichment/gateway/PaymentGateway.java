package io.onceflow.enrichment.gateway;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * A payment gateway that authorizes payments, one attempt per call.
 *
 * <p>{@link #authorize} makes exactly one attempt and never retries: the caller owns the retry
 * policy (backoff, attempt limit, when to give up), so that retries stay visible to it and are not
 * multiplied by a second, hidden policy. To retry, call {@link #authorize} again with the same
 * request; its idempotency key makes the gateway answer a repeated payment with the first answer.
 *
 * <p>The returned future completes on one of the client's own threads, never the caller's, and
 * always completes: with a {@link GatewayDecision}, or exceptionally with a {@link
 * GatewayUnavailableException} (transient: retry) or a {@link GatewayRejectedException} (permanent:
 * do not retry), never wrapped. Use {@link #isTransient(Throwable)} as the retry predicate; it also
 * looks inside the {@link CompletionException} that dependent stages wrap exceptions in.
 */
public interface PaymentGateway extends AutoCloseable {

    /**
     * Sends one authorization attempt.
     *
     * @throws IllegalStateException when the gateway client is closed
     */
    CompletableFuture<GatewayDecision> authorize(GatewayRequest request);

    /** The circuit breaker's state; always {@link CircuitState#CLOSED} when there is none. */
    default CircuitState circuitState() {
        return CircuitState.CLOSED;
    }

    /** Releases the client's threads and fails the attempts still in flight. */
    @Override
    void close();

    /**
     * Whether {@code failure} says "try again later": a {@link GatewayUnavailableException},
     * possibly wrapped in {@link CompletionException} or {@link ExecutionException}.
     */
    static boolean isTransient(Throwable failure) {
        Throwable unwrapped = unwrap(failure);
        return unwrapped instanceof GatewayException gatewayFailure && gatewayFailure.isTransient();
    }

    /** The failure itself, without the {@link CompletionException} or similar around it. */
    static Throwable unwrap(Throwable failure) {
        Throwable current = failure;
        while ((current instanceof CompletionException || current instanceof ExecutionException)
                && current.getCause() != null) {
            current = current.getCause();
        }
        return current;
    }
}
