package io.onceflow.ops.cluster;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Condition waits with a deadline: the operations poll the cluster, they never sleep blindly. */
public final class Waits {

    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private Waits() {}

    /**
     * Calls {@code probe} every 100 ms until {@code done} accepts its answer and returns that
     * answer. A probe that throws counts as not done (a REST endpoint still coming up); after
     * {@code timeout} the last failure, or "timed out", becomes a {@link FlinkRestException}.
     */
    public static <T> T until(String what, Duration timeout, Supplier<T> probe, Predicate<T> done) {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException lastFailure = null;
        while (true) {
            try {
                T answer = probe.get();
                if (done.test(answer)) {
                    return answer;
                }
                lastFailure = null;
            } catch (Abort abort) {
                throw abort.reason;
            } catch (RuntimeException e) {
                lastFailure = e;
            }
            if (System.nanoTime() > deadline) {
                String seconds = timeout.toSeconds() + " s";
                throw lastFailure == null
                        ? new FlinkRestException("Timed out after " + seconds + " waiting to " + what + ".")
                        : new FlinkRestException(
                                "Timed out after " + seconds + " waiting to " + what + "; last: "
                                        + lastFailure.getMessage(), lastFailure);
            }
            LockSupport.parkNanos(POLL_NANOS);
            if (Thread.interrupted()) {
                throw new FlinkRestException("Interrupted while waiting to " + what + ".");
            }
        }
    }

    /** Thrown by a probe to stop waiting at once: the condition can no longer come true. */
    public static final class Abort extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final RuntimeException reason;

        public Abort(RuntimeException reason) {
            super(reason.getMessage(), reason, false, false);
            this.reason = reason;
        }
    }
}
