package io.onceflow.ops.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.onceflow.local.LocalKafka;
import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.records.JsonAvroConverter;
import io.onceflow.records.SingleObjectCodec;
import io.onceflow.testing.TestServices;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** produce and consume against the real test broker. */
class OnceflowCliITCase {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String REQUEST_1 =
            """
            {"idempotencyKey":"k-1","customerId":"c-1","merchantId":"m-1","amountMinor":1250,\
            "currency":"EUR","requestedAt":"2026-11-25T10:00:00Z",\
            "metadata":{"ip":"10.0.0.1","userAgent":"curl/8"}}""";
    private static final String REQUEST_2 =
            """
            {"idempotencyKey":"k-2","customerId":"c-2","merchantId":"m-1","amountMinor":99,\
            "currency":"USD","requestedAt":"2026-11-25T10:00:01.500Z",\
            "metadata":{"ip":null,"userAgent":null}}""";
    /** REQUEST_3 as an SDK might send it: epoch millis, absent nullable fields. */
    private static final String REQUEST_3_AS_SENT =
            """
            {"idempotencyKey":"k-3","customerId":"c-3","merchantId":"m-2","amountMinor":5,\
            "currency":"GBP","requestedAt":1795600802000,"metadata":{}}""";
    private static final String REQUEST_3_AS_READ =
            """
            {"idempotencyKey":"k-3","customerId":"c-3","merchantId":"m-2","amountMinor":5,\
            "currency":"GBP","requestedAt":"2026-11-25T10:00:02Z",\
            "metadata":{"ip":null,"userAgent":null}}""";
    private static final String MISSING_CUSTOMER =
            """
            {"idempotencyKey":"k-9","merchantId":"m-1","amountMinor":1,"currency":"EUR",\
            "requestedAt":"2026-11-25T10:00:00Z","metadata":{}}""";

    private static LocalKafka kafka;

    @BeforeAll
    static void startKafka() {
        kafka = TestServices.kafka();
    }

    private static String newTopic(int partitions) throws Exception {
        String topic = "cli-" + UUID.randomUUID();
        kafka.createTopics(partitions, List.of(topic));
        return topic;
    }

