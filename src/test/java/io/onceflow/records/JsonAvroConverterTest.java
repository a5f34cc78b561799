package io.onceflow.records;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.onceflow.payments.model.OriginalResult;
import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.payments.model.RequestMetadata;
import io.onceflow.records.ConversionException.Reason;
import io.onceflow.records.JsonAvroConverter.UnknownFields;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JsonAvroConverterTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonAvroConverter CONVERTER = JsonAvroConverter.withDefaults();

    private static final String REQUEST_JSON =
            """
            {"idempotencyKey":"k-1","customerId":"c-1","merchantId":"m-1","amountMinor":1250,\
            "currency":"EUR","requestedAt":"2026-11-25T10:00:00Z",\
            "metadata":{"ip":"10.0.0.1","userAgent":null}}""";

    private static final String RESULT_JSON =
            """
            {"idempotencyKey":"k-1","customerId":"c-1","paymentId":"p-1","status":"DUPLICATE",\
            "reason":null,"gatewayReference":"g-1","merchantId":"m-1","amountMinor":1250,\
            "currency":"EUR","requestedAt":"2026-11-25T10:00:00Z",\
            "processedAt":"2026-11-25T10:00:01.250Z",\
            "original":{"status":"COMPLETED","paymentId":"p-1","reason":null,\
            "gatewayReference":"g-1","processedAt":"2026-11-25T09:59:00Z"},\
            "source":{"topic":"payments.requests","partition":3,"offset":42}}""";

    /** Every Avro type the converter handles, for the cases the payment schemas lack. */
    private static final Schema EVERYTHING =
            new Schema.Parser()
                    .parse(
                            """
                            {"type":"record","name":"Everything","namespace":"test","fields":[
                              {"name":"flag","type":"boolean","default":false},
                              {"name":"count","type":"int","default":3},
                              {"name":"ratio","type":"double","default":0.5},
                              {"name":"weight","type":"float","default":1.0},
                              {"name":"channel","type":"string","default":"web"},
                              {"name":"raw","type":"bytes","default":""},
                              {"name":"hash","type":{"type":"fixed","name":"Hash","size":4},
                               "default":"\\u0000\\u0000\\u0000\\u0000"},
                              {"name":"color","type":{"type":"enum","name":"Color",
                               "symbols":["RED","GREEN"]},"default":"GREEN"},
                              {"name":"day","type":{"type":"int","logicalType":"date"},
                               "default":0},
                              {"name":"at","type":{"type":"long","logicalType":"timestamp-micros"},
                               "default":0},
                              {"name":"number","type":["int","long"],"default":0},
                              {"name":"tags","type":{"type":"array","items":"string"},
                               "default":[]},
                              {"name":"labels","type":{"type":"map","values":"string"},
                               "default":{}},
                              {"name":"items","type":{"type":"array","items":{"type":"record",
                               "name":"Item","fields":[{"name":"sku","type":"string"},
                               {"name":"qty","type":"int"}]}},"default":[]},
                              {"name":"note","type":["null","string"]}
                            ]}""");

    private static ObjectNode json(String text) {
        try {
            return (ObjectNode) JSON.readTree(text);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** The written JSON as a reader sees it: Jackson's node equality tells IntNode from LongNode. */
    private static ObjectNode written(org.apache.avro.generic.IndexedRecord record) {
        return json(CONVERTER.toJsonString(record));
    }

    private static ObjectNode request() {
        return json(REQUEST_JSON);
    }

    private static ConversionException failure(Runnable conversion) {
        try {
            conversion.run();
        } catch (ConversionException e) {
            return e;
        }
        throw new AssertionError("the conversion succeeded");
    }

    @Nested
    class RoundTrips {

        @Test
        void paymentRequestBecomesTheGeneratedClassAndWritesBackUnchanged() {
            PaymentRequest request = CONVERTER.toSpecific(REQUEST_JSON, PaymentRequest.class);

            assertThat(request)
                    .isEqualTo(
                            PaymentRequest.newBuilder()
                                    .setIdempotencyKey("k-1")
                                    .setCustomerId("c-1")
                                    .setMerchantId("m-1")
                                    .setAmountMinor(1250)
                                    .setCurrency("EUR")
                                    .setRequestedAt(Instant.parse("2026-11-25T10:00:00Z"))
                                    .setMetadata(new RequestMetadata("10.0.0.1", null))
                                    .build());
            assertThat(written(request)).isEqualTo(json(REQUEST_JSON));
        }

        @Test
        void paymentResultWithEnumsAndNestedUnionRecordWritesBackUnchanged() {
            PaymentResult result = CONVERTER.toSpecific(RESULT_JSON, PaymentResult.class);

            assertThat(result.getStatus()).isEqualTo(PaymentStatus.DUPLICATE);
            assertThat(result.getOriginal())
                    .isEqualTo(
                            new OriginalResult(
                                    PaymentStatus.COMPLETED,
                                    "p-1",
                                    null,
                                    "g-1",
                                    Instant.parse("2026-11-25T09:59:00Z")));
            assertThat(result.getSource().getOffset()).isEqualTo(42L);
            assertThat(written(result)).isEqualTo(json(RESULT_JSON));
        }

        @Test
        void genericRecordsHoldAvrosRawFormAndWriteTheSameJson() {
            GenericRecord generic = CONVERTER.toGeneric(RESULT_JSON, PaymentResult.getClassSchema());

            assertThat(generic.get("requestedAt"))
                    .isEqualTo(Instant.parse("2026-11-25T10:00:00Z").toEpochMilli());
            assertThat(generic.get("status").toString()).isEqualTo("DUPLICATE");
            assertThat(written(generic)).isEqualTo(json(RESULT_JSON));
            assertThat(CONVERTER.toJsonString(generic)).doesNotContain("\n");
            assertThat(CONVERTER.toJson(generic).get("source").get("offset").longValue())
                    .isEqualTo(42L);
        }

        @Test
        void everyTypeSurvivesJsonToAvroToJson() {
            ObjectNode input =
                    json(
                            """
                            {"flag":true,"count":-7,"ratio":"NaN","weight":2.5,"channel":"app",
                             "raw":"AAEC/w==","hash":"3q2+7w==","color":"RED","day":"2026-11-25",
                             "at":"2026-11-25T10:00:00.123456Z","number":5000000000,
                             "tags":["a","b"],"labels":{"a.b":"x","plain":"y"},
                             "items":[{"sku":"s-1","qty":1},{"sku":"s-2","qty":2}],
                             "note":"hello"}""");

            GenericRecord record = CONVERTER.toGeneric(input, EVERYTHING);

            assertThat(record.get("raw"))
                    .isEqualTo(ByteBuffer.wrap(new byte[] {0, 1, 2, (byte) 0xFF}));
            assertThat(record.get("number")).isEqualTo(5_000_000_000L);
            assertThat(record.get("day")).isEqualTo(20_782);
            assertThat(written(record)).isEqualTo(input);
        }

        @Test
        void survivesJavaSerializationWithItsLimits() throws Exception {
            JsonAvroConverter strict =
                    JsonAvroConverter.builder()
                            .maxStringLength(3)
                            .unknownFields(UnknownFields.REJECT)
                            .build();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(strict);
            }
            JsonAvroConverter copy;
            try (ObjectInputStream in =
                    new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
                copy = (JsonAvroConverter) in.readObject();
            }

            assertThat(failure(() -> copy.toSpecific(REQUEST_JSON, PaymentRequest.class)).reason())
                    .isEqualTo(Reason.TOO_LARGE);
            ObjectNode unknown = request();
            unknown.put("x", 1);
            assertThat(
                            failure(() -> copy.toSpecific(unknown.toString(), PaymentRequest.class))
                                    .reason())
                    .isEqualTo(Reason.UNKNOWN_FIELD);
        }
    }

    @Nested
    class DefaultsAndNulls {

        @Test
        void absentFieldsTakeTheirDefaults() {
            GenericRecord record = CONVERTER.toGeneric(json("{\"note\":null}"), EVERYTHING);

            assertThat(record.get("count")).isEqualTo(3);
            assertThat(record.get("channel").toString()).isEqualTo("web");
            assertThat(record.get("color").toString()).isEqualTo("GREEN");
            assertThat(record.get("tags")).isEqualTo(List.of());
            assertThat(record.get("weight")).isEqualTo(1.0f);
        }

        @Test
        void defaultsAreCopiedNotShared() {
            GenericRecord first = CONVERTER.toGeneric(json("{}"), EVERYTHING);
            @SuppressWarnings("unchecked")
            List<Object> tags = (List<Object>) first.get("tags");
            tags.add("changed");

            GenericRecord second = CONVERTER.toGeneric(json("{}"), EVERYTHING);

            assertThat(second.get("tags")).isEqualTo(List.of());
        }

        @Test
        void nullWhereTheSchemaRefusesNullTakesTheDefault() {
            GenericRecord record = CONVERTER.toGeneric(json("{\"count\":null}"), EVERYTHING);

            assertThat(record.get("count")).isEqualTo(3);
        }

        @Test
        void nullableFieldsTakeAValueNullOrNothing() {
            ObjectNode absent = request();
            ((ObjectNode) absent.get("metadata")).removeAll();
            ObjectNode explicitNull = request();
            ((ObjectNode) explicitNull.get("metadata")).putNull("ip");

            assertThat(CONVERTER.toSpecific(absent, PaymentRequest.class).getMetadata())
                    .isEqualTo(new RequestMetadata(null, null));
            assertThat(CONVERTER.toSpecific(explicitNull, PaymentRequest.class).getMetadata())
                    .isEqualTo(new RequestMetadata(null, null));
            assertThat(CONVERTER.toSpecific(request(), PaymentRequest.class).getMetadata().getIp())
                    .isEqualTo("10.0.0.1");
        }

        @Test
        void nullableFieldWithoutDefaultIsNullWhenAbsent() {
            GenericRecord record = CONVERTER.toGeneric(json("{}"), EVERYTHING);

            assertThat(record.get("note")).isNull();
        }

        @Test
        void unionOfIntAndLongPicksTheBranchTheNumberFits() {
            assertThat(CONVERTER.toGeneric(json("{\"number\":7}"), EVERYTHING).get("number"))
                    .isEqualTo(7);
            assertThat(
                            CONVERTER
                                    .toGeneric(json("{\"number\":3000000000}"), EVERYTHING)
                                    .get("number"))
                    .isEqualTo(3_000_000_000L);
        }
    }

    @Nested
    class Timestamps {

        @Test
        void isoStringAndEpochMillisAreTheSameInstant() {
            ObjectNode iso = request();
            ObjectNode millis = request();
            millis.put("requestedAt", Instant.parse("2026-11-25T10:00:00Z").toEpochMilli());
            ObjectNode offset = request();
            offset.put("requestedAt", "2026-11-25T11:00:00+01:00");

            Instant expected = Instant.parse("2026-11-25T10:00:00Z");
            assertThat(CONVERTER.toSpecific(iso, PaymentRequest.class).getRequestedAt())
                    .isEqualTo(expected);
            assertThat(CONVERTER.toSpecific(millis, PaymentRequest.class).getRequestedAt())
                    .isEqualTo(expected);
            assertThat(CONVERTER.toSpecific(offset, PaymentRequest.class).getRequestedAt())
                    .isEqualTo(expected);
        }

        @Test
        void writtenAsIsoStringsWithMillisecondsWhenThereAreAny() {
            ObjectNode input = request();
            input.put("requestedAt", 1_795_600_800_123L);

            JsonNode written =
                    written(CONVERTER.toSpecific(input, PaymentRequest.class));

            assertThat(written.get("requestedAt").textValue())
                    .isEqualTo("2026-11-25T10:00:00.123Z");
        }

        @Test
        void digitsFinerThanMillisecondsAreTruncated() {
            ObjectNode input = request();
            input.put("requestedAt", "2026-11-25T10:00:00.123999Z");

            assertThat(CONVERTER.toSpecific(input, PaymentRequest.class).getRequestedAt())
                    .isEqualTo(Instant.parse("2026-11-25T10:00:00.123Z"));
        }

        @ParameterizedTest
        @ValueSource(strings = {"yesterday", "2026-11-25T10:00:00", "2026-11-25", "2026-13-01T00:00:00Z"})
        void unreadableOrZonelessTimestampIsBadValue(String text) {
            ObjectNode input = request();
            input.put("requestedAt", text);

            ConversionException e =
                    failure(() -> CONVERTER.toSpecific(input, PaymentRequest.class));

            assertThat(e.reason()).isEqualTo(Reason.BAD_VALUE);
            assertThat(e.field()).isEqualTo("requestedAt");
            assertThat(e.getMessage()).contains("ISO-8601").contains(text);
        }

        @Test
        void fractionalEpochIsBadType() {
            ObjectNode input = request();
            input.put("requestedAt", 1.5);

            ConversionException e =
                    failure(() -> CONVERTER.toSpecific(input, PaymentRequest.class));

            assertThat(e.reason()).isEqualTo(Reason.BAD_TYPE);
            assertThat(e.field()).isEqualTo("requestedAt");
        }
    }

    @Nested
    class Reasons {

        @ParameterizedTest
        @ValueSource(strings = {"not json", "[1,2]", "\"text\"", "null", "", "{\"a\":1} {}", "{\"a\":1,\"a\":2}", "{\"a\":"})
        void textThatIsNotOneJsonObjectIsUnparseable(String text) {
            ConversionException e =
                    failure(() -> CONVERTER.toGeneric(text, PaymentRequest.getClassSchema()));

            assertThat(e.reason()).isEqualTo(Reason.UNPARSEABLE);
            assertThat(e.field()).isEmpty();
            assertThat(e.getMessage()).startsWith("the document");
        }

        @Test
        void jsonNodeThatIsNotAnObjectIsUnparseable() {
            ConversionException e =
                    failure(
                            () ->
                                    CONVERTER.toSpecific(
                                            JsonNodeFactory.instance.arrayNode(),
                                            PaymentRequest.class));

            assertThat(e.reason()).isEqualTo(Reason.UNPARSEABLE);
            assertThat(e.getMessage()).isEqualTo("the document is an array, not a JSON object");
        }

        @Test
        void requiredFieldAbsentOrNullIsMissingField() {
            ObjectNode absent = request();
            absent.remove("customerId");
            ObjectNode isNull = request();
            isNull.putNull("customerId");

            ConversionException whenAbsent =
                    failure(() -> CONVERTER.toSpecific(absent, PaymentRequest.class));
            ConversionException whenNull =
                    failure(() -> CONVERTER.toSpecific(isNull, PaymentRequest.class));

            assertThat(whenAbsent.reason()).isEqualTo(Reason.MISSING_FIELD);
            assertThat(whenAbsent.field()).isEqualTo("customerId");
            assertThat(whenAbsent.getMessage()).isEqualTo("customerId is required but missing");
            assertThat(whenNull.reason()).isEqualTo(Reason.MISSING_FIELD);
            assertThat(whenNull.getMessage()).isEqualTo("customerId is required but null");
        }

        @Test
        void missingFieldInsideANestedRecordNamesItsPath() {
            ObjectNode input = json(RESULT_JSON);
            ((ObjectNode) input.get("source")).remove("offset");

            ConversionException e = failure(() -> CONVERTER.toSpecific(input, PaymentResult.class));

            assertThat(e.reason()).isEqualTo(Reason.MISSING_FIELD);
            assertThat(e.field()).isEqualTo("source.offset");
        }

        @Test
        void wrongKindOfValueInANullableNestedFieldIsBadType() {
            ObjectNode input = request();
            ((ObjectNode) input.get("metadata")).put("ip", 10);

            ConversionException e =
                    failure(() -> CONVERTER.toSpecific(input, PaymentRequest.class));

            assertThat(e.reason()).isEqualTo(Reason.BAD_TYPE);
            assertThat(e.field()).isEqualTo("metadata.ip");
            assertThat(e.getMessage())
                    .isEqualTo("metadata.ip must be a string or null, not an integer");
        }

        @Test
        void numbersAsStringsAndFractionsForIntegersAreBadType() {
            ObjectNode quoted = request();
            quoted.put("amountMinor", "1250");
            ObjectNode fraction = request();
            fraction.put("amountMinor", 12.5);
            ObjectNode objectForString = request();
            objectForString.putObject("currency");

            for (ObjectNode input : List.of(quoted, fraction, objectForString)) {
                ConversionException e =
                        failure(() -> CONVERTER.toSpecific(input, PaymentRequest.class));
                assertThat(e.reason()).isEqualTo(Reason.BAD_TYPE);
                assertThat(e.field()).isIn("amountMinor", "currency");
            }
        }

        @Test
        void unknownEnumSymbolIsBadValue() {
            ObjectNode input = json(RESULT_JSON);
            ((ObjectNode) input.get("original")).put("status", "PAID");

            ConversionException e = failure(() -> CONVERTER.toSpecific(input, PaymentResult.class));

            assertThat(e.reason()).isEqualTo(Reason.BAD_VALUE);
            assertThat(e.field()).isEqualTo("original.status");
            assertThat(e.getMessage()).contains("COMPLETED, DECLINED").endsWith("not \"PAID\"");
        }

        @Test
        void outOfRangeNumbersAndBadBase64AreBadValue() {
            assertThat(
                            failure(() -> CONVERTER.toGeneric(json("{\"count\":3000000000}"), EVERYTHING))
                                    .reason())
                    .isEqualTo(Reason.BAD_VALUE);
            ObjectNode hugeAmount = request();
            hugeAmount.put("amountMinor", new java.math.BigInteger("99999999999999999999"));
            assertThat(failure(() -> CONVERTER.toSpecific(hugeAmount, PaymentRequest.class)).field())
                    .isEqualTo("amountMinor");
            ConversionException base64 =
                    failure(() -> CONVERTER.toGeneric(json("{\"raw\":\"no*base64\"}"), EVERYTHING));
            assertThat(base64.reason()).isEqualTo(Reason.BAD_VALUE);
            assertThat(base64.field()).isEqualTo("raw");
            ConversionException fixedSize =
                    failure(() -> CONVERTER.toGeneric(json("{\"hash\":\"AAE=\"}"), EVERYTHING));
            assertThat(fixedSize.reason()).isEqualTo(Reason.BAD_VALUE);
            assertThat(fixedSize.getMessage()).isEqualTo("hash must be 4 bytes, not 2");
        }

        @Test
        void errorsInArraysAndMapsNameTheElement() {
            ConversionException inArray =
                    failure(
                            () ->
                                    CONVERTER.toGeneric(
                                            json("{\"items\":[{\"sku\":\"a\",\"qty\":1},{\"sku\":\"b\"}]}"),
                                            EVERYTHING));
            ConversionException inMap =
                    failure(
                            () ->
                                    CONVERTER.toGeneric(
                                            json("{\"labels\":{\"a.b\":1}}"), EVERYTHING));

            assertThat(inArray.reason()).isEqualTo(Reason.MISSING_FIELD);
            assertThat(inArray.field()).isEqualTo("items[1].qty");
            assertThat(inMap.reason()).isEqualTo(Reason.BAD_TYPE);
            assertThat(inMap.field()).isEqualTo("labels[\"a.b\"]");
        }

        @Test
        void unknownFieldsAreIgnoredByDefaultAtEveryLevel() {
            ObjectNode input = request();
            input.put("sdkVersion", "3.1");
            ((ObjectNode) input.get("metadata")).put("extra", true);

            PaymentRequest request = CONVERTER.toSpecific(input, PaymentRequest.class);

            assertThat(written(request)).isEqualTo(request());
        }

        @Test
        void unknownFieldsAreRejectedWhenAskedWithTheirPath() {
            JsonAvroConverter strict =
                    JsonAvroConverter.builder().unknownFields(UnknownFields.REJECT).build();
            ObjectNode input = request();
            ((ObjectNode) input.get("metadata")).put("extra", true);

            ConversionException e = failure(() -> strict.toSpecific(input, PaymentRequest.class));

            assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_FIELD);
            assertThat(e.field()).isEqualTo("metadata.extra");
            assertThat(e.getMessage()).isEqualTo("metadata.extra is not a field of RequestMetadata");
            assertThat(strict.toSpecific(request(), PaymentRequest.class)).isNotNull();
        }

        @Test
        void reasonCodesAreTheDocumentedStrings() {
            assertThat(List.of(Reason.values()).stream().map(Reason::code))
                    .containsExactly(
                            "unparseable",
                            "missing_field",
                            "bad_type",
                            "too_large",
                            "bad_value",
                            "unknown_field");
        }
    }

    @Nested
    class Limits {

        @Test
        void documentOverTheByteLimitIsTooLargeAsTextAndAsBytes() {
            JsonAvroConverter small = JsonAvroConverter.builder().maxJsonBytes(100).build();
            // 60 chars but 120 UTF-8 bytes: the limit is on bytes.
            String twoByteChars = "{\"customerId\":\"" + "é".repeat(60) + "\"}";

            ConversionException text =
                    failure(() -> small.toGeneric(twoByteChars, PaymentRequest.getClassSchema()));
            ConversionException bytes =
                    failure(() -> small.parse(REQUEST_JSON.getBytes(StandardCharsets.UTF_8)));

            assertThat(text.reason()).isEqualTo(Reason.TOO_LARGE);
            assertThat(text.field()).isEmpty();
            assertThat(bytes.reason()).isEqualTo(Reason.TOO_LARGE);
            assertThat(small.parse("{\"a\":\"" + "é".repeat(40) + "\"}")).isNotNull();
        }

        @Test
        void stringOverTheLengthLimitIsTooLargeWithItsPath() {
            JsonAvroConverter limited = JsonAvroConverter.builder().maxStringLength(8).build();
            ObjectNode input = request();
            ((ObjectNode) input.get("metadata")).put("userAgent", "Mozilla/5.0");

            ConversionException e = failure(() -> limited.toSpecific(input, PaymentRequest.class));

            assertThat(e.reason()).isEqualTo(Reason.TOO_LARGE);
            assertThat(e.field()).isEqualTo("metadata.userAgent");
            assertThat(limited.toSpecific(request(), PaymentRequest.class)).isNotNull();
        }

        @Test
        void arrayOrMapOverTheLengthLimitIsTooLargeWithItsPath() {
            JsonAvroConverter limited = JsonAvroConverter.builder().maxArrayLength(2).build();

            ConversionException array =
                    failure(() -> limited.toGeneric(json("{\"tags\":[\"a\",\"b\",\"c\"]}"), EVERYTHING));
            ConversionException map =
                    failure(
                            () ->
                                    limited.toGeneric(
                                            json("{\"labels\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}}"),
                                            EVERYTHING));

            assertThat(array.reason()).isEqualTo(Reason.TOO_LARGE);
            assertThat(array.field()).isEqualTo("tags");
            assertThat(map.reason()).isEqualTo(Reason.TOO_LARGE);
            assertThat(map.field()).isEqualTo("labels");
            assertThat(limited.toGeneric(json("{\"tags\":[\"a\",\"b\"]}"), EVERYTHING)).isNotNull();
        }

        @Test
        void nestingOverTheDepthLimitIsTooLarge() {
            JsonAvroConverter shallow = JsonAvroConverter.builder().maxDepth(2).build();
            String threeLevels = "{\"items\":[{\"sku\":\"a\",\"qty\":1}]}";

            ConversionException fromNode = failure(() -> shallow.toGeneric(json(threeLevels), EVERYTHING));
            ConversionException fromText = failure(() -> shallow.toGeneric(threeLevels, EVERYTHING));

            assertThat(fromNode.reason()).isEqualTo(Reason.TOO_LARGE);
            assertThat(fromNode.field()).isEqualTo("items[0]");
            assertThat(fromText.reason()).isEqualTo(Reason.TOO_LARGE);
            assertThat(shallow.toGeneric("{\"tags\":[\"a\"]}", EVERYTHING)).isNotNull();
        }

        @Test
        void limitsMustBePositive() {
            assertThatThrownBy(() -> JsonAvroConverter.builder().maxDepth(0))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void mapsComeBackAsTheSameEntries() {
        GenericRecord record =
                CONVERTER.toGeneric(json("{\"labels\":{\"k\":\"v\"}}"), EVERYTHING);

        assertThat(record.get("labels")).isEqualTo(Map.of("k", "v"));
        assertThat(GenericData.get().validate(EVERYTHING, record)).isTrue();
    }
}
