package io.onceflow.lake;

import org.apache.avro.LogicalTypes;
import org.apache.avro.generic.IndexedRecord;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericMapData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

import java.io.Serializable;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Converts Avro records (specific or generic) to Flink {@link RowData} in the column order of an
 * Iceberg table, by the naming rules of {@link AvroColumns}.
 *
 * <p>Columns are matched by name against the table's schema as it is when the mapper is built
 * (pass {@code table.schema()} of the table the sink writes), so a table that gained columns
 * from a newer Avro schema still gets rows of the right width: columns the records do not have
 * are null. A required column the records lack is refused when the mapper is built.
 *
 * @param <T> the Avro record class, e.g. {@code PaymentResult}
 */
public final class AvroRowMapper<T extends IndexedRecord> implements MapFunction<T, RowData> {

    private static final long serialVersionUID = 1L;

    private final Schema tableSchema;
    private final String avroSchemaJson;
    private final Set<String> flatten;

    private transient List<Function<IndexedRecord, Object>> columns;

    private AvroRowMapper(Schema tableSchema, org.apache.avro.Schema avroSchema, Set<String> flatten) {
        this.tableSchema = tableSchema;
        this.avroSchemaJson = avroSchema.toString();
        this.flatten = Set.copyOf(flatten);
        this.columns = accessors();
    }

    /**
     * A mapper of records of {@code avroSchema} to rows of a table with {@code tableSchema}.
     *
     * @param flatten the record fields that are flattened into prefixed top-level columns
     */
    public static <T extends IndexedRecord> AvroRowMapper<T> of(
            Schema tableSchema, org.apache.avro.Schema avroSchema, Set<String> flatten) {
        return new AvroRowMapper<>(tableSchema, avroSchema, flatten);
    }

    @Override
    public RowData map(T record) {
        if (columns == null) {
            columns = accessors();
        }
        GenericRowData row = new GenericRowData(columns.size());
        for (int i = 0; i < columns.size(); i++) {
            row.setField(i, columns.get(i).apply(record));
        }
        return row;
    }

    private List<Function<IndexedRecord, Object>> accessors() {
        org.apache.avro.Schema avro = new org.apache.avro.Schema.Parser().parse(avroSchemaJson);
        Map<String, Function<IndexedRecord, Object>> byColumn = new HashMap<>();
        for (org.apache.avro.Schema.Field field : avro.getFields()) {
            int pos = field.pos();
            if (flatten.contains(field.name())) {
                for (org.apache.avro.Schema.Field child : AvroColumns.nonNull(field.schema()).getFields()) {
                    int childPos = child.pos();
                    byColumn.put(
                            AvroColumns.column(field.name(), child.name()),
                            new Access(child.schema(), r -> {
                                IndexedRecord parent = (IndexedRecord) r.get(pos);
                                return parent == null ? null : parent.get(childPos);
                            }));
                }
            } else {
                byColumn.put(AvroColumns.snakeCase(field.name()), new Access(field.schema(), r -> r.get(pos)));
            }
        }
        List<Function<IndexedRecord, Object>> result = new ArrayList<>();
        for (Types.NestedField column : tableSchema.columns()) {
            Function<IndexedRecord, Object> access = byColumn.get(column.name());
            if (access == null) {
                if (column.isRequired()) {
                    throw new IllegalArgumentException(
                            "Table column " + column.name() + " is required but the Avro records have no field for it.");
                }
                result.add(r -> null);
            } else {
                Access a = (Access) access;
                Converter converter = converter(column.type(), AvroColumns.nonNull(a.avroType));
                String name = column.name();
                boolean required = column.isRequired();
                result.add(r -> {
                    Object value = a.get.apply(r);
                    if (value == null) {
                        if (required) {
                            throw new IllegalArgumentException("Required column " + name + " is null.");
                        }
                        return null;
                    }
                    return converter.convert(value);
                });
            }
        }
        return result;
    }

    private record Access(org.apache.avro.Schema avroType, Function<IndexedRecord, Object> get)
            implements Function<IndexedRecord, Object> {
        @Override
        public Object apply(IndexedRecord record) {
            return get.apply(record);
        }
    }