    private static Path jsonLines(String... lines) {
        try {
            Path file = TestServices.newDirectory("cli").resolve("input.jsonl");
            Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static CliRun produce(String topic, String... more) {
        List<String> args =
                new ArrayList<>(
                        List.of("produce", "--bootstrap-servers", kafka.bootstrapServers(), "--topic", topic));
        args.addAll(Arrays.asList(more));
        return CliRun.of(args.toArray(String[]::new));
    }

    private static CliRun consume(String topic, String... more) {
        List<String> args =
                new ArrayList<>(
                        List.of("consume", "--bootstrap-servers", kafka.bootstrapServers(), "--topic", topic));
        args.addAll(Arrays.asList(more));
        return CliRun.of(args.toArray(String[]::new));
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The consumed lines by key, as parsed JSON. */
    private static Map<String, ObjectNode> byKey(CliRun run) {
        return run.outLines().stream()
                .map(line -> (ObjectNode) parse(line))
                .collect(Collectors.toMap(line -> line.get("_key").asText(), Function.identity()));
    }

    private static ObjectNode withoutMetadata(ObjectNode line) {
        ObjectNode fields = line.deepCopy();
        fields.remove(List.of("_topic", "_partition", "_offset", "_timestamp", "_key", "_type"));
        return fields;
    }

    private static KafkaConsumer<byte[], byte[]> rawConsumer() {
        return new KafkaConsumer<>(
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
    }

    /** Records on the topic, counted from the broker's end offsets, not from CLI output. */
    private static long recordsOn(String topic) {
        try (KafkaConsumer<byte[], byte[]> consumer = rawConsumer()) {
            List<TopicPartition> partitions =
                    consumer.partitionsFor(topic).stream()
                            .map(p -> new TopicPartition(topic, p.partition()))
                            .toList();
            return consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
        }
    }

    @Test
    void producedJsonLinesComeBackAsTheSameJsonKeyedByIdempotencyKey() throws Exception {
        String topic = newTopic(2);
        Path input = jsonLines(REQUEST_1, "", REQUEST_2, REQUEST_3_AS_SENT);

        CliRun produced = produce(topic, "--file", input.toString());
        CliRun consumed = consume(topic, "--from-beginning", "--max-records", "3", "--timeout", "30s");

        assertThat(produced.exitCode()).isZero();
        assertThat(produced.err()).isEqualTo("Sent 3 payment-request records to " + topic + ".\n");
        assertThat(produced.out()).isEmpty();
        assertThat(consumed.exitCode()).isZero();
        assertThat(consumed.err()).isEqualTo("Read 3 records from " + topic + ".\n");
        Map<String, ObjectNode> lines = byKey(consumed);
        assertThat(lines).containsOnlyKeys("k-1", "k-2", "k-3");
        assertThat(withoutMetadata(lines.get("k-1"))).isEqualTo(parse(REQUEST_1));
        assertThat(withoutMetadata(lines.get("k-2"))).isEqualTo(parse(REQUEST_2));
        assertThat(withoutMetadata(lines.get("k-3"))).isEqualTo(parse(REQUEST_3_AS_READ));
        for (ObjectNode line : lines.values()) {
            assertThat(line.get("_key")).isEqualTo(line.get("idempotencyKey"));
            assertThat(line.get("_type").asText()).isEqualTo("payment-request");
            assertThat(line.get("_topic").asText()).isEqualTo(topic);
            assertThat(line.get("_partition").isInt()).isTrue();
            assertThat(line.get("_offset").isIntegralNumber()).isTrue();
            assertThat(line.get("_timestamp").isTextual()).isTrue();
        }
    }

    @Test
    void onTheWireTheKeyIsTheUtf8IdempotencyKeyAndTheValueSingleObjectAvro() throws Exception {
        String topic = newTopic(1);

        CliRun produced = produce(topic, "--file", jsonLines(REQUEST_1).toString());

        assertThat(produced.exitCode()).isZero();
        try (KafkaConsumer<byte[], byte[]> consumer = rawConsumer()) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (records.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
            assertThat(records).hasSize(1);
            assertThat(new String(records.get(0).key(), StandardCharsets.UTF_8)).isEqualTo("k-1");
            PaymentRequest request =
                    SingleObjectCodec.forTopicRecords()
                            .decode(records.get(0).value(), PaymentRequest.class);
            assertThat(request.getIdempotencyKey()).isEqualTo("k-1");
            assertThat(request.getAmountMinor()).isEqualTo(1250L);
        }
    }

    @Test
    void standardInputAndOtherTypesWithTheirContractKey() throws Exception {
        String topic = newTopic(1);
        String completed =
                """
                {"paymentId":"p-1","idempotencyKey":"k-1","customerId":"c-1","merchantId":"m-1",\
                "amountMinor":1250,"currency":"EUR","gatewayReference":"g-1",\
                "requestedAt":"2026-11-25T10:00:00Z","completedAt":"2026-11-25T10:00:02Z"}""";

        CliRun produced =
                CliRun.withInput(
                        completed + "\n",
                        Map.of(),
                        "produce", "--bootstrap-servers", kafka.bootstrapServers(), "--topic", topic,
                        "--type", "payment-completed");
        CliRun consumed = consume(topic, "--from-beginning", "--max-records", "1", "--timeout", "30s");

        assertThat(produced.exitCode()).isZero();
        assertThat(produced.err()).isEqualTo("Sent 1 payment-completed record to " + topic + ".\n");
        ObjectNode line = (ObjectNode) parse(consumed.outLines().get(0));
        assertThat(line.get("_key").asText()).isEqualTo("p-1");
        assertThat(line.get("_type").asText()).isEqualTo("payment-completed");
        assertThat(withoutMetadata(line)).isEqualTo(parse(completed));
    }

    @Test
    void badLineStopsTheRunWithExit1AndOneSentenceNamingTheLine() throws Exception {
        String topic = newTopic(1);
        Path input = jsonLines(REQUEST_1, MISSING_CUSTOMER, REQUEST_2);

        CliRun run = produce(topic, "--file", input.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.errLines()).hasSize(1);
        assertThat(run.err())
                .isEqualTo(
                        "Line 2 is not a valid payment-request: customerId is required but"
                                + " missing (missing_field); stopped after sending 1 record to "
                                + topic + ".\n");
        assertThat(recordsOn(topic)).isEqualTo(1);
    }

    @Test
    void skipBadReportsEachBadLineAndSendsTheRest() throws Exception {
        String topic = newTopic(1);
        String quotedAmount = REQUEST_2.replace("\"amountMinor\":99", "\"amountMinor\":\"99\"");
        Path input = jsonLines(REQUEST_1, quotedAmount, "not json", REQUEST_3_AS_SENT);

        CliRun run = produce(topic, "--file", input.toString(), "--skip-bad");

        assertThat(run.exitCode()).isZero();
        assertThat(run.errLines()).hasSize(3);
        assertThat(run.errLines().get(0))
                .isEqualTo(
                        "Skipped line 2, not a valid payment-request: amountMinor must be an"
                                + " integer, not a string (bad_type).");
        assertThat(run.errLines().get(1)).startsWith("Skipped line 3").endsWith("(unparseable).");
        assertThat(run.errLines().get(2))
                .isEqualTo("Sent 2 payment-request records to " + topic + "; skipped 2 bad lines.");
        assertThat(recordsOn(topic)).isEqualTo(2);
    }

    @Test
    void misspeltFieldIsABadLineUnlessUnknownFieldsAreAllowed() throws Exception {
        String topic = newTopic(1);
        String misspelt = REQUEST_1.replace("\"userAgent\"", "\"userAgnet\"");
        Path input = jsonLines(misspelt);

        CliRun strict = produce(topic, "--file", input.toString());
        CliRun lenient = produce(topic, "--file", input.toString(), "--allow-unknown-fields");

        assertThat(strict.exitCode()).isEqualTo(1);
        assertThat(strict.err()).contains("metadata.userAgnet is not a field of RequestMetadata (unknown_field)");
        assertThat(lenient.exitCode()).isZero();
        assertThat(recordsOn(topic)).isEqualTo(1);
    }

    @Test
    void valuesThatDoNotDecodeArePrintedWithTheirErrorReason() throws Exception {
        String topic = newTopic(1);
        byte[] valid = SingleObjectCodec.encode(
                JsonAvroConverter.withDefaults()
                        .toSpecific(REQUEST_1, PaymentRequest.class));
        byte[] unknownFingerprint = valid.clone();
        unknownFingerprint[5] ^= 0x55;
        Map<String, byte[]> values = new LinkedHashMap<>();
        byte[] json = REQUEST_1.getBytes(StandardCharsets.UTF_8);
        values.put("json", json);
        values.put("short", "oops".getBytes(StandardCharsets.UTF_8));
        values.put("truncated", Arrays.copyOf(valid, valid.length - 4));
        values.put("unknown", unknownFingerprint);
        values.put("tombstone", null);
        values.put("k-1", valid);
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(
                        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                        new ByteArraySerializer(),
                        new ByteArraySerializer())) {
            for (Map.Entry<String, byte[]> entry : values.entrySet()) {
                producer.send(
                        new ProducerRecord<>(
                                topic, entry.getKey().getBytes(StandardCharsets.UTF_8), entry.getValue()));
            }
        }

        CliRun run = consume(topic, "--from-beginning", "--max-records", "6", "--timeout", "30s");

        assertThat(run.exitCode()).isZero();
        assertThat(run.err()).isEqualTo("Read 6 records from " + topic + ", 5 of them undecodable.\n");
        Map<String, ObjectNode> lines = byKey(run);
        Map<String, String> errors = new HashMap<>();
        lines.forEach((key, line) -> errors.put(key, line.path("_error").asText("none")));
        assertThat(errors)
                .containsExactlyInAnyOrderEntriesOf(
                        Map.of(
                                "json", "not_single_object",
                                "short", "not_single_object",
                                "truncated", "undecodable",
                                "unknown", "unknown_schema",
                                "tombstone", "not_single_object",
                                "k-1", "none"));
        assertThat(lines.get("json").get("_value_base64").asText())
                .isEqualTo(Base64.getEncoder().encodeToString(json));
        assertThat(lines.get("json").get("_message").asText()).contains("starts with 0x7B 0x22");
        assertThat(lines.get("short").get("_message").asText()).contains("4 bytes");
        assertThat(lines.get("tombstone").get("_value_base64").isNull()).isTrue();
        assertThat(withoutMetadata(lines.get("k-1"))).isEqualTo(parse(REQUEST_1));
    }

    @Test
    void abortedTransactionalRecordsAreNotPrinted() throws Exception {
        String topic = newTopic(1);
        byte[] value =
                SingleObjectCodec.encode(
                        JsonAvroConverter.withDefaults()
                                .toSpecific(REQUEST_1, PaymentRequest.class));
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(
                        Map.of(
                                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "cli-" + topic,
                                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60_000),
                        new ByteArraySerializer(),
                        new ByteArraySerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "aborted".getBytes(StandardCharsets.UTF_8), value));
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "committed".getBytes(StandardCharsets.UTF_8), value));
            producer.commitTransaction();
        }

