package io.onceflow.bench;

import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class MachineTest {

    @Test
    void stolenAndBusyTimeComeFromTheDifferenceOfTwoProcStatLines() {
        // cpu user nice system idle iowait irq softirq steal guest guest_nice
        Machine.Sample start = Machine.Sample.of(0, 0, "cpu  1000 0 200 5000 100 0 50 10 400 0", "0 0 0");
        Machine.Sample end = Machine.Sample.of(0, 0, "cpu  1600 0 300 5300 100 0 70 90 900 0", "0 0 0");

        // 1,100 ticks passed: 600 user, 100 system, 300 idle, 20 softirq, 80 steal; guest (inside user) not again
        assertThat(end.machineStolenShareSince(start)).isCloseTo(80 / 1100.0, within(1e-9));
        assertThat(end.machineBusyCoresSince(start)).isCloseTo(Machine.cores() * 800 / 1100.0, within(1e-9));
    }

    @Test
    void withoutAStealColumnNothingIsStolen() {
        Machine.Sample start = Machine.Sample.of(0, 0, "cpu  100 0 100 800 0 0 0", "0 0 0");
        Machine.Sample end = Machine.Sample.of(0, 0, "cpu  200 0 200 1600 0 0 0", "0 0 0");

        assertThat(end.machineStolenShareSince(start)).isZero();
    }

    @Test
    void aSampleThatCouldNotReadProcStatGivesNoShare() {
        Machine.Sample unknown = new Machine.Sample(0, 0, -1, -1, -1, "0 0 0", Double.NaN, Double.NaN);
        Machine.Sample end = Machine.Sample.of(0, 0, "cpu  200 0 200 1600 0 0 0 5", "0 0 0");

        assertThat(end.machineStolenShareSince(unknown)).isNaN();
        assertThat(end.machineBusyCoresSince(unknown)).isNaN();
    }

    @Test
    void theReferenceWorkAndTheMemoryWalkAreTimedOnlyBeforeARow() {
        Machine.Sample plain = Machine.Sample.now();
        assertThat(plain.referenceWorkMillis()).isNaN();
        assertThat(plain.referenceMemoryNanos()).isNaN();

        Machine.Sample beforeRow = Machine.Sample.beforeRow();
        assertThat(beforeRow.referenceWorkMillis()).isPositive().isLessThan(60_000);
        // a load takes at least a fraction of a nanosecond and, on any machine this runs on, well under 10 µs
        assertThat(beforeRow.referenceMemoryNanos()).isGreaterThan(0.1).isLessThan(10_000);
    }

    @Test
    void theMemoryWalkIsOneCycleThroughEveryIndex() {
        int n = 10_000;
        int[] next = Machine.randomCycle(n, 7);

        boolean[] seen = new boolean[n];
        int position = 0;
        for (int step = 0; step < n; step++) {
            assertThat(seen[position]).as("index %d visited twice after %d steps", position, step).isFalse();
            seen[position] = true;
            position = next[position];
        }
        assertThat(position).as("back at the start after n steps").isZero();
        // in random order: a step to the next index up is as rare as any other (about once in n)
        long stepsToTheNextIndex = IntStream.range(0, n).filter(i -> next[i] == i + 1).count();
        assertThat(stepsToTheNextIndex).isLessThan(10);
        assertThat(next).isNotEqualTo(Machine.randomCycle(n, 8));
    }
}
