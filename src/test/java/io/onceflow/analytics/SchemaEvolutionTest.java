package io.onceflow.analytics;

import io.onceflow.analytics.events.EventContext;
import io.onceflow.config.Secret;
import io.onceflow.lake.LakeCatalog;
import io.onceflow.lake.LakeSettings;
import io.onceflow.lake.LakeTables;
import io.onceflow.postgres.PostgresEndpoint;
import io.onceflow.records.JsonAvroConverter;
import io.onceflow.testing.TestServices;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.iceberg.Table;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every analytics event schema stays backward compatible with its released version (the
 * baseline in {@code src/test/resources/schema-baseline/analytics}), by Avro's own compatibility
 * checker, and the lake table follows: a table created from the baseline gains the new fields as
 * optional columns. {@code Purchase} carries one deliberately evolved field, {@code
 * properties.coupon}, so the path is exercised end to end.
 */
class SchemaEvolutionTest {

    private static final String BASELINE = "/schema-baseline/analytics/";

    /** The baseline schemas by event type, parsed with their shared context record. */
    private static Map<String, Schema> baseline() throws IOException {
        Schema.Parser parser = new Schema.Parser();
        parse(parser, "common/EventContext.avsc");
        Map<String, Schema> schemas = new LinkedHashMap<>();
        for (String type : EventTypes.schemas().keySet()) {
            String file = EventTypes.schemas().get(type).getName() + ".avsc";
            schemas.put(type, parse(parser, file));
        }
        return schemas;
    }

    private static Schema parse(Schema.Parser parser, String file) throws IOException {
        try (InputStream in = SchemaEvolutionTest.class.getResourceAsStream(BASELINE + file)) {
            assertThat(in).as("baseline %s (every current type needs its released version)", file).isNotNull();
            return parser.parse(in);
        }
    }

    @Test
    void everyCurrentSchemaReadsDataWrittenWithItsBaseline() throws IOException {
        Map<String, Schema> baseline = baseline();
        assertThat(baseline.keySet()).containsExactlyInAnyOrderElementsOf(EventTypes.schemas().keySet());
        for (var type : baseline.entrySet()) {
            var result = SchemaCompatibility.checkReaderWriterCompatibility(
                    EventTypes.schemas().get(type.getKey()), type.getValue());
            assertThat(result.getType())
                    .as("%s: %s", type.getKey(), result.getDescription())
                    .isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
        }
    }

    @Test
    void theCheckerCatchesABreakingChange() throws IOException {
        Schema released = baseline().get("purchase");
        Schema breaking = new Schema.Parser().parse(released.toString()
                .replace("{\"name\":\"orderId\",\"type\":\"string\"}",
                        "{\"name\":\"orderId\",\"type\":\"string\"},{\"name\":\"channel\",\"type\":\"string\"}"));

        assertThat(SchemaCompatibility.checkReaderWriterCompatibility(breaking, released).getType())
                .as("a required field without default cannot read old data")
                .isEqualTo(SchemaCompatibility.SchemaCompatibilityType.INCOMPATIBLE);
    }

    @Test
    void aPurchaseWrittenWithTheReleasedSchemaReadsWithTheCurrentOneAndNoCoupon() throws IOException {
        Schema released = baseline().get("purchase");
        Schema current = EventTypes.schemas().get("purchase");
        assertThat(released.getField("properties").schema().getField("coupon")).isNull();
        assertThat(current.getField("properties").schema().getField("coupon")).as("the evolved field").isNotNull();

        GenericRecord old = JsonAvroConverter.withDefaults().toGeneric(
                "{\"eventId\":\"e-1\",\"type\":\"purchase\",\"userId\":\"u-1\",\"occurredAt\":\"2026-11-25T12:00:00Z\","
                        + "\"properties\":{\"orderId\":\"o-1\",\"revenueMinor\":2500,\"currency\":\"EUR\",\"items\":[]}}",
                released);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        var encoder = EncoderFactory.get().binaryEncoder(bytes, null);
        new GenericDatumWriter<GenericRecord>(released).write(old, encoder);
        encoder.flush();

        GenericRecord read = new GenericDatumReader<GenericRecord>(released, current, GenericData.get())
                .read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));

        GenericRecord properties = (GenericRecord) read.get("properties");
        assertThat(properties.get("orderId").toString()).isEqualTo("o-1");
        assertThat(properties.get("coupon")).isNull();
    }

    @Test
    void theLakeTableCreatedFromTheBaselineGainsTheNewFieldAsAnOptionalColumn() throws IOException {
        var database = TestServices.newDatabase("schema_evolution");
        LakeSettings settings =
                LakeSettings.defaults().withWarehouse(TestServices.newDirectory("wh").toUri().toString());
        Map<String, Schema> releasedProperties = baseline().entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().getField("properties").schema(),
                        (a, b) -> a, LinkedHashMap::new));
        try (LakeCatalog lake = LakeCatalog.open(
                settings, new PostgresEndpoint(database.jdbcUrl(), database.user(), Secret.none()))) {
            Table released = lake.ensureTable(
                    LakeTables.analyticsEvents(settings, releasedProperties, EventContext.getClassSchema()));
            assertThat(released.schema().findField("purchase.coupon")).isNull();
            List<String> releasedColumns = columnNames(released);

            Table evolved = lake.ensureTable(LakeTables.analyticsEvents(settings));

            Types.NestedField coupon = evolved.schema().findField("purchase.coupon");
            assertThat(coupon).as("the new field, inside its type's column").isNotNull();
            assertThat(coupon.isOptional()).isTrue();
            assertThat(coupon.type()).isEqualTo(Types.StringType.get());
            assertThat(columnNames(evolved)).as("nothing else changed").containsExactlyElementsOf(releasedColumns);
            assertThat(evolved.schema().findField("purchase.order_id").fieldId())
                    .as("existing fields keep their ids, so old files read as before")
                    .isEqualTo(released.schema().findField("purchase.order_id").fieldId());
        }
    }

    private static List<String> columnNames(Table table) {
        return table.schema().columns().stream().map(Types.NestedField::name).toList();
    }
}
