package io.onceflow.lake;

import io.onceflow.postgres.PostgresEndpoint;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.UpdateProperties;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.flink.TableLoader;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Map;

/**
 * The lake's Iceberg catalog: a {@code JdbcCatalog} whose tables ({@code iceberg_tables}, {@code
 * iceberg_namespace_properties}) live in PostgreSQL, the job's own database by default; no
 * catalog server runs.
 *
 * <pre>{@code
 * try (LakeCatalog lake = LakeCatalog.open(config.lake(), config.lake().catalogEndpoint(config.postgres()))) {
 *     Table results = lake.ensureTable(LakeTables.paymentResults(config.lake()));   // before the job starts
 *     LakeSinks.append(rows, lake, LakeTables.PAYMENT_RESULTS, "payments-lake-results");
 * }
 * }</pre>
 *
 * <p><b>The password.</b> Opening the catalog here, on the client, reads the password (the
 * client creates tables and the Iceberg sink loads the table's schema while the job graph is
 * built), as {@code Migrations} does for the job's own database. It is never put into anything
 * that travels: {@link #loader()} carries the {@code Secret} reference and resolves it where it
 * opens its catalog, on the JobManager and TaskManagers, and the catalog's and tables' FileIO
 * properties, which Iceberg's Flink sink serializes into the job graph, hold no password (see
 * {@link JdbcCatalogLoader}). Iceberg's JdbcCatalog itself would take the password as the
 * {@code jdbc.password} catalog property, which would travel; that path is not used.
 *
 * <p><b>Several jobs at once.</b> Creating the catalog tables, namespaces, tables and schema
 * changes runs under a PostgreSQL advisory lock per catalog name, so jobs that start together
 * and call {@link #ensureTable} do it one after the other, and the later ones find the work
 * done. Iceberg's own conflict handling (an {@code AlreadyExistsException}) backs that up.
 */
public final class LakeCatalog implements Closeable {

    /** First key of the advisory lock; the second is the catalog name's hash. */
    private static final int LOCK_CLASS = 0x0F1A4E;

    private final LakeSettings settings;
    private final JdbcCatalogLoader loader;
    private final Catalog catalog;

    private LakeCatalog(LakeSettings settings, JdbcCatalogLoader loader, Catalog catalog) {
        this.settings = settings;
        this.loader = loader;
        this.catalog = catalog;
    }

    /**
     * Opens the catalog described by {@code settings} in the database {@code endpoint}, creating
     * its tables in that database when absent.
     */
    public static LakeCatalog open(LakeSettings settings, PostgresEndpoint endpoint) {
        JdbcCatalogLoader loader = JdbcCatalogLoader.of(settings, endpoint);
        Catalog catalog = locked(loader, loader::loadCatalog);
        return new LakeCatalog(settings, loader, catalog);
    }

    /**
     * A serializable loader of this catalog for Flink operators; it opens its own catalog, and
     * reads the password, where it is used.
     */
    public static CatalogLoader loader(LakeSettings settings, PostgresEndpoint endpoint) {
        return JdbcCatalogLoader.of(settings, endpoint);
    }

    public CatalogLoader loader() {
        return loader.clone();
    }

    /** A serializable loader of one table, for Flink sinks and sources. */
    public TableLoader tableLoader(TableIdentifier table) {
        return TableLoader.fromCatalog(loader(), table);
    }

    public LakeSettings settings() {
        return settings;
    }

    /** The Iceberg catalog opened on this side, for operations this class does not wrap. */
    public Catalog catalog() {
        return catalog;
    }

    /** The table as it is now. */
    public Table table(TableIdentifier identifier) {
        return catalog.loadTable(identifier);
    }