    @FunctionalInterface
    private interface Converter extends Serializable {
        Object convert(Object avroValue);
    }

    /** Converts a non-null Avro value to Flink's internal representation of {@code type}. */
    private static Converter converter(Type type, org.apache.avro.Schema avro) {
        switch (type.typeId()) {
            case STRING:
                // Enums (specific or generic) and Utf8 alike: their text.
                return v -> StringData.fromString(v.toString());
            case BOOLEAN:
            case FLOAT:
            case DOUBLE:
                return v -> v;
            case INTEGER:
                return v -> ((Number) v).intValue();
            case LONG:
                return v -> ((Number) v).longValue();
            case DATE:
                return v -> v instanceof LocalDate date ? (int) date.toEpochDay() : ((Number) v).intValue();
            case TIMESTAMP:
                boolean micros =
                        avro.getLogicalType() instanceof LogicalTypes.TimestampMicros
                                || avro.getLogicalType() instanceof LogicalTypes.LocalTimestampMicros;
                return v -> {
                    if (v instanceof Instant instant) {
                        return TimestampData.fromInstant(instant);
                    }
                    if (v instanceof LocalDateTime local) {
                        return TimestampData.fromInstant(local.toInstant(ZoneOffset.UTC));
                    }
                    long n = ((Number) v).longValue();
                    return micros
                            ? TimestampData.fromEpochMillis(Math.floorDiv(n, 1000), (int) Math.floorMod(n, 1000) * 1000)
                            : TimestampData.fromEpochMillis(n);
                };
            case BINARY:
            case FIXED:
                return v -> {
                    if (v instanceof ByteBuffer buffer) {
                        byte[] bytes = new byte[buffer.remaining()];
                        buffer.duplicate().get(bytes);
                        return bytes;
                    }
                    if (v instanceof org.apache.avro.generic.GenericFixed fixed) {
                        return fixed.bytes().clone();
                    }
                    return v;
                };
            case DECIMAL:
                Types.DecimalType decimal = (Types.DecimalType) type;
                return v -> DecimalData.fromBigDecimal((BigDecimal) v, decimal.precision(), decimal.scale());
            case STRUCT:
                Types.StructType struct = type.asStructType();
                List<Types.NestedField> fields = struct.fields();
                int[] positions = new int[fields.size()];
                Converter[] converters = new Converter[fields.size()];
                for (int i = 0; i < fields.size(); i++) {
                    org.apache.avro.Schema.Field field = findField(avro, fields.get(i).name());
                    positions[i] = field == null ? -1 : field.pos();
                    converters[i] = field == null ? null : converter(fields.get(i).type(), AvroColumns.nonNull(field.schema()));
                }
                return v -> {
                    IndexedRecord record = (IndexedRecord) v;
                    GenericRowData row = new GenericRowData(positions.length);
                    for (int i = 0; i < positions.length; i++) {
                        Object value = positions[i] < 0 ? null : record.get(positions[i]);
                        row.setField(i, value == null ? null : converters[i].convert(value));
                    }
                    return row;
                };
            case LIST:
                Converter element =
                        converter(type.asListType().elementType(), AvroColumns.nonNull(avro.getElementType()));
                return v -> {
                    Collection<?> items = (Collection<?>) v;
                    Object[] out = new Object[items.size()];
                    int i = 0;
                    for (Object item : items) {
                        out[i++] = item == null ? null : element.convert(item);
                    }
                    return new GenericArrayData(out);
                };
            case MAP:
                Converter value = converter(type.asMapType().valueType(), AvroColumns.nonNull(avro.getValueType()));
                return v -> {
                    Map<Object, Object> out = new HashMap<>();
                    ((Map<?, ?>) v).forEach((key, item) ->
                            out.put(StringData.fromString(key.toString()), item == null ? null : value.convert(item)));
                    return new GenericMapData(out);
                };
            default:
                throw new IllegalArgumentException("Column type " + type + " is not written from Avro.");
        }
    }

    private static org.apache.avro.Schema.Field findField(org.apache.avro.Schema record, String column) {
        for (org.apache.avro.Schema.Field field : record.getFields()) {
            if (AvroColumns.snakeCase(field.name()).equals(column)) {
                return field;
            }
        }
        return null;
    }
}
