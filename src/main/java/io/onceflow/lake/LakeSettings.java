package io.onceflow.lake;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.onceflow.config.ConfigException;
import io.onceflow.config.PostgresSettings;
import io.onceflow.postgres.PostgresEndpoint;
import org.apache.flink.configuration.MemorySize;

import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static io.onceflow.config.ConfigException.check;

/**
 * The {@code lake} section of a job's YAML: where the Iceberg tables live and how they are
 * written. Every setting has a default, so {@code lake: {}} gives a local-disk lake whose catalog
 * is in the job's {@code postgres} database.
 *
 * <pre>{@code
 * lake:
 *   warehouse: s3a://onceflow-lake/warehouse   # default file:///var/tmp/onceflow/lake
 *   name: onceflow                             # catalog name, rows of iceberg_tables
 *   target-file-size: 128mb
 *   commit-retries: 10
 *   commit-retry-max-wait: 1m
 *   snapshot-max-age: 1h
 *   snapshots-to-keep: 100
 *   catalog-postgres:                          # default: the job's postgres section
 *     url: jdbc:postgresql://catalog-db:5432/lake
 *     user: lake
 *     password-env: LAKE_CATALOG_PASSWORD
 *   catalog-properties:                        # extra Iceberg catalog properties
 *     io-impl: org.apache.iceberg.aws.s3.S3FileIO
 * }</pre>
 *
 * @param warehouse root URI of the tables' files, any scheme Hadoop's FileSystem (or the {@code
 *     io-impl} in {@code catalog-properties}) serves: {@code file:///...} locally, {@code
 *     s3a://...} or {@code hdfs://...} in production. The job jar bundles Hadoop's client but not
 *     {@code hadoop-aws}: an {@code s3a} warehouse needs it (and its AWS SDK) on the cluster's
 *     classpath, and the Hadoop settings in a {@code core-site.xml} there.
 * @param name the Iceberg catalog name; several catalogs can share one PostgreSQL database
 * @param targetFileSize {@code write.target-file-size-bytes} of every table, and what compaction
 *     aims for; written as {@code 128mb}, {@code 512kb} or a number of bytes
 * @param commitRetries {@code commit.retry.num-retries}: how often a commit that lost a race with
 *     another writer (compaction, a second job) is retried before the checkpoint fails
 * @param commitRetryMaxWait {@code commit.retry.max-wait-ms}: longest backoff between retries
 * @param snapshotMaxAge snapshots older than this may be expired by maintenance
 *     ({@code history.expire.max-snapshot-age-ms}), 1 hour by default. Every commit rewrites the
 *     table's {@code metadata.json}, which lists every snapshot kept (about 830 bytes each), and a
 *     job at 1 s checkpoints commits 3,600 snapshots an hour: 7 days would be 500 MB per commit.
 *     The newest snapshot any Flink sink committed is never expired, however old ({@link
 *     LakeMaintenance#expireSnapshots}), so a job down for longer restores without a duplicate.
 *     This age bounds the rest, see {@link LakeSinks}: restoring a checkpoint or savepoint of
 *     a job whose last commit is not the newest Flink commit (a later run of the job or a
 *     replay committed since) and is older than this commits that checkpoint's rows again
 * @param snapshotsToKeep snapshots maintenance keeps whatever their age
 *     ({@code history.expire.min-snapshots-to-keep})
 * @param catalogPostgres the database of the JDBC catalog when it is not the job's own
 * @param catalogProperties extra Iceberg catalog properties (FileIO settings and the like); the
 *     JDBC connection and the warehouse are set by the settings above and cannot be given here
 */
