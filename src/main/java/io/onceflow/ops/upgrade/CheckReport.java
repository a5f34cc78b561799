package io.onceflow.ops.upgrade;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The state check's verdict on one savepoint and one new job version: every problem is a sentence
 * naming the operator (by uid) and the state.
 *
 * @param savepoint the savepoint checked
 * @param operatorsWithState stateful operators of the savepoint
 * @param states states checked, across those operators
 * @param problems what refuses the upgrade
 * @param dropped state of operators gone from the new graph, dropped because it was allowed
 * @param migrations states whose type changed compatibly (read with the new schema at restore)
 */
public record CheckReport(
        String savepoint,
        int operatorsWithState,
        int states,
        List<String> problems,
        List<String> dropped,
        List<String> migrations) {

    public CheckReport {
        problems = List.copyOf(problems);
        dropped = List.copyOf(dropped);
        migrations = List.copyOf(migrations);
    }

    public boolean passed() {
        return problems.isEmpty();
    }

    /** One sentence: the verdict, and the problems when there are any. */
    public String summary() {
        if (passed()) {
            StringBuilder text = new StringBuilder(
                    "every one of the savepoint's " + operatorsWithState + " stateful operators is in the new job and its "
                            + states + " states are compatible");
            if (!migrations.isEmpty()) {
                text.append(" (").append(String.join("; ", migrations)).append(')');
            }
            if (!dropped.isEmpty()) {
                text.append("; dropped as allowed: ").append(String.join("; ", dropped));
            }
            return text.toString();
        }
        return problems.size() + (problems.size() == 1 ? " problem: " : " problems: ") + String.join("; ", problems);
    }

    /** The report for humans, one line each. */
    public List<String> lines() {
        List<String> lines = new ArrayList<>();
        lines.add((passed() ? "PASSED" : "REFUSED") + ": savepoint " + savepoint + ", " + operatorsWithState
                + " stateful operators, " + states + " states.");
        problems.forEach(p -> lines.add("  problem: " + p));
        migrations.forEach(m -> lines.add("  migrates: " + m));
        dropped.forEach(d -> lines.add("  dropped: " + d));
        return lines;
    }

    static String joinNames(List<String> names) {
        return names.stream().map(n -> "'" + n + "'").collect(Collectors.joining(", "));
    }
}
