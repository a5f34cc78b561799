package io.onceflow.ops.reconcile;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One store held against what it must hold, by key: {@code expected} distinct keys, {@code
 * present} of them found, {@code lost} not found, {@code duplicated} found more than once, {@code
 * unexpected} found but not expected. Keys are what identifies a record in that store (a source
 * position, a payment id, an event id), as text; examples are the smallest keys of each kind.
 */
public record StoreCheck(
        String store,
        long expected,
        long present,
        long lost,
        long duplicated,
        long unexpected,
        List<String> lostExamples,
        List<String> duplicatedExamples,
        List<String> unexpectedExamples) {

    public StoreCheck {
        lostExamples = List.copyOf(lostExamples);
        duplicatedExamples = List.copyOf(duplicatedExamples);
        unexpectedExamples = List.copyOf(unexpectedExamples);
    }

    /**
     * @param found each key the store holds, with how many times it holds it
     * @param examples at most this many example keys per kind of mismatch
     */
    public static StoreCheck compare(String store, Set<String> expected, Map<String, Integer> found, int examples) {
        long present = 0;
        TreeSet<String> lost = new TreeSet<>();
        TreeSet<String> duplicated = new TreeSet<>();
        TreeSet<String> unexpected = new TreeSet<>();
        for (String key : expected) {
            int n = found.getOrDefault(key, 0);
            if (n == 0) {
                lost.add(key);
            } else {
                present++;
            }
        }
        found.forEach((key, n) -> {
            if (n > 1) {
                duplicated.add(key + " (x" + n + ")");
            }
            if (n > 0 && !expected.contains(key)) {
                unexpected.add(key);
            }
        });
        return new StoreCheck(store, expected.size(), present, lost.size(), duplicated.size(), unexpected.size(),
                first(lost, examples), first(duplicated, examples), first(unexpected, examples));
    }

    private static List<String> first(TreeSet<String> keys, int n) {
        List<String> out = new ArrayList<>();
        for (String key : keys) {
            if (out.size() >= n) {
                break;
            }
            out.add(key);
        }
        return out;
    }

    /** Nothing lost, nothing duplicated: what exactly-once promises. */
    public boolean exact() {
        return lost == 0 && duplicated == 0;
    }
}
