package io.onceflow.ops.reconcile;

import io.onceflow.ingest.TopicRange;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The comparison behind reconcile's table, on keys alone. */
class StoreCheckTest {

    @Test
    void everyExpectedKeyOnceIsExact() {
        StoreCheck check = StoreCheck.compare("s", Set.of("a", "b", "c"), Map.of("a", 1, "b", 1, "c", 1), 5);

        assertThat(check).isEqualTo(new StoreCheck("s", 3, 3, 0, 0, 0, List.of(), List.of(), List.of()));
        assertThat(check.exact()).isTrue();
    }

    @Test
    void missingKeysAreLostAndNamed() {
        StoreCheck check = StoreCheck.compare("s", Set.of("a", "b", "c"), Map.of("b", 1), 5);

        assertThat(check.present()).isEqualTo(1);
        assertThat(check.lost()).isEqualTo(2);
        assertThat(check.lostExamples()).containsExactly("a", "c");
        assertThat(check.exact()).isFalse();
    }

    @Test
    void keysFoundTwiceAreDuplicatedWithTheirCount() {
        StoreCheck check = StoreCheck.compare("s", Set.of("a", "b"), Map.of("a", 1, "b", 3), 5);

        assertThat(check.present()).isEqualTo(2);
        assertThat(check.lost()).isZero();
        assertThat(check.duplicated()).isEqualTo(1);
        assertThat(check.duplicatedExamples()).containsExactly("b (x3)");
        assertThat(check.exact()).isFalse();
    }

    @Test
    void keysNobodyExpectedAreUnexpectedButNotALoss() {
        StoreCheck check = StoreCheck.compare("s", Set.of("a"), Map.of("a", 1, "z", 1), 5);

        assertThat(check.unexpected()).isEqualTo(1);
        assertThat(check.unexpectedExamples()).containsExactly("z");
        assertThat(check.present()).isEqualTo(1);
        assertThat(check.exact()).isTrue();
    }

    @Test
    void examplesAreTheSmallestKeysUpToTheLimit() {
        Map<String, Integer> found = new HashMap<>();
        StoreCheck check = StoreCheck.compare("s", Set.of("k5", "k1", "k4", "k2", "k3"), found, 2);

        assertThat(check.lost()).isEqualTo(5);
        assertThat(check.lostExamples()).containsExactly("k1", "k2");
    }

    @Test
    void aReportIsExactOnlyWhenEveryStoreAndEveryMinuteIs() {
        StoreCheck exact = StoreCheck.compare("a", Set.of("x"), Map.of("x", 1), 1);
        StoreCheck lossy = StoreCheck.compare("b", Set.of("x"), Map.of(), 1);
        var agreeing = new ReconcileReport.MinuteCheck(2, 2, 0, List.of());
        var differing = new ReconcileReport.MinuteCheck(2, 1, 1, List.of("click@..."));

        assertThat(new ReconcileReport("j", "r", 1, List.of(exact), agreeing, List.of()).exact()).isTrue();
        assertThat(new ReconcileReport("j", "r", 1, List.of(exact, lossy), agreeing, List.of()).exact()).isFalse();
        assertThat(new ReconcileReport("j", "r", 1, List.of(exact), differing, List.of()).exact()).isFalse();
        assertThat(new ReconcileReport("j", "r", 1, List.of(exact, lossy), null, List.of()).lost()).isEqualTo(1);
    }

    @Test
    void aRangeHoldsTheOffsetsOfItsPartitionsOnly() {
        TopicRange range = new TopicRange("t", List.of(new TopicRange.Partition(0, 10, 20), new TopicRange.Partition(1, 5, 5)));

        assertThat(range.contains("t", 0, 10)).isTrue();
        assertThat(range.contains("t", 0, 19)).isTrue();
        assertThat(range.contains("t", 0, 20)).isFalse();
        assertThat(range.contains("t", 0, 9)).isFalse();
        assertThat(range.contains("t", 1, 5)).isFalse();
        assertThat(range.contains("other", 0, 15)).isFalse();
        assertThat(range.size()).isEqualTo(10);
        assertThat(PostgresChecks.positionFilter(range, "p", "o")).isEqualTo("((p = 0 AND o >= 10 AND o < 20))");
    }

    @Test
    void eventIdsComeFromJsonObjectsOnly() {
        assertThat(AnalyticsReconciler.eventId("{\"eventId\":\"e1\",\"type\":\"click\"}".getBytes())).isEqualTo("e1");
        assertThat(AnalyticsReconciler.eventId("not json".getBytes())).isNull();
        assertThat(AnalyticsReconciler.eventId("{\"eventId\":7}".getBytes())).isNull();
        assertThat(AnalyticsReconciler.eventId(null)).isNull();
    }

    @Test
    void aRangeTravelsToTheReplayJobAsText() {
        TopicRange range = new TopicRange("payments.results", List.of(new TopicRange.Partition(0, 120, 480), new TopicRange.Partition(1, 96, 410)));

        assertThat(range.encode()).isEqualTo("payments.results:0=120-480,1=96-410");
        assertThat(TopicRange.decode(range.encode())).isEqualTo(range);
        assertThat(TopicRange.decode("t:")).isEqualTo(new TopicRange("t", List.of()));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TopicRange.decode("t:0=5"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("topic:partition=start-end");
    }

    @Test
    void theProgressLineSaysDoneOfTotalRateAndTimeLeft() {
        assertThat(io.onceflow.ops.jobs.JobOperations.progressLine(1200, 5000, java.time.Duration.ofSeconds(4)))
                .isEqualTo("1200 of 5000 records (24%), 300 records/s, 13 s left");
        assertThat(io.onceflow.ops.jobs.JobOperations.progressLine(0, 5000, java.time.Duration.ofSeconds(4)))
                .isEqualTo("0 of 5000 records (0%), 0 records/s, ? left");
        assertThat(io.onceflow.ops.jobs.JobOperations.progressLine(5000, 5000, java.time.Duration.ofSeconds(10)))
                .isEqualTo("5000 of 5000 records (100%), 500 records/s, 0 s left");
    }
}