public record LakeSettings(
        String warehouse,
        String name,
        @JsonDeserialize(using = LakeSettings.SizeDeserializer.class) Long targetFileSize,
        Integer commitRetries,
        Duration commitRetryMaxWait,
        Duration snapshotMaxAge,
        Integer snapshotsToKeep,
        PostgresSettings catalogPostgres,
        Map<String, String> catalogProperties)
        implements Serializable {

    public static final String DEFAULT_WAREHOUSE = "file:///var/tmp/onceflow/lake";
    public static final String DEFAULT_NAME = "onceflow";
    public static final long DEFAULT_TARGET_FILE_SIZE = 128L * 1024 * 1024;

    /** Catalog properties that the settings above own. */
    private static final Set<String> RESERVED_PROPERTIES =
            Set.of("uri", "warehouse", "jdbc.user", "jdbc.password", "catalog-impl", "type");

    public LakeSettings {
        warehouse = warehouse == null || warehouse.isBlank() ? DEFAULT_WAREHOUSE : warehouse.strip();
        checkWarehouse(warehouse);
        name = name == null || name.isBlank() ? DEFAULT_NAME : name;
        check(
                name.matches("[A-Za-z0-9_-]{1,64}"),
                "Setting 'lake.name' may hold only letters, digits, '_' and '-' (at most 64), but is '"
                        + name + "'.");
        targetFileSize = targetFileSize == null ? DEFAULT_TARGET_FILE_SIZE : targetFileSize;
        check(
                targetFileSize >= 1024 * 1024,
                "Setting 'lake.target-file-size' must be at least 1mb, but is " + targetFileSize
                        + " bytes.");
        commitRetries = commitRetries == null ? 10 : commitRetries;
        check(commitRetries >= 0, "Setting 'lake.commit-retries' must not be negative.");
        commitRetryMaxWait = commitRetryMaxWait == null ? Duration.ofMinutes(1) : commitRetryMaxWait;
        check(
                commitRetryMaxWait.toMillis() >= 100,
                "Setting 'lake.commit-retry-max-wait' must be at least 100ms.");
        snapshotMaxAge = snapshotMaxAge == null ? Duration.ofHours(1) : snapshotMaxAge;
        check(
                snapshotMaxAge.toMinutes() >= 1,
                "Setting 'lake.snapshot-max-age' must be at least 1m.");
        snapshotsToKeep = snapshotsToKeep == null ? 100 : snapshotsToKeep;
        check(snapshotsToKeep >= 1, "Setting 'lake.snapshots-to-keep' must be at least 1.");
        catalogProperties = catalogProperties == null ? Map.of() : Map.copyOf(catalogProperties);
        for (String key : catalogProperties.keySet()) {
            check(
                    !RESERVED_PROPERTIES.contains(key) && !key.startsWith("jdbc."),
                    "Setting 'lake.catalog-properties' must not set '" + key
                            + "'; the warehouse and the catalog database have settings of their own.");
        }
    }

    /** All defaults: a local-disk lake named {@value #DEFAULT_NAME}. */
    public static LakeSettings defaults() {
        return new LakeSettings(null, null, null, null, null, null, null, null, null);
    }

    /** The same settings with another warehouse. */
    public LakeSettings withWarehouse(String newWarehouse) {
        return new LakeSettings(
                newWarehouse, name, targetFileSize, commitRetries, commitRetryMaxWait,
                snapshotMaxAge, snapshotsToKeep, catalogPostgres, catalogProperties);
    }

    /**
     * The database of the JDBC catalog: {@code catalog-postgres} when set, else the job's own.
     * Nothing is read here; the password stays a reference until a catalog is opened.
     */
    public PostgresEndpoint catalogEndpoint(PostgresSettings jobPostgres) {
        PostgresSettings settings = catalogPostgres != null ? catalogPostgres : jobPostgres;
        if (settings == null) {
            throw new ConfigException(
                    "Section 'lake' needs a catalog database: set 'lake.catalog-postgres' or the job's 'postgres' section.");
        }
        return settings.endpoint();
    }

    private static void checkWarehouse(String warehouse) {
        URI uri;
        try {
            uri = new URI(warehouse);
        } catch (URISyntaxException e) {
            throw new ConfigException(
                    "Setting 'lake.warehouse' is not a URI ('" + warehouse + "'): " + e.getReason() + ".");
        }
        check(
                uri.getScheme() != null && uri.getPath() != null && !uri.getPath().isEmpty(),
                "Setting 'lake.warehouse' must be a URI with a scheme and a path, such as file:///var/lake or s3a://bucket/lake, but is '"
                        + warehouse + "'.");
        check(
                !uri.getScheme().equals("file") || (uri.getPath().startsWith("/") && uri.getAuthority() == null),
                "Setting 'lake.warehouse' must name an absolute local path as file:///path, but is '"
                        + warehouse + "'.");
    }

    /** Sizes as {@code 128mb}, {@code 512kb}, {@code 1gb} or plain bytes (Flink's MemorySize). */
    static final class SizeDeserializer extends JsonDeserializer<Long> {
        @Override
        public Long deserialize(JsonParser parser, DeserializationContext context) throws IOException {
            String text = parser.getValueAsString();
            try {
                return MemorySize.parse(text.strip().toLowerCase(Locale.ROOT)).getBytes();
            } catch (IllegalArgumentException | NullPointerException e) {
                throw new ConfigException(
                        "setting '" + parser.getParsingContext().getCurrentName() + "' has the value '"
                                + text + "', which is not a size such as 128mb, 512kb or 1gb.");
            }
        }
    }
}
