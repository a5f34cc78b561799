package io.onceflow.ops.reconcile;

import java.io.PrintWriter;
import java.util.List;

/**
 * What {@code reconcile} found for one job and range: a {@link StoreCheck} per store, the minute
 * aggregates recomputed (analytics), and the PostgreSQL prepared transactions still open.
 *
 * @param minutes null when the job has no aggregates
 * @param preparedTransactions {@code gid (prepared at)} of each row of {@code pg_prepared_xacts}
 *     in the job's database; a running job has one per sink subtask while a checkpoint completes,
 *     a stopped job none
 */
public record ReconcileReport(
        String job,
        String range,
        long sourceRecords,
        List<StoreCheck> stores,
        MinuteCheck minutes,
        List<String> preparedTransactions) {

    /** {@code analytics_minute} against a recomputation from the lake's non-late rows of the same minutes. */
    public record MinuteCheck(long recomputed, long matching, long differing, List<String> examples) {}

    public ReconcileReport {
        stores = List.copyOf(stores);
        preparedTransactions = List.copyOf(preparedTransactions);
    }

    /** Nothing lost or duplicated in any store, and every recomputed minute agrees. */
    public boolean exact() {
        return stores.stream().allMatch(StoreCheck::exact) && (minutes == null || minutes.differing() == 0);
    }

    public long lost() {
        return stores.stream().mapToLong(StoreCheck::lost).sum();
    }

    public long duplicated() {
        return stores.stream().mapToLong(StoreCheck::duplicated).sum();
    }

    public void print(PrintWriter out) {
        out.printf("reconcile %s, %s (%d source records)%n", job, range, sourceRecords);
        out.printf("%-34s %9s %9s %7s %10s %10s%n", "STORE", "EXPECTED", "PRESENT", "LOST", "DUPLICATED", "UNEXPECTED");
        for (StoreCheck s : stores) {
            out.printf("%-34s %9d %9d %7d %10d %10d%n", s.store(), s.expected(), s.present(), s.lost(), s.duplicated(), s.unexpected());
        }
        for (StoreCheck s : stores) {
            examples(out, s.store(), "lost", s.lostExamples());
            examples(out, s.store(), "duplicated", s.duplicatedExamples());
            examples(out, s.store(), "unexpected", s.unexpectedExamples());
        }
        if (minutes != null) {
            out.printf("analytics_minute: %d (type, minute) rows recomputed from the lake, %d equal, %d differ%n",
                    minutes.recomputed(), minutes.matching(), minutes.differing());
            examples(out, "analytics_minute", "differing", minutes.examples());
        }
        out.printf("PostgreSQL prepared transactions open: %d%n", preparedTransactions.size());
        preparedTransactions.forEach(gid -> out.println("  " + gid));
        out.flush();
    }

    private static void examples(PrintWriter out, String store, String kind, List<String> keys) {
        if (!keys.isEmpty()) {
            out.printf("  %s %s: %s%n", store, kind, String.join(", ", keys));
        }
    }
}
