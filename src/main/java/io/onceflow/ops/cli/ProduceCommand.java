package io.onceflow.ops.cli;

import io.onceflow.records.ConversionException;
import io.onceflow.records.JsonAvroConverter;
import io.onceflow.records.JsonAvroConverter.UnknownFields;
import io.onceflow.records.KnownSchemas.KnownType;
import io.onceflow.records.SingleObjectCodec;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/** {@code onceflow produce}: JSON lines in, Avro single-object records out to a topic. */
@Command(
        name = "produce",
        mixinStandardHelpOptions = true,
        description = {
            "Reads JSON lines (one record per line, blank lines skipped), converts each to the"
                    + " record type and sends it as an Avro single-object record, with acks=all"
                    + " and idempotence.",
            "The first bad line stops the run with exit code 1 (records before it are sent);"
                    + " with --skip-bad bad lines are reported, counted and skipped, and the"
                    + " exit code is 0.",
            "Timestamps are ISO-8601 (2026-11-25T10:00:00Z) or epoch milliseconds, nullable"
                    + " fields a value or null, bytes base64, enums their symbol."
        })
final class ProduceCommand implements Callable<Integer> {

    /** The wire contract's keys; a type not listed here is sent without a key by default. */
    private static final Map<String, String> DEFAULT_KEY_FIELDS =
            Map.of(
                    "payment-request", "idempotencyKey",
                    "payment-result", "idempotencyKey",
                    "payment-completed", "paymentId");

    private static final Set<Schema.Type> KEY_TYPES =
            Set.of(Schema.Type.STRING, Schema.Type.ENUM, Schema.Type.INT, Schema.Type.LONG);

    @ParentCommand OnceflowCli cli;

    @Spec CommandSpec spec;

    @Mixin KafkaOptions kafka;

