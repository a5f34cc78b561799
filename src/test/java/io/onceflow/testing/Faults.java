package io.onceflow.testing;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Which injected faults have fired, per test run: kept outside the job, because the job's own
 * state is rolled back by the very failures the faults cause.
 */
public final class Faults {

    private static final Map<String, Set<String>> FIRED = new ConcurrentHashMap<>();
    private static final Map<String, List<Restore>> RESTORES = new ConcurrentHashMap<>();
    private static final Map<String, AtomicLong> PASSED = new ConcurrentHashMap<>();

    private Faults() {}

    /** Marks {@code fault} fired in {@code run}; true only the first time. */
    public static boolean fire(String run, String fault) {
        return FIRED.computeIfAbsent(run, r -> ConcurrentHashMap.newKeySet()).add(fault);
    }

    public static Set<String> fired(String run) {
        return Set.copyOf(FIRED.getOrDefault(run, Set.of()));
    }

    /** Counts one more record through a run's fault injection. */
    public static void pass(String run) {
        PASSED.computeIfAbsent(run, r -> new AtomicLong()).incrementAndGet();
    }

    /** Records through a run's fault injection so far, those a restart sent again included. */
    public static long passed(String run) {
        AtomicLong passed = PASSED.get(run);
        return passed == null ? 0 : passed.get();
    }

    /** Notes that a run's job restarted from {@code checkpointId}, now. */
    public static void restored(String run, long checkpointId) {
        RESTORES.computeIfAbsent(run, r -> new CopyOnWriteArrayList<>())
                .add(new Restore(checkpointId, System.currentTimeMillis()));
    }

    /** Every restart of a run's job, in order. */
    public static List<Restore> restores(String run) {
        return List.copyOf(RESTORES.getOrDefault(run, List.of()));
    }

    /**
     * A restart from a checkpoint: every checkpoint triggered before {@code atMillis} with a
     * higher id than {@code checkpointId} was abandoned by it, whatever it had prepared.
     */
    public record Restore(long checkpointId, long atMillis) {
        public boolean abandons(long checkpoint, long triggeredAtMillis) {
            return checkpoint > checkpointId && triggeredAtMillis <= atMillis;
        }
    }
}
