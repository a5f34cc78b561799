package io.onceflow.enrichment.gateway;

/** State of a gateway client's circuit breaker, with a stable number for a metrics gauge. */
public enum CircuitState {
    /** Calls go through; failures are counted. */
    CLOSED(0),
    /** Calls fail fast with {@code gateway_circuit_open} without reaching the gateway. */
    OPEN(1),
    /** A few trial calls go through to find out whether the gateway is back. */
    HALF_OPEN(2);

    private final int code;

    CircuitState(int code) {
        this.code = code;
    }

    /** 0 closed, 1 open, 2 half open: for a gauge, where a dashboard wants a number. */
    public int code() {
        return code;
    }
}