    @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "Topic to send to.")
    String topic;

    @Option(
            names = "--type",
            defaultValue = "payment-request",
            paramLabel = "TYPE",
            converter = RecordTypeConverter.class,
            completionCandidates = RecordTypeConverter.Names.class,
            description = "Record type of every line: ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.")
    KnownType<?> type;

    @Option(
            names = "--file",
            paramLabel = "FILE",
            description = "File of JSON lines; standard input when absent or '-'.")
    String file;

    @Option(
            names = "--key-field",
            paramLabel = "FIELD",
            description =
                    "Top-level field whose value, as UTF-8 text, is the record key. Default:"
                            + " idempotencyKey for payment-request and payment-result, paymentId"
                            + " for payment-completed, no key for other types.")
    String keyField;

    @Option(names = "--skip-bad", description = "Report and skip bad lines instead of stopping.")
    boolean skipBad;

    @Option(
            names = "--allow-unknown-fields",
            description =
                    "Ignore JSON properties the type does not have; by default they make the"
                            + " line bad, since a misspelt optional field would otherwise vanish.")
    boolean allowUnknownFields;

    @Override
    public Integer call() throws IOException {
        Schema.Field key = keyField();
        try (InputStream input = openInput()) {
            requireTopic();
            return send(new JsonLines(input), key);
        }
    }

    private int send(JsonLines lines, Schema.Field key) throws IOException {
        PrintWriter err = cli.io().err();
        JsonAvroConverter converter =
                JsonAvroConverter.builder()
                        .unknownFields(allowUnknownFields ? UnknownFields.IGNORE : UnknownFields.REJECT)
                        .build();
        Map<String, Object> config =
                kafka.clientConfig(
                        Map.of(
                                ProducerConfig.CLIENT_ID_CONFIG, "onceflow-produce",
                                // Seconds, not Kafka's minute, when the brokers stop answering.
                                ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000),
                        Map.of(
                                ProducerConfig.ACKS_CONFIG, "all",
                                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true));
        AtomicLong sent = new AtomicLong();
        AtomicReference<SendFailure> sendFailure = new AtomicReference<>();
        long skipped = 0;
        try (KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer())) {
            byte[] line;
            while ((line = lines.next()) != null && sendFailure.get() == null) {
                long lineNumber = lines.lineNumber();
                if (JsonLines.isBlank(line)) {
                    continue;
                }
                SpecificRecord record;
                String recordKey;
                try {
                    record = converter.toSpecific(converter.parse(line), type.recordClass());
                    recordKey = keyOf(record, key);
                } catch (ConversionException | BadKeyException e) {
                    if (!skipBad) {
                        producer.flush();
                        throw new CliFailure(
                                "Line " + lineNumber + " is not a valid " + type.name() + ": "
                                        + describe(e) + "; stopped after sending "
                                        + plural(sent.get(), "record") + " to " + topic + ".");
                    }
                    err.println(
                            "Skipped line " + lineNumber + ", not a valid " + type.name() + ": "
                                    + describe(e) + ".");
                    skipped++;
                    continue;
                }
                producer.send(
                        new ProducerRecord<>(topic, recordKey, SingleObjectCodec.encode(record)),
                        (metadata, exception) -> {
                            if (exception == null) {
                                sent.incrementAndGet();
                            } else {
                                sendFailure.compareAndSet(null, new SendFailure(lineNumber, exception));
                            }
                        });
            }
            producer.flush();
        }
        SendFailure failure = sendFailure.get();
        if (failure != null) {
            throw new CliFailure(
                    "Kafka did not accept the record from line " + failure.lineNumber() + ": "
                            + OnceflowCli.withoutFinalStop(failure.exception().getMessage())
                            + "; " + plural(sent.get(), "record") + " sent to " + topic + ".",
                    failure.exception());
        }
        err.println(
                "Sent " + plural(sent.get(), type.name() + " record") + " to " + topic
                        + (skipped > 0 ? "; skipped " + plural(skipped, "bad line") : "") + ".");
        return 0;
    }

    /**
     * Fails fast on a misspelt topic: the producer would wait max.block.ms for its metadata
     * and then blame the first record.
     */
    private void requireTopic() {
        try (Admin admin =
                Admin.create(
                        kafka.clientConfig(
                                Map.of(AdminClientConfig.CLIENT_ID_CONFIG, "onceflow-produce"),
                                Map.of()))) {
            admin.describeTopics(List.of(topic)).allTopicNames().get(15, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new CliFailure(
                        "Topic " + topic + " does not exist on " + kafka.bootstrapServers() + ".");
            }
            throw new CliFailure(
                    "Could not look up topic " + topic + " on " + kafka.bootstrapServers() + ": "
                            + OnceflowCli.withoutFinalStop(e.getCause().getMessage()) + ".",
                    e.getCause());
        } catch (TimeoutException e) {
            throw new CliFailure(
                    "Kafka at " + kafka.bootstrapServers() + " did not answer within 15s.", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliFailure("Interrupted while looking up topic " + topic + ".", e);
        }
    }

    private Schema.Field keyField() {
        String name = keyField != null ? keyField : DEFAULT_KEY_FIELDS.get(type.name());
        if (name == null || name.isEmpty()) {
            return null;
        }
        Schema.Field field = type.schema().getField(name);
        if (field == null) {
            throw new ParameterException(
                    spec.commandLine(),
                    "Key field '" + name + "' is not a top-level field of " + type.name());
        }
        Schema schema = field.schema();
        boolean usable =
                KEY_TYPES.contains(schema.getType())
                        || (schema.getType() == Schema.Type.UNION
                                && schema.getTypes().stream()
                                        .allMatch(b -> b.getType() == Schema.Type.NULL
                                                || KEY_TYPES.contains(b.getType())));
        if (!usable) {
            throw new ParameterException(
                    spec.commandLine(),
                    "Key field '" + name + "' of " + type.name()
                            + " is not a string, enum or integer, so it cannot be a key");
        }
        return field;
    }

    private static String keyOf(SpecificRecord record, Schema.Field key) {
        if (key == null) {
            return null;
        }
        Object value = record.get(key.pos());
        if (value == null) {
            throw new BadKeyException(key.name() + ", the record key, is null");
        }
        return value.toString();
    }

    private InputStream openInput() throws IOException {
        if (file == null || file.equals("-")) {
            return cli.io().in();
        }
        try {
            return Files.newInputStream(Path.of(file));
        } catch (NoSuchFileException e) {
            throw new ParameterException(spec.commandLine(), "File " + file + " does not exist");
        }
    }

    private static String describe(RuntimeException e) {
        if (e instanceof ConversionException conversion) {
            return conversion.getMessage() + " (" + conversion.reason().code() + ")";
        }
        return e.getMessage() + " (" + ConversionException.Reason.MISSING_FIELD.code() + ")";
    }

    private static String plural(long count, String noun) {
        return count + " " + noun + (count == 1 ? "" : "s");
    }

    private record SendFailure(long lineNumber, Exception exception) {}

    /** A record whose key field is null: as bad as a line that does not convert. */
    private static final class BadKeyException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadKeyException(String message) {
            super(message, null, false, false);
        }
    }
}
