package io.onceflow.bench;

import org.junit.jupiter.api.Test;

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
        Machine.Sample unknown = new Machine.Sample(0, 0, -1, -1, -1, "0 0 0", Double.NaN);
        Machine.Sample end = Machine.Sample.of(0, 0, "cpu  200 0 200 1600 0 0 0 5", "0 0 0");

        assertThat(end.machineStolenShareSince(unknown)).isNaN();
        assertThat(end.machineBusyCoresSince(unknown)).isNaN();
    }

    @Test
    void theReferenceWorkIsTimedOnlyBeforeARow() {
        assertThat(Machine.Sample.now().referenceWorkMillis()).isNaN();
        assertThat(Machine.Sample.beforeRow().referenceWorkMillis()).isPositive().isLessThan(60_000);
    }
}
