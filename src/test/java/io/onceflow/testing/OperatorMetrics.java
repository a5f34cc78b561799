package io.onceflow.testing;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.metrics.groups.InternalOperatorMetricGroup;
import org.apache.flink.runtime.metrics.groups.UnregisteredMetricGroups;
import org.apache.flink.runtime.metrics.util.InterceptingOperatorMetricGroup;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;

/**
 * The metrics an operator registers in a test harness. Flink's harnesses register into groups
 * that drop every metric; a harness built on {@link #environment()} keeps them, so a test can
 * read the counters the operator really incremented.
 */
public final class OperatorMetrics implements AutoCloseable {

    private final InterceptingOperatorMetricGroup operatorGroup =
            new InterceptingOperatorMetricGroup();
    private final MockEnvironment environment;

    public OperatorMetrics() {
        this.environment =
                new MockEnvironmentBuilder()
                        .setMetricGroup(
                                new UnregisteredMetricGroups.UnregisteredTaskMetricGroup() {
                                    @Override
                                    public InternalOperatorMetricGroup getOrAddOperator(
                                            OperatorID operatorId, String name) {
                                        return operatorGroup;
                                    }
                                })
                        .build();
    }

    /** The environment to give the harness, which leaves closing it to {@link #close()}. */
    public MockEnvironment environment() {
        return environment;
    }

    /** The count of counter {@code name}, failing when the operator registered no such counter. */
    public long count(String name) {
        Metric metric = operatorGroup.get(name);
        if (!(metric instanceof Counter counter)) {
            throw new AssertionError("The operator registered no counter named " + name);
        }
        return counter.getCount();
    }

    @Override
    public void close() throws Exception {
        environment.close();
    }
}
