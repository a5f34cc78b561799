package io.onceflow.lake;

import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Iceberg columns for an Avro record schema, so that a table follows its Avro contract: a field
 * added to the Avro schema becomes a column at the next {@link LakeCatalog#ensureTable}.
 *
 * <p>Rules: names become snake_case ({@code processedAt} → {@code processed_at}); the record
 * fields named in {@code flatten} become top-level columns with the field name as prefix ({@code
 * source.topic} → {@code source_topic}); other records become structs; enums become strings;
 * {@code timestamp-millis}/{@code -micros} become {@code timestamptz}; {@code ["null", T]} makes
 * the column optional. {@link AvroRowMapper} converts records to rows by the same rules.
 */
public final class AvroColumns {

    private AvroColumns() {}

    /** The Iceberg schema of {@code record}, with the fields named in {@code flatten} flattened. */
    public static Schema schema(org.apache.avro.Schema record, Set<String> flatten) {
        AtomicInteger ids = new AtomicInteger();
        List<Types.NestedField> columns = new ArrayList<>();
        for (org.apache.avro.Schema.Field field : record.getFields()) {
            org.apache.avro.Schema type = field.schema();
            if (flatten.contains(field.name())) {
                if (nonNull(type).getType() != org.apache.avro.Schema.Type.RECORD) {
                    throw new IllegalArgumentException(
                            "Avro field " + field.name() + " is not a record and cannot be flattened.");
                }
                boolean optional = isNullable(type);
                for (org.apache.avro.Schema.Field child : nonNull(type).getFields()) {
                    columns.add(
                            column(ids, column(field.name(), child.name()), child.schema(), optional, child.doc()));
                }
            } else {
                columns.add(column(ids, snakeCase(field.name()), type, false, field.doc()));
            }
        }
        return new Schema(columns);
    }

    /** {@code source} + {@code topic} → {@code source_topic}. */
    static String column(String parent, String child) {
        return snakeCase(parent) + "_" + snakeCase(child);
    }

    /** {@code processedAt} → {@code processed_at}; {@code userID} → {@code user_id}. */
    static String snakeCase(String name) {
        return name.replaceAll("([a-z0-9])([A-Z])", "$1_$2")
                .replaceAll("([A-Z]+)([A-Z][a-z])", "$1_$2")
                .toLowerCase(Locale.ROOT);
    }

    private static Types.NestedField column(
            AtomicInteger ids, String name, org.apache.avro.Schema type, boolean forceOptional, String doc) {
        int id = ids.incrementAndGet();
        Type icebergType = type(ids, nonNull(type));
        return forceOptional || isNullable(type)
                ? Types.NestedField.optional(id, name, icebergType, doc)
                : Types.NestedField.required(id, name, icebergType, doc);
    }

    private static Type type(AtomicInteger ids, org.apache.avro.Schema type) {
        LogicalType logical = type.getLogicalType();
        switch (type.getType()) {
            case STRING:
            case ENUM:
                return Types.StringType.get();
            case BOOLEAN:
                return Types.BooleanType.get();
            case INT:
                if (logical instanceof LogicalTypes.Date) {
                    return Types.DateType.get();
                }
                return Types.IntegerType.get();
            case LONG:
                if (logical instanceof LogicalTypes.TimestampMillis
                        || logical instanceof LogicalTypes.TimestampMicros) {
                    return Types.TimestampType.withZone();
                }
                if (logical instanceof LogicalTypes.LocalTimestampMillis
                        || logical instanceof LogicalTypes.LocalTimestampMicros) {
                    return Types.TimestampType.withoutZone();
                }
                return Types.LongType.get();
            case FLOAT:
                return Types.FloatType.get();
            case DOUBLE:
                return Types.DoubleType.get();
            case BYTES:
            case FIXED:
                if (logical instanceof LogicalTypes.Decimal decimal) {
                    return Types.DecimalType.of(decimal.getPrecision(), decimal.getScale());
                }
                return type.getType() == org.apache.avro.Schema.Type.FIXED
                        ? Types.FixedType.ofLength(type.getFixedSize())
                        : Types.BinaryType.get();
            case RECORD:
                List<Types.NestedField> fields = new ArrayList<>();
                for (org.apache.avro.Schema.Field field : type.getFields()) {
                    fields.add(column(ids, snakeCase(field.name()), field.schema(), false, field.doc()));
                }
                return Types.StructType.of(fields);
            case ARRAY:
                int elementId = ids.incrementAndGet();
                org.apache.avro.Schema element = type.getElementType();
                return isNullable(element)
                        ? Types.ListType.ofOptional(elementId, type(ids, nonNull(element)))
                        : Types.ListType.ofRequired(elementId, type(ids, element));
            case MAP:
                int keyId = ids.incrementAndGet();
                int valueId = ids.incrementAndGet();
                org.apache.avro.Schema value = type.getValueType();
                return isNullable(value)
                        ? Types.MapType.ofOptional(keyId, valueId, Types.StringType.get(), type(ids, nonNull(value)))
                        : Types.MapType.ofRequired(keyId, valueId, Types.StringType.get(), type(ids, value));
            default:
                throw new IllegalArgumentException(
                        "Avro type " + type + " has no column type in the lake.");
        }
    }

    static boolean isNullable(org.apache.avro.Schema type) {
        return type.getType() == org.apache.avro.Schema.Type.UNION
                && type.getTypes().stream().anyMatch(t -> t.getType() == org.apache.avro.Schema.Type.NULL);
    }

    /** The non-null branch of {@code ["null", T]}; {@code type} itself when it is no union. */
    static org.apache.avro.Schema nonNull(org.apache.avro.Schema type) {
        if (type.getType() != org.apache.avro.Schema.Type.UNION) {
            return type;
        }
        List<org.apache.avro.Schema> branches =
                type.getTypes().stream()
                        .filter(t -> t.getType() != org.apache.avro.Schema.Type.NULL)
                        .toList();
        if (branches.size() != 1) {
            throw new IllegalArgumentException(
                    "Avro union " + type + " has no column type in the lake: only [\"null\", T] has.");
        }
        return branches.get(0);
    }
}
