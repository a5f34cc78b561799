package io.onceflow.bench;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Watches a count of visible results (committed records, rows, lake rows) until it reaches what
 * the preloaded input must produce. The sustained rate runs from the first poll that saw outputs
 * to the poll that saw the last: it leaves out start-up (job deployment, the first checkpoint)
 * and counts the same way whether outputs appear continuously (at-least-once) or in steps, one
 * per checkpoint (exactly-once); the steps make it uncertain by about one checkpoint interval over
 * the run's length, so runs should last many intervals.
 */
record Drain(boolean complete, long expected, long visible, long startNanos, long firstNanos, long firstVisible, long endNanos) {

    static Drain watch(LongSupplier visible, long expected, Duration timeout, long startNanos, long pollMillis)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long firstNanos = -1;
        long firstVisible = 0;
        long seen = 0;
        while (System.nanoTime() < deadline) {
            seen = visible.getAsLong();
            long now = System.nanoTime();
            if (firstNanos < 0 && seen > 0) {
                firstNanos = now;
                firstVisible = seen;
            }
            if (seen >= expected) {
                return new Drain(true, expected, seen, startNanos, firstNanos, firstVisible, now);
            }
            Thread.sleep(pollMillis);
        }
        return new Drain(false, expected, seen, startNanos, firstNanos, firstVisible, -1);
    }

    /**
     * Input records per second from the first outputs visible to the last; outputs are scaled to
     * input records ({@code inputRecords / expected}) since some inputs have no output of their own
     * (duplicates). NaN when the run did not drain or everything appeared at once.
     */
    double sustainedRate(long inputRecords) {
        if (!complete || firstNanos < 0 || endNanos <= firstNanos || visible <= firstVisible) {
            return Double.NaN;
        }
        double outputsPerSecond = (visible - firstVisible) / ((endNanos - firstNanos) / 1e9);
        return outputsPerSecond * inputRecords / expected;
    }

    /** Seconds from submission (or start) until everything was visible; NaN if it never was. */
    double wallSeconds() {
        return complete ? (endNanos - startNanos) / 1e9 : Double.NaN;
    }
}
