package io.onceflow.ops.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.onceflow.records.JsonAvroConverter;
import io.onceflow.records.RecordDecodeException;
import io.onceflow.records.SingleObjectCodec;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code onceflow consume}: committed records of a topic as JSON lines on standard output. */
@Command(
        name = "consume",
        mixinStandardHelpOptions = true,
        description = {
            "Prints the committed records of a topic (isolation.level=read_committed), one JSON"
                    + " object per line: the record's fields, with the type detected from the"
                    + " schema fingerprint, plus metadata fields _topic, _partition, _offset,"
                    + " _timestamp (ISO-8601), _key (UTF-8 text, or null) and _type (the record"
                    + " type, e.g. payment-request).",
            "A value that does not decode is printed as a line with _error (not_single_object,"
                    + " unknown_schema or undecodable), _message and _value_base64 (the raw"
                    + " value) in place of the fields.",
            "Stops after --max-records records, or when no record arrived for --timeout."
        })
final class ConsumeCommand implements Callable<Integer> {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    @ParentCommand OnceflowCli cli;

    @Spec CommandSpec spec;

    @Mixin KafkaOptions kafka;

    @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "Topic to read.")
    String topic;

    @Option(
            names = "--from-beginning",
            description =
                    "Start at the earliest record; otherwise at the end (only new records). With"
                            + " --group, applies only when the group has no committed offsets.")
    boolean fromBeginning;

    @Option(names = "--max-records", paramLabel = "N", description = "Stop after N records.")
    Long maxRecords;

    @Option(
            names = "--timeout",
            defaultValue = "10s",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Stop when no record arrived for this long, e.g. 500ms, 10s, 5m. Default: ${DEFAULT-VALUE}.")
    Duration timeout;

    @Option(
            names = "--group",
            paramLabel = "GROUP",
            description =
                    "Consumer group: read its partitions from its committed offsets and commit"
                            + " what was printed. Without it, all partitions are read and nothing"
                            + " is committed.")
    String group;

    @Override
    public Integer call() {
        if (maxRecords != null && maxRecords <= 0) {
            throw new ParameterException(spec.commandLine(), "--max-records must be positive");
        }
        if (timeout.isZero()) {
            throw new ParameterException(spec.commandLine(), "--timeout must be longer than 0");
        }
        Map<String, Object> enforced = new HashMap<>();
        enforced.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        enforced.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        enforced.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, fromBeginning ? "earliest" : "latest");
        if (group != null) {
            enforced.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        }
        Map<String, Object> config =
                kafka.clientConfig(Map.of(ConsumerConfig.CLIENT_ID_CONFIG, "onceflow-consume"), enforced);

        KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        // Ctrl-C: wake the poll and let the loop commit and close, instead of leaving the group
        // to time out; the hook waits for that, as the JVM stops once hooks return.
        CountDownLatch closed = new CountDownLatch(1);
        Thread onInterrupt =
                new Thread(
                        () -> {
                            consumer.wakeup();
                            try {
                                closed.await(10, TimeUnit.SECONDS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        "onceflow-consume-stop");
        Runtime.getRuntime().addShutdownHook(onInterrupt);
        try {
            return consume(consumer);
        } finally {
            try {
                consumer.close();
            } finally {
                closed.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(onInterrupt);
                } catch (IllegalStateException shuttingDown) {
                    // The hook is running; it is waiting for the latch released above.
                }
            }
        }
    }

    private int consume(KafkaConsumer<byte[], byte[]> consumer) {
        PrintWriter out = cli.io().out();
        PrintWriter err = cli.io().err();
        SingleObjectCodec codec = new SingleObjectCodec(OnceflowCli.KNOWN_TYPES);
        JsonAvroConverter converter = JsonAvroConverter.withDefaults();
        List<PartitionInfo> partitions;
        try {
            partitions = consumer.partitionsFor(topic, timeout);
        } catch (TimeoutException e) {
            throw new CliFailure(
                    "Kafka at " + kafka.bootstrapServers() + " did not answer within "
                            + timeout.toString().substring(2).toLowerCase(Locale.ROOT)
                            + " (--timeout).",
                    e);
        }
        if (partitions == null || partitions.isEmpty()) {
            throw new CliFailure(
                    "Topic " + topic + " does not exist on " + kafka.bootstrapServers() + ".");
        }
        if (group == null) {
            List<TopicPartition> assigned =
                    partitions.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(assigned);
            if (fromBeginning) {
                consumer.seekToBeginning(assigned);
            } else {
                consumer.seekToEnd(assigned);
            }
        } else {
            consumer.subscribe(List.of(topic));
        }

        long printed = 0;
        long undecodable = 0;
        Map<TopicPartition, OffsetAndMetadata> printedOffsets = new HashMap<>();
        long idleDeadline = System.nanoTime() + timeout.toNanos();
        try {
            reading:
            while (maxRecords == null || printed < maxRecords) {
                long idleLeft = idleDeadline - System.nanoTime();
                if (idleLeft <= 0) {
                    break;
                }
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofNanos(idleLeft));
                if (records.isEmpty()) {
                    continue;
                }
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    ObjectNode line = render(record, codec, converter);
                    if (line.has("_error")) {
                        undecodable++;
                    }
                    out.println(line.toString());
                    printed++;
                    printedOffsets.put(
                            new TopicPartition(record.topic(), record.partition()),
                            new OffsetAndMetadata(record.offset() + 1));
                    if (maxRecords != null && printed >= maxRecords) {
                        break reading;
                    }
                }
                out.flush();
                idleDeadline = System.nanoTime() + timeout.toNanos();
            }
        } catch (WakeupException interrupted) {
            // Ctrl-C: end as if the timeout had passed.
        }
        out.flush();
        if (group != null && !printedOffsets.isEmpty()) {
            consumer.commitSync(printedOffsets);
        }
        err.println(
                "Read " + printed + (printed == 1 ? " record" : " records") + " from " + topic
                        + (undecodable > 0 ? ", " + undecodable + " of them undecodable" : "")
                        + ".");
        return 0;
    }

    private static ObjectNode render(
            ConsumerRecord<byte[], byte[]> record,
            SingleObjectCodec codec,
            JsonAvroConverter converter) {
        ObjectNode line = NODES.objectNode();
        line.put("_topic", record.topic());
        line.put("_partition", record.partition());
        line.put("_offset", record.offset());
        line.put(
                "_timestamp",
                record.timestamp() < 0 ? null : Instant.ofEpochMilli(record.timestamp()).toString());
        line.put("_key", record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8));
        byte[] value = record.value();
        try {
            SpecificRecord decoded = codec.decode(value);
            line.put(
                    "_type",
                    codec.knownSchemas()
                            .byFingerprint(SingleObjectCodec.fingerprint(value))
                            .orElseThrow()
                            .name());
            line.setAll(converter.toJson(decoded));
        } catch (RecordDecodeException e) {
            line.put("_error", e.reason().code());
            line.put("_message", e.getMessage());
            line.put("_value_base64", value == null ? null : Base64.getEncoder().encodeToString(value));
        }
        return line;
    }
}
