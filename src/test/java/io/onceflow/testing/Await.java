package io.onceflow.testing;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Waits for a condition with a deadline, instead of sleeping for a guessed duration. */
public final class Await {

    private static final Duration DEFAULT_POLL = Duration.ofMillis(5);

    private Await() {}

    public static void until(Duration deadline, String condition, BooleanSupplier satisfied) {
        until(deadline, DEFAULT_POLL, condition, satisfied);
    }

    /** {@code poll} spaces out conditions that cost something to check, like a gateway call. */
    public static void until(
            Duration deadline, Duration poll, String condition, BooleanSupplier satisfied) {
        long end = System.nanoTime() + deadline.toNanos();
        while (!satisfied.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("Not true within " + deadline + ": " + condition);
            }
            LockSupport.parkNanos(poll.toNanos());
        }
    }
}
