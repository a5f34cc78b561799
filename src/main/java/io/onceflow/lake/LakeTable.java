package io.onceflow.lake;

import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.catalog.TableIdentifier;

import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * What a lake table should look like: its name, columns, partitioning and table properties.
 * {@link LakeCatalog#ensureTable} creates it when absent and otherwise adds the columns it
 * lacks; the partitioning is fixed when the table is created.
 *
 * @param identifier namespace and table name, such as {@code payments.results}
 * @param schema the columns; field ids are reassigned by Iceberg at creation
 * @param partitioning the partition spec for a schema (called with {@code schema})
 * @param properties Iceberg table properties ({@code write.target-file-size-bytes}, ...)
 */
public record LakeTable(
        TableIdentifier identifier,
        Schema schema,
        Function<Schema, PartitionSpec> partitioning,
        Map<String, String> properties) {

    public LakeTable {
        Objects.requireNonNull(identifier, "identifier");
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(partitioning, "partitioning");
        properties = Map.copyOf(properties);
    }

    public PartitionSpec spec() {
        return partitioning.apply(schema);
    }

    /** The same table with other columns, e.g. those of a newer Avro schema. */
    public LakeTable withSchema(Schema newSchema) {
        return new LakeTable(identifier, newSchema, partitioning, properties);
    }
}