    /**
     * Makes {@code definition} exist: creates its namespace and the table when absent; for an
     * existing table, adds the columns it lacks (as optional columns, so old data files read
     * them as null) and sets the table properties the definition names. Never drops a column,
     * changes a column's type or changes the partitioning: a column whose type differs fails
     * with {@link IllegalStateException}. Idempotent, and safe when several processes call it at
     * once.
     *
     * @return the table as it is afterwards
     */
    public Table ensureTable(LakeTable definition) {
        return locked(loader, () -> {
            Namespace namespace = definition.identifier().namespace();
            if (catalog instanceof SupportsNamespaces namespaces && !namespaces.namespaceExists(namespace)) {
                try {
                    namespaces.createNamespace(namespace, Map.of("owner", "onceflow"));
                } catch (AlreadyExistsException createdMeanwhile) {
                    // Another process without the lock (an older version) was quicker: fine.
                }
            }
            if (!catalog.tableExists(definition.identifier())) {
                try {
                    return catalog.buildTable(definition.identifier(), definition.schema())
                            .withPartitionSpec(definition.spec())
                            .withProperties(definition.properties())
                            .create();
                } catch (AlreadyExistsException createdMeanwhile) {
                    // Evolve it like any existing table below.
                }
            }
            Table table = catalog.loadTable(definition.identifier());
            evolveSchema(table, definition.schema());
            updateProperties(table, definition.properties());
            table.refresh();
            return table;
        });
    }

    private static void evolveSchema(Table table, Schema wanted) {
        UpdateSchema update = table.updateSchema();
        boolean changed = addMissing(update, table.name(), null, table.schema().asStruct(), wanted.asStruct());
        if (changed) {
            update.commit();
        }
    }

    /** Adds the fields of {@code wanted} that {@code existing} lacks; true when it added any. */
    private static boolean addMissing(
            UpdateSchema update, String table, String parent, Types.StructType existing, Types.StructType wanted) {
        boolean changed = false;
        for (Types.NestedField field : wanted.fields()) {
            String path = parent == null ? field.name() : parent + "." + field.name();
            Types.NestedField current = existing.field(field.name());
            if (current == null) {
                update.addColumn(parent, field.name(), field.type(), field.doc());
                changed = true;
            } else if (field.type().isStructType() && current.type().isStructType()) {
                changed |= addMissing(update, table, path, current.type().asStructType(), field.type().asStructType());
            } else if (!sameType(current.type(), field.type())) {
                throw new IllegalStateException(
                        "Column " + path + " of table " + table + " is " + current.type() + " but the new schema has "
                                + field.type() + "; the lake never retypes a column, so add a new column instead.");
            }
        }
        return changed;
    }

    /** Types equal when field ids are ignored (those of a definition are not the table's). */
    private static boolean sameType(Type a, Type b) {
        if (a.isPrimitiveType() || b.isPrimitiveType()) {
            return a.equals(b);
        }
        if (a.typeId() != b.typeId()) {
            return false;
        }
        if (a.isListType()) {
            return sameType(a.asListType().elementType(), b.asListType().elementType());
        }
        if (a.isMapType()) {
            return sameType(a.asMapType().keyType(), b.asMapType().keyType())
                    && sameType(a.asMapType().valueType(), b.asMapType().valueType());
        }
        return true;
    }

    private static void updateProperties(Table table, Map<String, String> wanted) {
        UpdateProperties update = table.updateProperties();
        boolean changed = false;
        for (Map.Entry<String, String> property : wanted.entrySet()) {
            if ("format-version".equals(property.getKey())) {
                continue;
            }
            if (!property.getValue().equals(table.properties().get(property.getKey()))) {
                update.set(property.getKey(), property.getValue());
                changed = true;
            }
        }
        if (changed) {
            update.commit();
        }
    }

    @FunctionalInterface
    private interface Work<T> {
        T run();
    }

    /**
     * Runs {@code work} holding this catalog's advisory lock, on a connection of its own: the lock
     * goes with the connection, so a process that dies releases it.
     */
    private static <T> T locked(JdbcCatalogLoader loader, Work<T> work) {
        try (Connection connection = loader.endpoint().connect()) {
            // A holder that hangs must not hang every job start behind it.
            try (PreparedStatement timeout = connection.prepareStatement("SET lock_timeout = '2min'")) {
                timeout.execute();
            }
            try (PreparedStatement lock = connection.prepareStatement("SELECT pg_advisory_lock(?, ?)")) {
                lock.setInt(1, LOCK_CLASS);
                lock.setInt(2, loader.name().hashCode());
                lock.execute();
            }
            // Closing the connection releases the lock, also when work throws.
            return work.run();
        } catch (SQLException e) {
            throw new IllegalStateException(
                    "Cannot reach the lake catalog database " + loader.endpoint().jdbcUrl() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (catalog instanceof Closeable closeable) {
            try {
                closeable.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Override
    public String toString() {
        return "LakeCatalog{" + loader + "}";
    }
}
