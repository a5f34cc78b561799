package io.onceflow.testing;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.testutils.InMemoryReporter;

import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Counters of a job as an {@link InMemoryReporter} created with retained metrics saw them. */
public final class RetainedMetrics {

    private RetainedMetrics() {}

    /** A counter summed over every subtask of every attempt of the job (metrics are retained). */
    public static long counterOverAllAttempts(InMemoryReporter reporter, String jobName, String counter) {
        return counterOverAllAttempts(reporter, jobName, counter, group -> true);
    }

    /** Like {@link #counterOverAllAttempts(InMemoryReporter, String, String)}, in the groups that match. */
    public static long counterOverAllAttempts(
            InMemoryReporter reporter, String jobName, String counter, Predicate<MetricGroup> groups) {
        return reporter.getMetricsByGroup().entrySet().stream()
                .filter(group -> List.of(group.getKey().getScopeComponents()).contains(jobName))
                .filter(group -> groups.test(group.getKey()))
                .map(Map.Entry::getValue)
                .map(metrics -> metrics.get(counter))
                .filter(metric -> metric instanceof Counter)
                .mapToLong(metric -> ((Counter) metric).getCount())
                .sum();
    }
}
