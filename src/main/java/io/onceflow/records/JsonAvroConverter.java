package io.onceflow.records;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.onceflow.records.ConversionException.Reason;
import org.apache.avro.Conversion;
import org.apache.avro.Conversions;
import org.apache.avro.LogicalType;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Converts between plain JSON, as SDKs and people write it, and Avro records, validating the
 * JSON strictly against the schema. Immutable and thread-safe; serializable so Flink functions
 * can hold one.
 *
 * <p>The JSON form is not Avro's own JSON encoding:
 *
 * <ul>
 *   <li>union values are not wrapped: a {@code ["null","string"]} field is a string or null;
 *   <li>{@code timestamp-millis} and {@code timestamp-micros} read an ISO-8601 timestamp with an
 *       offset ({@code 2026-11-25T10:00:00Z}) or an epoch number in the type's unit, and write
 *       the ISO-8601 form; digits finer than the unit are truncated. {@code date} reads {@code
 *       2026-11-25} or days since the epoch and writes the former;
 *   <li>{@code bytes} and {@code fixed} are base64 strings (RFC 4648, with padding); enums are
 *       their symbol; {@code NaN} and the infinities of float and double are the strings {@code
 *       "NaN"}, {@code "Infinity"}, {@code "-Infinity"};
 *   <li>a field that is absent, or null where the schema does not accept null, takes its
 *       default; without a default it is null when the schema accepts null, else {@code
 *       missing_field}. Written JSON has every field, nulls included.
 * </ul>
 *
 * <p>Unknown JSON properties are ignored by default: SDKs may be newer than the job's schema,
 * and the schemas evolve by adding fields, so rejecting them would turn every schema addition
 * into a flood of dead letters. Pass {@link UnknownFields#REJECT} where input is typed by hand
 * (the CLI) and a misspelt optional field should not vanish silently.
 *
 * <p>Numbers are strict: an int or long field takes only a JSON integer in range ({@code 5.0}
 * and {@code "5"} are {@code bad_type}); strings never stand in for numbers or booleans.
 *
 * <p>Records built by {@link #toGeneric} hold Avro's generic representation (a {@code long}
 * for timestamps, {@code GenericEnumSymbol}, {@code ByteBuffer}); {@link #toSpecific} builds the
 * generated class with its logical-type conversions ({@code Instant}, Java enums).
 */
public final class JsonAvroConverter implements Serializable {

    private static final long serialVersionUID = 1L;

    /** What to do with JSON properties the schema does not have. */
    public enum UnknownFields {
        IGNORE,
        REJECT
    }

    /** Kafka's default maximum message size; larger events cannot travel anyway. */
    public static final int DEFAULT_MAX_JSON_BYTES = 1024 * 1024;

    public static final int DEFAULT_MAX_STRING_LENGTH = 64 * 1024;
    public static final int DEFAULT_MAX_ARRAY_LENGTH = 10_000;
    public static final int DEFAULT_MAX_DEPTH = 32;

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final Pattern SIMPLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final int MAX_QUOTED_VALUE = 64;

    private static final ClassValue<SpecificType> SPECIFIC_TYPES =
            new ClassValue<>() {
                @Override
                protected SpecificType computeValue(Class<?> type) {
                    // The generated class's own model carries its logical-type conversions.
                    SpecificData model = SpecificData.getForClass(type);
                    return new SpecificType(model, model.getSchema(type));
                }
            };

    private final int maxJsonBytes;
    private final int maxStringLength;
    private final int maxArrayLength;
    private final int maxDepth;
    private final UnknownFields unknownFields;
    private final transient ObjectMapper mapper;

    private JsonAvroConverter(Builder builder) {
        this.maxJsonBytes = builder.maxJsonBytes;
        this.maxStringLength = builder.maxStringLength;
        this.maxArrayLength = builder.maxArrayLength;
        this.maxDepth = builder.maxDepth;
        this.unknownFields = builder.unknownFields;
        this.mapper = newMapper(maxJsonBytes, maxDepth);
    }

    /** Default limits, unknown fields ignored. */
    public static JsonAvroConverter withDefaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    private static ObjectMapper newMapper(int maxJsonBytes, int maxDepth) {
        JsonFactory factory =
                JsonFactory.builder()
                        .streamReadConstraints(
                                StreamReadConstraints.builder()
                                        .maxNestingDepth(maxDepth)
                                        // Our own string limit reports the field; this one
                                        // only has to admit anything that fits the document.
                                        .maxStringLength(maxJsonBytes)
                                        .build())
                        // A repeated property makes the event ambiguous; refuse to guess.
                        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                        .build();
        return JsonMapper.builder(factory)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
    }

    // ---------------------------------------------------------------- JSON to Avro

    /**
     * Parses JSON text into an object node, enforcing the size and nesting limits.
     *
     * @throws ConversionException {@code unparseable} or {@code too_large}
     */
    public ObjectNode parse(String json) {
        Objects.requireNonNull(json, "json");
        if (json.length() > maxJsonBytes
                || ((long) json.length() * 3 > maxJsonBytes && utf8Length(json) > maxJsonBytes)) {
            throw documentTooLarge();
        }
        try {
            return requireObject(mapper.readTree(json));
        } catch (JsonProcessingException e) {
            throw unparseable(e);
        }
    }

    /** Parses UTF-8 JSON bytes (a Kafka value, an HTTP body) like {@link #parse(String)}. */
    public ObjectNode parse(byte[] utf8Json) {
        Objects.requireNonNull(utf8Json, "utf8Json");
        if (utf8Json.length > maxJsonBytes) {
            throw documentTooLarge();
        }
        try {
            return requireObject(mapper.readTree(utf8Json));
        } catch (JsonProcessingException e) {
            throw unparseable(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A record of {@code schema} from JSON text; see the class comment for the JSON form. */
    public GenericRecord toGeneric(String json, Schema schema) {
        return toGeneric(parse(json), schema);
    }

    /**
     * A record of {@code schema} from a parsed JSON object. The size limit applies only to text;
     * the other limits apply here.
     *
     * @throws ConversionException when the JSON does not fit the schema
     */
    public GenericRecord toGeneric(JsonNode json, Schema schema) {
        return (GenericRecord) readTop(json, schema, GenericData.get());
    }

    /** An instance of the generated class {@code type} from JSON text. */
    public <T extends SpecificRecord> T toSpecific(String json, Class<T> type) {
        return toSpecific(parse(json), type);
    }

    /** An instance of the generated class {@code type} from a parsed JSON object. */
    public <T extends SpecificRecord> T toSpecific(JsonNode json, Class<T> type) {
        SpecificType specific = SPECIFIC_TYPES.get(type);
        return type.cast(readTop(json, specific.schema(), specific.model()));
    }

    private Object readTop(JsonNode json, Schema schema, GenericData model) {
        if (schema.getType() != Schema.Type.RECORD) {
            throw new IllegalArgumentException(
                    "JSON converts to records only, but the schema is a " + schema.getType());
        }
        return readRecord(requireObject(json), schema, FieldPath.ROOT, 1, model);
    }

    private Object read(JsonNode node, Schema schema, FieldPath path, int depth, GenericData model) {
        switch (schema.getType()) {
            case RECORD:
                return readRecord(node, schema, path, depth, model);
            case UNION:
                return readUnion(node, schema, path, depth, model);
            case ARRAY:
                return readArray(node, schema, path, depth, model);
            case MAP:
                return readMap(node, schema, path, depth, model);
            case NULL:
                if (node.isNull()) {
                    return null;
                }
                throw badType(path, schema, node);
            case BOOLEAN:
                if (node.isBoolean()) {
                    return node.booleanValue();
                }
                throw badType(path, schema, node);
            case INT:
                return withConversion(readInt(node, schema, path), schema, path, model);
            case LONG:
                return withConversion(readLong(node, schema, path), schema, path, model);
            case FLOAT:
                {
                    double value = readFloatingPoint(node, schema, path);
                    float narrowed = (float) value;
                    if (Float.isInfinite(narrowed) && !Double.isInfinite(value)) {
                        throw badValue(path, "is out of range for a float");
                    }
                    return withConversion(narrowed, schema, path, model);
                }
            case DOUBLE:
                return withConversion(readFloatingPoint(node, schema, path), schema, path, model);
            case STRING:
                return withConversion(readText(node, schema, path), schema, path, model);
            case BYTES:
                return withConversion(
                        ByteBuffer.wrap(readBase64(node, schema, path)), schema, path, model);
            case FIXED:
                {
                    byte[] bytes = readBase64(node, schema, path);
                    if (bytes.length != schema.getFixedSize()) {
                        throw badValue(
                                path,
                                "must be "
                                        + schema.getFixedSize()
                                        + " bytes, not "
                                        + bytes.length);
                    }
                    return withConversion(
                            model.createFixed(null, bytes, schema), schema, path, model);
                }
            case ENUM:
                {
                    String symbol = readText(node, schema, path);
                    if (!schema.hasEnumSymbol(symbol)) {
                        throw badValue(
                                path,
                                "must be one of "
                                        + String.join(", ", schema.getEnumSymbols())
                                        + ", not "
                                        + quote(symbol));
                    }
                    return model.createEnum(symbol, schema);
                }
            default:
                throw new AssertionError(schema.getType());
        }
    }

    private Object readRecord(
            JsonNode node, Schema schema, FieldPath path, int depth, GenericData model) {
        if (!node.isObject()) {
            throw badType(path, schema, node);
        }
        checkDepth(path, depth);
        if (unknownFields == UnknownFields.REJECT) {
            for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (schema.getField(name) == null) {
                    FieldPath unknown = path.key(name);
                    throw new ConversionException(
                            Reason.UNKNOWN_FIELD,
                            unknown.toString(),
                            unknown + " is not a field of " + schema.getName());
                }
            }
        }
        IndexedRecord record = (IndexedRecord) model.newRecord(null, schema);
        for (Schema.Field field : schema.getFields()) {
            JsonNode value = node.get(field.name());
            FieldPath fieldPath = path.field(field.name());
            boolean nullable = acceptsNull(field.schema());
            Object datum;
            if (value != null && (nullable || !value.isNull())) {
                datum = read(value, field.schema(), fieldPath, depth + 1, model);
            } else if (field.hasDefaultValue()) {
                // The cached default is shared; a record must not alias it.
                datum = model.deepCopy(field.schema(), model.getDefaultValue(field));
            } else if (nullable) {
                datum = null;
            } else {
                throw new ConversionException(
                        Reason.MISSING_FIELD,
                        fieldPath.toString(),
                        fieldPath + " is required but " + (value == null ? "missing" : "null"));
            }
            record.put(field.pos(), datum);
        }
        return record;
    }

    private Object readUnion(
            JsonNode node, Schema union, FieldPath path, int depth, GenericData model) {
        ConversionException firstFailure = null;
        for (Schema branch : union.getTypes()) {
            if (!couldBe(branch, node)) {
                continue;
            }
            try {
                return read(node, branch, path, depth, model);
            } catch (ConversionException e) {
                // Another branch may still fit (an int too large for "int" fits "long");
                // if none does, the first candidate's complaint is the most telling one.
                if (firstFailure == null) {
                    firstFailure = e;
                }
            }
        }
        if (firstFailure != null) {
            throw firstFailure;
        }
        throw badType(path, union, node);
    }

    private Object readArray(
            JsonNode node, Schema schema, FieldPath path, int depth, GenericData model) {
        if (!node.isArray()) {
            throw badType(path, schema, node);
        }
        checkDepth(path, depth);
        if (node.size() > maxArrayLength) {
            throw tooLarge(path, path + " has more than " + maxArrayLength + " items");
        }
        GenericData.Array<Object> array = new GenericData.Array<>(node.size(), schema);
        for (int i = 0; i < node.size(); i++) {
            array.add(read(node.get(i), schema.getElementType(), path.index(i), depth + 1, model));
        }
        return array;
    }

    private Object readMap(
            JsonNode node, Schema schema, FieldPath path, int depth, GenericData model) {
        if (!node.isObject()) {
            throw badType(path, schema, node);
        }
        checkDepth(path, depth);
        if (node.size() > maxArrayLength) {
            throw tooLarge(path, path + " has more than " + maxArrayLength + " entries");
        }
        Map<String, Object> map = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> entries = node.fields(); entries.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = entries.next();
            FieldPath entryPath = path.key(entry.getKey());
            if (entry.getKey().length() > maxStringLength) {
                throw tooLarge(
                        entryPath, "a key of " + path + " is longer than " + maxStringLength);
            }
            map.put(
                    entry.getKey(),
                    read(entry.getValue(), schema.getValueType(), entryPath, depth + 1, model));
        }
        return map;
    }

    private int readInt(JsonNode node, Schema schema, FieldPath path) {
        if (node.isTextual() && isLogical(schema, "date")) {
            try {
                long day = LocalDate.parse(node.textValue()).toEpochDay();
                return Math.toIntExact(day);
            } catch (DateTimeException | ArithmeticException e) {
                throw badValue(path, "must be " + describe(schema) + ", not " + quote(node));
            }
        }
        if (!node.isIntegralNumber()) {
            throw badType(path, schema, node);
        }
        if (!node.canConvertToInt()) {
            throw badValue(path, "is out of range for an int: " + node.asText());
        }
        return node.intValue();
    }

    private long readLong(JsonNode node, Schema schema, FieldPath path) {
        if (node.isTextual() && isTimestamp(schema)) {
            try {
                Instant instant =
                        OffsetDateTime.parse(node.textValue(), DateTimeFormatter.ISO_OFFSET_DATE_TIME)
                                .toInstant();
                return isLogical(schema, "timestamp-micros")
                        ? Math.addExact(
                                Math.multiplyExact(instant.getEpochSecond(), 1_000_000L),
                                instant.getNano() / 1_000)
                        : instant.toEpochMilli();
            } catch (DateTimeException | ArithmeticException e) {
                throw badValue(path, "must be " + describe(schema) + ", not " + quote(node));
            }
        }
        if (!node.isIntegralNumber()) {
            throw badType(path, schema, node);
        }
        if (!node.canConvertToLong()) {
            throw badValue(path, "is out of range for a long: " + node.asText());
        }
        return node.longValue();
    }

    private double readFloatingPoint(JsonNode node, Schema schema, FieldPath path) {
        if (node.isTextual()) {
            switch (node.textValue()) {
                case "NaN":
                    return Double.NaN;
                case "Infinity":
                    return Double.POSITIVE_INFINITY;
                case "-Infinity":
                    return Double.NEGATIVE_INFINITY;
                default:
                    throw badType(path, schema, node);
            }
        }
        if (!node.isNumber()) {
            throw badType(path, schema, node);
        }
        double value = node.doubleValue();
        if (Double.isInfinite(value)) {
            throw badValue(path, "is out of range for a double: " + node.asText());
        }
        return value;
    }

    private String readText(JsonNode node, Schema schema, FieldPath path) {
        if (!node.isTextual()) {
            throw badType(path, schema, node);
        }
        String text = node.textValue();
        if (text.length() > maxStringLength) {
            throw tooLarge(path, path + " is longer than " + maxStringLength + " characters");
        }
        return text;
    }

    private byte[] readBase64(JsonNode node, Schema schema, FieldPath path) {
        String text = readText(node, schema, path);
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw badValue(path, "must be base64, not " + quote(text));
        }
    }

    /** Turns an Avro value into the model's type for the logical type, e.g. a long into Instant. */
    @SuppressWarnings("unchecked")
    private static Object withConversion(
            Object raw, Schema schema, FieldPath path, GenericData model) {
        LogicalType logicalType = schema.getLogicalType();
        if (logicalType == null) {
            return raw;
        }
        Conversion<Object> conversion = (Conversion<Object>) model.getConversionFor(logicalType);
        if (conversion == null) {
            return raw;
        }
        try {
            return Conversions.convertToLogicalType(raw, schema, logicalType, conversion);
        } catch (RuntimeException e) {
            throw badValue(path, "is not a valid " + logicalType.getName() + ": " + e.getMessage());
        }
    }

    /** Whether a union branch is worth trying for this kind of JSON value. */
    private static boolean couldBe(Schema branch, JsonNode node) {
        switch (branch.getType()) {
            case NULL:
                return node.isNull();
            case BOOLEAN:
                return node.isBoolean();
            case INT:
                return node.isIntegralNumber() || (node.isTextual() && isLogical(branch, "date"));
            case LONG:
                return node.isIntegralNumber() || (node.isTextual() && isTimestamp(branch));
            case FLOAT:
            case DOUBLE:
                return node.isNumber() || node.isTextual();
            case STRING:
            case BYTES:
            case FIXED:
            case ENUM:
                return node.isTextual();
            case RECORD:
            case MAP:
                return node.isObject();
            case ARRAY:
                return node.isArray();
            default:
                return false;
        }
    }

    private void checkDepth(FieldPath path, int depth) {
        if (depth > maxDepth) {
            throw tooLarge(path, path + " nests deeper than " + maxDepth + " levels");
        }
    }

    private static ObjectNode requireObject(JsonNode json) {
        if (json == null || json.isMissingNode()) {
            throw new ConversionException(Reason.UNPARSEABLE, "", "the document is empty");
        }
        if (!json.isObject()) {
            throw new ConversionException(
                    Reason.UNPARSEABLE,
                    "",
                    "the document is " + describe(json) + ", not a JSON object");
        }
        return (ObjectNode) json;
    }

    // ---------------------------------------------------------------- Avro to JSON

    /** The record as plain JSON; accepts generic and generated records. */
    public ObjectNode toJson(IndexedRecord record) {
        GenericData model =
                record instanceof SpecificRecord
                        ? SPECIFIC_TYPES.get(record.getClass()).model()
                        : GenericData.get();
        return (ObjectNode) write(record.getSchema(), record, model);
    }

    /** {@link #toJson} as compact JSON text, one line. */
    public String toJsonString(IndexedRecord record) {
        try {
            return mapper.writeValueAsString(toJson(record));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private JsonNode write(Schema schema, Object datum, GenericData model) {
        LogicalType logicalType = schema.getLogicalType();
        if (logicalType != null
                && datum != null
                && !(datum instanceof Instant)
                && !(datum instanceof LocalDate)) {
            Conversion<Object> conversion =
                    (Conversion<Object>) model.getConversionByClass(datum.getClass(), logicalType);
            if (conversion != null) {
                datum = Conversions.convertToRawType(datum, schema, logicalType, conversion);
            }
        }
        switch (schema.getType()) {
            case UNION:
                return write(schema.getTypes().get(model.resolveUnion(schema, datum)), datum, model);
            case RECORD:
                {
                    IndexedRecord record = (IndexedRecord) datum;
                    ObjectNode object = NODES.objectNode();
                    for (Schema.Field field : schema.getFields()) {
                        object.set(field.name(), write(field.schema(), record.get(field.pos()), model));
                    }
                    return object;
                }
            case ARRAY:
                {
                    ArrayNode array = NODES.arrayNode();
                    for (Object element : (Collection<?>) datum) {
                        array.add(write(schema.getElementType(), element, model));
                    }
                    return array;
                }
            case MAP:
                {
                    ObjectNode object = NODES.objectNode();
                    for (Map.Entry<?, ?> entry : ((Map<?, ?>) datum).entrySet()) {
                        object.set(
                                entry.getKey().toString(),
                                write(schema.getValueType(), entry.getValue(), model));
                    }
                    return object;
                }
            case NULL:
                return NODES.nullNode();
            case BOOLEAN:
                return NODES.booleanNode((Boolean) datum);
            case INT:
                if (datum instanceof LocalDate date) {
                    return NODES.textNode(date.toString());
                }
                if (isLogical(schema, "date")) {
                    return NODES.textNode(LocalDate.ofEpochDay((Integer) datum).toString());
                }
                return NODES.numberNode((Integer) datum);
            case LONG:
                if (datum instanceof Instant instant) {
                    return NODES.textNode(instant.toString());
                }
                if (isLogical(schema, "timestamp-millis")) {
                    return NODES.textNode(Instant.ofEpochMilli((Long) datum).toString());
                }
                if (isLogical(schema, "timestamp-micros")) {
                    long micros = (Long) datum;
                    return NODES.textNode(
                            Instant.ofEpochSecond(
                                            Math.floorDiv(micros, 1_000_000L),
                                            Math.floorMod(micros, 1_000_000L) * 1_000L)
                                    .toString());
                }
                return NODES.numberNode((Long) datum);
            case FLOAT:
                {
                    float value = (Float) datum;
                    return Float.isFinite(value)
                            ? NODES.numberNode(value)
                            : NODES.textNode(Float.toString(value));
                }
            case DOUBLE:
                {
                    double value = (Double) datum;
                    return Double.isFinite(value)
                            ? NODES.numberNode(value)
                            : NODES.textNode(Double.toString(value));
                }
            case STRING:
                return NODES.textNode(datum.toString());
            case BYTES:
                {
                    ByteBuffer buffer = ((ByteBuffer) datum).duplicate();
                    byte[] bytes = new byte[buffer.remaining()];
                    buffer.get(bytes);
                    return NODES.textNode(Base64.getEncoder().encodeToString(bytes));
                }
            case FIXED:
                return NODES.textNode(
                        Base64.getEncoder().encodeToString(((GenericFixed) datum).bytes()));
            case ENUM:
                return NODES.textNode(
                        datum instanceof Enum<?> symbol ? symbol.name() : datum.toString());
            default:
                throw new AssertionError(schema.getType());
        }
    }

    // ---------------------------------------------------------------- errors and descriptions

    private static ConversionException badType(FieldPath path, Schema schema, JsonNode node) {
        return new ConversionException(
                Reason.BAD_TYPE,
                path.toString(),
                path + " must be " + describe(schema) + ", not " + describe(node));
    }

    private static ConversionException badValue(FieldPath path, String problem) {
        return new ConversionException(Reason.BAD_VALUE, path.toString(), path + " " + problem);
    }

    private static ConversionException tooLarge(FieldPath path, String message) {
        return new ConversionException(Reason.TOO_LARGE, path.toString(), message);
    }

    private ConversionException documentTooLarge() {
        return new ConversionException(
                Reason.TOO_LARGE, "", "the document is larger than " + maxJsonBytes + " bytes");
    }

    private static ConversionException unparseable(JsonProcessingException e) {
        String detail = oneLine(e.getOriginalMessage());
        if (e instanceof StreamConstraintsException) {
            return new ConversionException(
                    Reason.TOO_LARGE, "", "the document exceeds a parser limit: " + detail);
        }
        JsonLocation location = e.getLocation();
        String where =
                location == null
                        ? ""
                        : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
        return new ConversionException(
                Reason.UNPARSEABLE, "", "the document is not valid JSON" + where + ": " + detail);
    }

    private static String describe(Schema schema) {
        switch (schema.getType()) {
            case UNION:
                {
                    List<Schema> branches = schema.getTypes();
                    // "a string or null" reads better than "null or a string".
                    String nonNull =
                            branches.stream()
                                    .filter(b -> b.getType() != Schema.Type.NULL)
                                    .map(JsonAvroConverter::describe)
                                    .collect(Collectors.joining(" or "));
                    return acceptsNull(schema)
                            ? (nonNull.isEmpty() ? "null" : nonNull + " or null")
                            : nonNull;
                }
            case NULL:
                return "null";
            case BOOLEAN:
                return "true or false";
            case INT:
                return isLogical(schema, "date")
                        ? "an ISO-8601 date (2026-11-25) or days since 1970-01-01"
                        : "an integer";
            case LONG:
                if (isLogical(schema, "timestamp-millis")) {
                    return "an ISO-8601 timestamp with offset (2026-11-25T10:00:00Z) or epoch"
                            + " milliseconds";
                }
                if (isLogical(schema, "timestamp-micros")) {
                    return "an ISO-8601 timestamp with offset (2026-11-25T10:00:00Z) or epoch"
                            + " microseconds";
                }
                return "an integer";
            case FLOAT:
            case DOUBLE:
                return "a number";
            case STRING:
                return "a string";
            case BYTES:
                return "a base64 string";
            case FIXED:
                return "a base64 string of " + schema.getFixedSize() + " bytes";
            case ENUM:
                return "one of " + String.join(", ", schema.getEnumSymbols());
            case RECORD:
            case MAP:
                return "an object";
            case ARRAY:
                return "an array";
            default:
                return schema.getType().getName();
        }
    }

    private static String describe(JsonNode node) {
        switch (node.getNodeType()) {
            case NULL:
                return "null";
            case BOOLEAN:
                return "a boolean";
            case NUMBER:
                return node.isIntegralNumber() ? "an integer" : "a floating-point number";
            case STRING:
                return "a string";
            case ARRAY:
                return "an array";
            case OBJECT:
                return "an object";
            default:
                return node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private static boolean acceptsNull(Schema schema) {
        if (schema.getType() == Schema.Type.NULL) {
            return true;
        }
        return schema.getType() == Schema.Type.UNION
                && schema.getTypes().stream().anyMatch(b -> b.getType() == Schema.Type.NULL);
    }

    private static boolean isLogical(Schema schema, String name) {
        return schema.getLogicalType() != null && schema.getLogicalType().getName().equals(name);
    }

    private static boolean isTimestamp(Schema schema) {
        return isLogical(schema, "timestamp-millis") || isLogical(schema, "timestamp-micros");
    }

    private static String quote(JsonNode node) {
        return quote(node.isTextual() ? node.textValue() : node.toString());
    }

    /** Quotes a rejected value, cut short: messages end up in logs and dead letters. */
    private static String quote(String value) {
        String shown =
                value.length() > MAX_QUOTED_VALUE
                        ? value.substring(0, MAX_QUOTED_VALUE) + "..."
                        : value;
        return NODES.textNode(oneLine(shown)).toString();
    }

    private static String oneLine(String text) {
        return text == null ? "" : text.replaceAll("\\s+", " ").strip();
    }

    private static long utf8Length(String text) {
        long bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c)) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    private Object readResolve() {
        // The mapper is not serializable; rebuild it from the limits.
        return builder()
                .maxJsonBytes(maxJsonBytes)
                .maxStringLength(maxStringLength)
                .maxArrayLength(maxArrayLength)
                .maxDepth(maxDepth)
                .unknownFields(unknownFields)
                .build();
    }

    private record SpecificType(SpecificData model, Schema schema) {}

    /** Where a value sits in the document, rendered only when an error needs it. */
    private static final class FieldPath {

        static final FieldPath ROOT = new FieldPath(null, "");

        private final FieldPath parent;
        private final String segment;

        private FieldPath(FieldPath parent, String segment) {
            this.parent = parent;
            this.segment = segment;
        }

        FieldPath field(String name) {
            return new FieldPath(this, (this == ROOT ? "" : ".") + name);
        }

        FieldPath key(String key) {
            return SIMPLE_NAME.matcher(key).matches()
                    ? field(key)
                    : new FieldPath(this, "[" + NODES.textNode(key) + "]");
        }

        FieldPath index(int index) {
            return new FieldPath(this, "[" + index + "]");
        }

        @Override
        public String toString() {
            if (this == ROOT) {
                return "";
            }
            return parent.toString() + segment;
        }
    }

    /** Limits and the unknown-field policy; every limit must be positive. */
    public static final class Builder {

        private int maxJsonBytes = DEFAULT_MAX_JSON_BYTES;
        private int maxStringLength = DEFAULT_MAX_STRING_LENGTH;
        private int maxArrayLength = DEFAULT_MAX_ARRAY_LENGTH;
        private int maxDepth = DEFAULT_MAX_DEPTH;
        private UnknownFields unknownFields = UnknownFields.IGNORE;

        private Builder() {}

        /** Largest JSON text accepted, in UTF-8 bytes. */
        public Builder maxJsonBytes(int bytes) {
            this.maxJsonBytes = positive(bytes, "maxJsonBytes");
            return this;
        }

        /** Longest string value or map key, in UTF-16 chars; base64 text counts as written. */
        public Builder maxStringLength(int chars) {
            this.maxStringLength = positive(chars, "maxStringLength");
            return this;
        }

        /** Most items in one array, and most entries in one map. */
        public Builder maxArrayLength(int items) {
            this.maxArrayLength = positive(items, "maxArrayLength");
            return this;
        }

        /** Deepest nesting of objects and arrays; the top-level object is level 1. */
        public Builder maxDepth(int levels) {
            this.maxDepth = positive(levels, "maxDepth");
            return this;
        }

        public Builder unknownFields(UnknownFields policy) {
            this.unknownFields = Objects.requireNonNull(policy, "policy");
            return this;
        }

        public JsonAvroConverter build() {
            return new JsonAvroConverter(this);
        }

        private static int positive(int value, String name) {
            if (value <= 0) {
                throw new IllegalArgumentException(name + " must be positive, not " + value);
            }
            return value;
        }
    }
}
