package io.onceflow.enrichment.gateway;

import java.util.Objects;

/**
 * The gateway's answer to an authorization: approved or declined, with the gateway's reference.
 *
 * <p>A decline is an answer, not a failure: the gateway worked and said no. Retrying it would only
 * get the same answer back (the idempotency key replays it).
 *
 * @param outcome approved or declined
 * @param reference the gateway's reference for this authorization, never blank
 * @param declineReason why it was declined (e.g. {@code insufficient_funds}); null when approved,
 *     and may be null when the gateway gives no reason
 */
public record GatewayDecision(Outcome outcome, String reference, String declineReason) {

    public enum Outcome {
        APPROVED,
        DECLINED
    }

    public GatewayDecision {
        Objects.requireNonNull(outcome, "outcome");
        if (reference == null || reference.isBlank()) {
            throw new IllegalArgumentException("A gateway decision needs a reference.");
        }
        if (outcome == Outcome.APPROVED && declineReason != null) {
            throw new IllegalArgumentException(
                    "An approval cannot have a decline reason, but has " + declineReason + ".");
        }
    }

    public static GatewayDecision approved(String reference) {
        return new GatewayDecision(Outcome.APPROVED, reference, null);
    }

    public static GatewayDecision declined(String reference, String declineReason) {
        return new GatewayDecision(Outcome.DECLINED, reference, declineReason);
    }

    public boolean approved() {
        return outcome == Outcome.APPROVED;
    }
}
