package io.onceflow.lake;

import io.onceflow.postgres.PostgresEndpoint;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.jdbc.JdbcClientPool;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Opens the lake's Iceberg {@link JdbcCatalog} wherever it is deserialized: on the client, the
 * JobManager or a TaskManager.
 *
 * <p>The password is not in the properties that travel: Iceberg's JdbcCatalog takes it from the
 * {@code jdbc.password} catalog property, and would then also hand it to the table's FileIO,
 * which {@code SerializableTable} (what the Flink sink ships to its writers) serializes into the
 * job graph. So the loader keeps the {@link PostgresEndpoint}'s {@code Secret} reference, gives
 * the catalog and its FileIO properties without a password, and adds the resolved password only
 * to the properties of the JDBC connection pool, built in {@link #loadCatalog()} where the
 * catalog is opened.
 */
final class JdbcCatalogLoader implements CatalogLoader {

    private static final long serialVersionUID = 1L;

    private static final String HADOOP_FILE_IO = "org.apache.iceberg.hadoop.HadoopFileIO";

    private final String name;
    private final PostgresEndpoint endpoint;
    private final TreeMap<String, String> properties;

    JdbcCatalogLoader(String name, PostgresEndpoint endpoint, Map<String, String> properties) {
        this.name = name;
        this.endpoint = endpoint;
        this.properties = new TreeMap<>(properties);
        this.properties.put(CatalogProperties.URI, endpoint.jdbcUrl());
        this.properties.put(JdbcCatalog.PROPERTY_PREFIX + "user", endpoint.user());
    }

    static JdbcCatalogLoader of(LakeSettings settings, PostgresEndpoint endpoint) {
        Map<String, String> properties = new HashMap<>(settings.catalogProperties());
        properties.put(CatalogProperties.WAREHOUSE_LOCATION, settings.warehouse());
        // The V1 catalog tables (views supported) stop a warning on every catalog load; the
        // one-time migration of an existing V0 catalog runs under LakeCatalog's lock.
        properties.put("jdbc.schema-version", "V1");
        return new JdbcCatalogLoader(settings.name(), endpoint, properties);
    }

    String name() {
        return name;
    }

    PostgresEndpoint endpoint() {
        return endpoint;
    }

    /** The catalog properties that travel with this loader: never a password. */
    Map<String, String> properties() {
        return Map.copyOf(properties);
    }

    @Override
    public Catalog loadCatalog() {
        Configuration hadoopConf = new Configuration();
        // Without it Hadoop runs chmod as a child process for every file the lake creates.
        hadoopConf.set("fs.file.impl", ForklessLocalFileSystem.class.getName());
        JdbcCatalog catalog =
                new JdbcCatalog(
                        props ->
                                CatalogUtil.loadFileIO(
                                        props.getOrDefault(CatalogProperties.FILE_IO_IMPL, HADOOP_FILE_IO),
                                        props,
                                        hadoopConf),
                        props -> {
                            PostgresEndpoint.registerDriver();
                            return new JdbcClientPool(endpoint.jdbcUrl(), withPassword(props));
                        },
                        true);
        catalog.setConf(hadoopConf);
        catalog.initialize(name, properties);
        return catalog;
    }

    private Map<String, String> withPassword(Map<String, String> props) {
        String password = endpoint.password().resolve();
        if (password.isEmpty()) {
            return props;
        }
        Map<String, String> connection = new HashMap<>(props);
        connection.put(JdbcCatalog.PROPERTY_PREFIX + "password", password);
        return connection;
    }

    @Override
    @SuppressWarnings("MethodDoesntCallSuperMethod")
    public CatalogLoader clone() {
        return new JdbcCatalogLoader(name, endpoint, properties);
    }

    @Override
    public String toString() {
        return "JdbcCatalogLoader{" + name + " at " + endpoint + ", warehouse "
                + properties.get(CatalogProperties.WAREHOUSE_LOCATION) + "}";
    }
}