        CliRun run = consume(topic, "--from-beginning", "--timeout", "2s");

        assertThat(run.exitCode()).isZero();
        assertThat(byKey(run)).containsOnlyKeys("committed");
    }

    @Test
    void groupCommitsWhatItPrintedSoTheNextRunContinues() throws Exception {
        String topic = newTopic(2);
        String group = "cli-group-" + UUID.randomUUID();
        assertThat(produce(topic, "--file", jsonLines(REQUEST_1, REQUEST_2, REQUEST_3_AS_SENT).toString())
                        .exitCode())
                .isZero();

        CliRun first =
                consume(topic, "--group", group, "--from-beginning", "--max-records", "2", "--timeout", "30s");
        CliRun second = consume(topic, "--group", group, "--from-beginning", "--timeout", "3s");

        assertThat(first.outLines()).hasSize(2);
        assertThat(second.outLines()).hasSize(1);
        assertThat(byKey(first).keySet()).doesNotContainAnyElementsOf(byKey(second).keySet());
    }

    @Test
    void idleTimeoutEndsARunThatFindsNothing() throws Exception {
        String topic = newTopic(1);

        CliRun run = consume(topic, "--from-beginning", "--timeout", "500ms");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).isEqualTo("Read 0 records from " + topic + ".\n");
    }

    @Test
    void missingTopicIsARuntimeFailureInOneSentence() {
        String topic = "no-such-topic-" + UUID.randomUUID();

        CliRun consumed = consume(topic, "--timeout", "5s");
        CliRun produced = produce(topic, "--file", jsonLines(REQUEST_1).toString());

        for (CliRun run : List.of(consumed, produced)) {
            assertThat(run.exitCode()).isEqualTo(1);
            assertThat(run.errLines()).hasSize(1);
            assertThat(run.err())
                    .isEqualTo(
                            "Topic " + topic + " does not exist on " + kafka.bootstrapServers() + ".\n");
        }
    }
}
