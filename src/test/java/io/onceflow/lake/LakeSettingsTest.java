package io.onceflow.lake;

import io.onceflow.config.ConfigException;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LakeSettingsTest {

    private static final String POSTGRES = """
            job: {name: ignored}
            postgres:
              url: jdbc:postgresql://127.0.0.1:5432/onceflow
              user: onceflow
              password-env: ONCEFLOW_POSTGRES_PASSWORD
            """;

    @Test
    void aJobWithoutALakeSectionGetsALocalLakeCatalogedInItsOwnDatabase() {
        LakeConfig config = LakeConfig.parse(POSTGRES, "payments.yaml", Map.of());

        LakeSettings lake = config.lake();
        assertThat(lake.warehouse()).isEqualTo("file:///var/tmp/onceflow/lake");
        assertThat(lake.name()).isEqualTo("onceflow");
        assertThat(lake.targetFileSize()).isEqualTo(128L * 1024 * 1024);
        assertThat(lake.commitRetries()).isEqualTo(10);
        assertThat(lake.snapshotMaxAge()).isEqualTo(Duration.ofHours(1));
        assertThat(config.catalogEndpoint().jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/onceflow");
        // A reference only: the variable is not set here and nothing has read it.
        assertThat(config.catalogEndpoint().password().toString()).contains("ONCEFLOW_POSTGRES_PASSWORD");
    }

    @Test
    void everySettingCanBeSetAndOverridden() {
        LakeConfig config = LakeConfig.parse(POSTGRES + """
                lake:
                  warehouse: s3a://bucket/lake
                  name: prod
                  target-file-size: 64mb
                  commit-retries: 3
                  commit-retry-max-wait: 5s
                  snapshot-max-age: 2d
                  snapshots-to-keep: 10
                  catalog-postgres: {url: "jdbc:postgresql://catalog:5432/lake", user: lake}
                  catalog-properties: {io-impl: org.apache.iceberg.aws.s3.S3FileIO}
                """, "x.yaml", Map.of("lake.target-file-size", "1gb"));

        LakeSettings lake = config.lake();
        assertThat(lake.warehouse()).isEqualTo("s3a://bucket/lake");
        assertThat(lake.name()).isEqualTo("prod");
        assertThat(lake.targetFileSize()).isEqualTo(1L << 30);
        assertThat(lake.commitRetries()).isEqualTo(3);
        assertThat(lake.commitRetryMaxWait()).isEqualTo(Duration.ofSeconds(5));
        assertThat(lake.snapshotMaxAge()).isEqualTo(Duration.ofDays(2));
        assertThat(lake.snapshotsToKeep()).isEqualTo(10);
        assertThat(lake.catalogProperties()).containsEntry("io-impl", "org.apache.iceberg.aws.s3.S3FileIO");
        assertThat(config.catalogEndpoint().jdbcUrl()).isEqualTo("jdbc:postgresql://catalog:5432/lake");
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', value = {
        "warehouse: 'not a uri'            | Setting 'lake.warehouse' is not a URI",
        "warehouse: relative/path          | Setting 'lake.warehouse' must be a URI with a scheme and a path",
        "warehouse: 'file://host/x'        | Setting 'lake.warehouse' must name an absolute local path",
        "name: 'two words'                 | Setting 'lake.name' may hold only letters",
        "target-file-size: 12 parsecs      | which is not a size such as 128mb",
        "target-file-size: 1kb             | Setting 'lake.target-file-size' must be at least 1mb",
        "commit-retries: -1                | Setting 'lake.commit-retries' must not be negative",
        "snapshots-to-keep: 0              | Setting 'lake.snapshots-to-keep' must be at least 1",
        "snapshot-max-age: 10s             | Setting 'lake.snapshot-max-age' must be at least 1m",
        "snapshot-max-age: soon            | which is not a duration",
        "'catalog-properties': {jdbc.password: x} | must not set 'jdbc.password'",
        "wharehouse: file:///x             | has an unknown setting 'lake.wharehouse'",
    })
    void aBadSettingIsRefusedInOneSentence(String setting, String expected) {
        assertThatThrownBy(() -> LakeConfig.parse(POSTGRES + "lake:\n  " + setting + "\n", "x.yaml", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(expected)
                .satisfies(e -> LakeCatalogITCase.assertOneSentence(e.getMessage()));
    }

    @Test
    void withoutAnyCatalogDatabaseTheErrorSaysWhatToSet() {
        assertThatThrownBy(() -> LakeConfig.parse("lake: {}\n", "x.yaml", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("x.yaml: Setting 'postgres' is required.");
        assertThatThrownBy(() -> LakeConfig.parse(POSTGRES, "x.yaml", Map.of("job.name", "x")))
                .hasMessage("Only postgres.* and lake.* settings apply to the lake, not 'job.name'.");
    }
}
