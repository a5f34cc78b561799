package io.onceflow.testing;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which injected faults have fired, per test run: kept outside the job, because the job's own
 * state is rolled back by the very failures the faults cause.
 */
public final class Faults {

    private static final Map<String, Set<String>> FIRED = new ConcurrentHashMap<>();

    private Faults() {}

    /** Marks {@code fault} fired in {@code run}; true only the first time. */
    public static boolean fire(String run, String fault) {
        return FIRED.computeIfAbsent(run, r -> ConcurrentHashMap.newKeySet()).add(fault);
    }

    public static Set<String> fired(String run) {
        return Set.copyOf(FIRED.getOrDefault(run, Set.of()));
    }
}
