package io.onceflow.bench;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ReportTest {

    private static Report.Row row(String job, String variant, double rate, boolean complete) {
        return new Report.Row(job, variant, 40_000, 4.5, rate, 10, 500, 2, 0, 80, 150, JobRuns.Checkpoints.NONE,
                "1.0 1.0 1.0", "1.0 1.0 1.0", "test", complete);
    }

    /** The four runs of a job in the bench's order: exactly-once, at-least-once twice, exactly-once. */
    private static void inTurn(Report report, String job, double exactlyOnce, double atLeastOnce,
            double atLeastOnceAgain, double exactlyOnceAgain) {
        report.rows.add(row(job, "exactly-once", exactlyOnce, true));
        report.rows.add(row(job, "at-least-once", atLeastOnce, true));
        report.rows.add(row(job, Report.repeat("at-least-once"), atLeastOnceAgain, true));
        report.rows.add(row(job, Report.repeat("exactly-once"), exactlyOnceAgain, true));
    }

    private static void assertTarget(Report report, String what, String measured, Boolean met) {
        Report.Target target = target(report, what);
        assertThat(target.measured()).as(what).isEqualTo(measured);
        assertThat(target.met()).as(what).isEqualTo(met);
    }

    private static Report.Target target(Report report, String what) {
        return report.targets().stream().filter(t -> t.what().equals(what)).findFirst().orElseThrow();
    }

    @Test
    void aVariantsRateIsTheMeanOfItsRunAndItsRepeat() {
        Report report = new Report();
        inTurn(report, "payments", 2_000, 3_000, 3_400, 3_000);
        report.rows.add(row("payments", "exactly-once, full checkpoints", 9_000, true));

        assertThat(report.rate("payments", "exactly-once")).isEqualTo(2_500);
        assertThat(report.rate("payments", "at-least-once")).isEqualTo(3_200);
        assertThat(target(report, "payments job, exactly-once, gateway at zero latency").measured())
                .isEqualTo("2,500 rec/s (mean of 2 runs)");
        // the two exactly-once runs lie 40% apart: more than the 10% the target allows
        assertTarget(report, "payments: price of exactly-once vs at-least-once",
                "21.9% (2,500 vs 3,200 rec/s, means of two runs each, which differ by up to 40%)", null);
    }

    @Test
    void runsThatAgreeWithinTenPercentGiveAVerdict() {
        Report report = new Report();
        inTurn(report, "payments", 2_700, 3_300, 3_500, 2_900);
        inTurn(report, "analytics", 7_600, 8_000, 8_200, 7_800);

        assertTarget(report, "payments: price of exactly-once vs at-least-once",
                "17.6% (2,800 vs 3,400 rec/s, means of two runs each, which differ by up to 7%)", false);
        assertTarget(report, "analytics: price of exactly-once vs at-least-once",
                "4.9% (7,700 vs 8,100 rec/s, means of two runs each, which differ by up to 3%)", true);
    }

    @Test
    void aRunThatDidNotDrainOrHasNoRateDoesNotCount() {
        Report report = new Report();
        report.rows.add(row("analytics", "exactly-once", 8_000, true));
        report.rows.add(row("analytics", "at-least-once", 8_400, true));
        report.rows.add(row("analytics", Report.repeat("at-least-once"), 100, false));
        report.rows.add(row("analytics", Report.repeat("exactly-once"), 7_800, true));

        assertThat(report.rate("analytics", "at-least-once")).isEqualTo(8_400);
        assertTarget(report, "analytics: price of exactly-once vs at-least-once",
                "6.0% (7,900 vs 8,400 rec/s)", true);

        // drained, but every output appeared in one step: no rate
        report.rows.add(row("payments", PeerWork.VARIANT, Double.NaN, true));
        report.rows.add(row("payments", Report.repeat(PeerWork.VARIANT), 9_000, true));
        assertThat(report.rate("payments", PeerWork.VARIANT)).isEqualTo(9_000);
    }

    @Test
    void exactlyOnceFasterThanAtLeastOnceWithinTheRunsSpreadMeetsTheTarget() {
        Report report = new Report();
        inTurn(report, "payments", 20_000, 19_600, 20_000, 20_500);

        assertTarget(report, "payments: price of exactly-once vs at-least-once",
                "-2.3% (20,250 vs 19,800 rec/s, means of two runs each, which differ by up to 2%)", true);
        assertThat(target(report, "analytics: price of exactly-once vs at-least-once").measured()).isEqualTo("not measured");
    }

    @Test
    void theJobAndItsOperatorsOnThePeersWorkAreEachComparedWithThePeer() {
        Report report = new Report();
        inTurn(report, "payments", 20_000, 20_000, 20_000, 22_000);
        report.rows.add(row("payments", SqlPeer.VARIANT, 42_000, true));
        report.rows.add(row("payments", PeerWork.VARIANT, 50_400, true));

        assertTarget(report, "payments job vs the Flink SQL peer",
                "0.50x (21,000 vs 42,000 rec/s)", false);
        assertTarget(report, "the job's operators on the peer's work vs the Flink SQL peer",
                "1.20x (50,400 vs 42,000 rec/s)", true);
        assertThat(report.markdown("chart.svg")).contains("| 1.20x |");

        report.rows.remove(report.rows.size() - 1);
        assertThat(target(report, "the job's operators on the peer's work vs the Flink SQL peer").met()).isNull();
    }

    @Test
    void aComparisonWithThePeerHasAVerdictOnlyWhereTheRunsSpreadCannotTurnItRound() {
        Report report = new Report();
        report.rows.add(row("payments", SqlPeer.VARIANT, 46_000, true));
        report.rows.add(row("payments", PeerWork.VARIANT, 52_000, true));
        report.rows.add(row("payments", Report.repeat(PeerWork.VARIANT), 48_000, true));
        report.rows.add(row("payments", Report.repeat(SqlPeer.VARIANT), 44_000, true));

        assertTarget(report, "the job's operators on the peer's work vs the Flink SQL peer",
                "1.11x (50,000 vs 45,000 rec/s, means of two runs each, which differ by up to 8%)", true);

        assertThat(Report.fasterVerdict(1.05, 0.08)).isNull();
        assertThat(Report.fasterVerdict(0.95, 0.08)).isNull();
        assertThat(Report.fasterVerdict(0.42, 0.08)).isFalse();
        assertThat(Report.fasterVerdict(1.01, 0)).isTrue();
        assertThat(Report.fasterVerdict(Double.NaN, 0)).isNull();
    }

    @Test
    void theThroughputTextGivesTheReadersBatchAsTheReaderUsesIt() {
        assertThat(new Report().markdown("chart.svg"))
                .contains("the broker holds a fetch until 256 KiB are visible or 100 ms passed");
    }

    @Test
    void aPriceTheSpreadCouldCarryAcrossTheLimitGetsNoVerdict() {
        assertThat(Report.priceVerdict(0.08, 0.06)).isNull();
        assertThat(Report.priceVerdict(0.13, 0.06)).isNull();
        assertThat(Report.priceVerdict(0.17, 0.06)).isFalse();
        assertThat(Report.priceVerdict(0.04, 0.06)).isTrue();
        assertThat(Report.priceVerdict(-0.20, 0.25)).isNull();
        assertThat(Report.priceVerdict(Double.NaN, 0)).isNull();
    }

    @Test
    void aLatencyRowSaysHowLongItsCheckpointsTook() {
        FixedRate.Latency latency = latency(1_000, new JobRuns.Checkpoints(60, 0, 290, 410, 1 << 20, 1 << 16, 1 << 18),
                List.of(stage("Authorize payments per customer", 280, 360, 30, 40, 190, 270, 60, 50)));
        Report report = new Report();
        report.latencies.add(latency);

        StringWriter printed = new StringWriter();
        Report.print(new PrintWriter(printed), latency);
        assertThat(printed.toString()).contains("p99 1,450 ms,").contains("checkpoints p50 290 ms, p99 410 ms;");
        assertThat(report.markdown("chart.svg")).contains("| 1,400 | 1,550 | 290 / 410 |")
                .contains("| n/a | 80.0 | 150.0 | 1.00 → 1.00 |");
    }

    @Test
    void aThroughputRowSaysHowFastTheMachineWasBeforeIt() {
        Report report = new Report();
        Report.Row row = row("payments", "exactly-once", 10_000, true);
        report.rows.add(row);

        StringWriter printed = new StringWriter();
        Report.printHeader(new PrintWriter(printed));
        Report.print(new PrintWriter(printed), row);
        assertThat(printed.toString()).contains("ref ms mem ns").contains(" 80.0  150.0 ");
        assertThat(report.markdown("chart.svg"))
                .contains("| CPU stolen | reference work ms | memory ns |")
                .contains("| 0.0% | 80.0 | 150.0 |");
    }

    @Test
    void checkpointStagesLineUpByNameWithAColumnPerLatencyRun() {
        Report report = new Report();
        report.latencies.add(latency(500, JobRuns.Checkpoints.NONE, List.of(
                stage("Source: requests", 20, 40, 15, 30, 0, 2, 5, 8),
                stage("Authorize payments per customer", 330, 450, 90, 120, 200, 280, 40, 50))));
        // A later run whose graph lacks a stage leaves that cell empty.
        report.latencies.add(latency(1_000, JobRuns.Checkpoints.NONE, List.of(
                stage("Authorize payments per customer", 280, 360, 30, 40, 190, 270, 60, 50))));

        StringBuilder md = new StringBuilder();
        report.stageTable(md);
        assertThat(md.toString())
                .contains("| stage | 500 ms, 1,000 req/s | 1000 ms, 1,000 req/s |\n| --- | ---: | ---: |\n")
                .contains("| Source: requests | 20 / 40 (15 / 30, 0 / 2, 5 / 8) |  |\n")
                .contains("| Authorize payments per customer | 330 / 450 (90 / 120, 200 / 280, 40 / 50) |"
                        + " 280 / 360 (30 / 40, 190 / 270, 60 / 50) |\n");
    }

    /** Times as p50, p90 pairs: ack, barrier, sync, async. */
    private static JobRuns.StageTimes stage(String name, double... p50p90) {
        return new JobRuns.StageTimes(name, new JobRuns.Percentiles(p50p90[0], p50p90[1]), new JobRuns.Percentiles(p50p90[2], p50p90[3]),
                new JobRuns.Percentiles(p50p90[4], p50p90[5]), new JobRuns.Percentiles(p50p90[6], p50p90[7]));
    }

    private static FixedRate.Latency latency(long interval, JobRuns.Checkpoints checkpoints, List<JobRuns.StageTimes> stages) {
        Machine.Sample sample = new Machine.Sample(0, 0, 100, 0, 200, "1.00 1.00 1.00", 80, 150);
        return new FixedRate.Latency(1_000, 1_000, interval, 50_000, 900, 1_450, 1_600, 1_700, sample, sample, true,
                new FixedRate.RowLatency(40_000, 880, 1_400, 1_550, 1_650), new JobRuns.CheckpointHistory(checkpoints, stages));
    }
}
