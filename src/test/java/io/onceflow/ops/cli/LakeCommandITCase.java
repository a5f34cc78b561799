package io.onceflow.ops.cli;

import io.onceflow.config.Secret;
import io.onceflow.lake.AnalyticsEvent;
import io.onceflow.lake.LakeCatalog;
import io.onceflow.lake.LakeSettings;
import io.onceflow.lake.LakeSinks;
import io.onceflow.lake.LakeTables;
import io.onceflow.postgres.PostgresEndpoint;
import io.onceflow.testing.TestServices;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.data.RowData;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code onceflow lake stats|maintain} against a real catalog database and warehouse. */
class LakeCommandITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(() -> {
                Configuration cluster = new Configuration();
                cluster.set(CoreOptions.TMP_DIRS, TestServices.newDirectory("tmp").toString());
                return new MiniClusterResourceConfiguration.Builder()
                        .setNumberTaskManagers(1)
                        .setNumberSlotsPerTaskManager(2)
                        .setConfiguration(cluster)
                        .build();
            });

    @Test
    void statsAndMaintainWorkOnTheTablesAJobWrote() throws Exception {
        TestServices.PostgresDatabase db = TestServices.newDatabase("lake_cli");
        Path warehouse = TestServices.newDirectory("wh");
        Path config = TestServices.newDirectory("cfg").resolve("job.yaml");
        Files.writeString(config, """
                job: {name: anything, other: sections are ignored}
                postgres:
                  url: %s
                  user: %s
                lake:
                  warehouse: %s
                """.formatted(db.jdbcUrl(), db.user(), warehouse.toUri()));
        LakeSettings settings = LakeSettings.defaults().withWarehouse(warehouse.toUri().toString());
        try (LakeCatalog lake = LakeCatalog.open(settings, new PostgresEndpoint(db.jdbcUrl(), db.user(), Secret.none()))) {
            Table events = lake.ensureTable(LakeTables.analyticsEvents(settings));
            AnalyticsEvent.Rows rows = AnalyticsEvent.rows(events.schema());
            // Three small batch jobs, three commits, each with a file per (day, type) partition.
            for (int batch = 0; batch < 3; batch++) {
                StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
                env.setParallelism(1);
                env.setRuntimeMode(org.apache.flink.api.common.RuntimeExecutionMode.BATCH);
                TypeInformation<RowData> type = LakeSinks.rowType(events.schema());
                int offset = batch * 10;
                LakeSinks.append(
                        env.fromSequence(offset, offset + 9).map(n -> rows.toRow(event(n))).returns(type),
                        lake, LakeTables.ANALYTICS_EVENTS, "cli-test-events");
                env.execute("events batch " + batch);
            }
        }

        CliRun stats = CliRun.of("lake", "stats", "--config", config.toString(), "analytics.events");
        assertThat(stats.exitCode()).as(stats.err()).isZero();
        assertThat(stats.out())
                .contains("table             onceflow.analytics.events")
                .contains("snapshots         3")
                .contains("rows              30")
                .contains("data files        6")
                .contains("partitions        2")
                .contains("occurred_at_day=2025-06-01/type=click")
                .contains("occurred_at_day=2025-06-01/type=page_view");

        CliRun maintain = CliRun.of(
                "lake", "maintain", "--config", config.toString(), "--expire-older-than", "0s", "--retain-last", "1",
                "analytics.events");
        assertThat(maintain.exitCode()).as(maintain.err()).isZero();
        assertThat(maintain.outLines()).hasSize(3);
        assertThat(maintain.outLines().get(0)).isEqualTo("compaction: 6 files rewritten into 2");
        // The three appends' manifests (their files now marked deleted) and the compaction's,
        // into one for the one day.
        assertThat(maintain.outLines().get(1)).isEqualTo("manifests: 4 rewritten into 1");
        // Everything is older than 0s, but the sink's last commit and what follows it stay.
        assertThat(maintain.outLines().get(2)).startsWith("expiry: 2 of 5 snapshots expired");

        CliRun after = CliRun.of("lake", "stats", "--config", config.toString(), "analytics.events");
        assertThat(after.out()).contains("snapshots         3").contains("rows              30").contains("data files        2");
    }

    @Test
    void aMissingTableOrABadSettingIsOneSentence() throws Exception {
        TestServices.PostgresDatabase db = TestServices.newDatabase("lake_cli_bad");
        Path config = TestServices.newDirectory("cfg").resolve("job.yaml");
        Files.writeString(config, "postgres: {url: %s, user: %s}\nlake: {warehouse: %s}\n"
                .formatted(db.jdbcUrl(), db.user(), TestServices.newDirectory("wh").toUri()));

        CliRun missing = CliRun.of("lake", "stats", "--config", config.toString(), "payments.results");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.errLines()).containsExactly(
                "Table payments.results does not exist in lake catalog onceflow.");

        CliRun bad = CliRun.of(
                "lake", "stats", "--config", config.toString(), "--set", "lake.target-file-size=huge", "payments.results");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.errLines()).singleElement().asString()
                .contains("'huge', which is not a size such as 128mb")
                .endsWith("see 'onceflow lake stats --help'.");
    }

    /** Events of one day, half clicks and half page views. */
    private static AnalyticsEvent event(long n) {
        Instant occurred = Instant.parse("2025-06-01T12:00:00Z").plusSeconds(n);
        return AnalyticsEvent.builder("e-" + n, n % 2 == 0 ? "click" : "page_view", occurred, occurred.plusSeconds(1))
                .userId("user-" + n % 4)
                .build();
    }
}
