package io.onceflow.ops.replay;

import io.onceflow.analytics.AnalyticsConfig;
import io.onceflow.analytics.AnalyticsJob;
import io.onceflow.analytics.EventTypes;
import io.onceflow.analytics.model.AnalyticsRecord;
import io.onceflow.config.JobSubmission;
import io.onceflow.ops.reconcile.AnalyticsReconciler;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import io.onceflow.ingest.KafkaSources;
import io.onceflow.ingest.TopicRange;
import io.onceflow.lake.LakeCatalog;
import io.onceflow.lake.LakeReader;
import io.onceflow.lake.LakeSinks;
import io.onceflow.lake.LakeTables;
import io.onceflow.ops.reconcile.PaymentsReconciler;
import io.onceflow.payments.PaymentRows;
import io.onceflow.payments.PaymentsConfig;
import io.onceflow.payments.PaymentsJob;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.records.SingleObjectCodec;
import io.onceflow.records.SourcePosition;
import io.onceflow.records.SourceRecord;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.FilterFunction;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;
import org.apache.iceberg.Table;
import org.apache.iceberg.expressions.Expressions;
import org.apache.kafka.clients.consumer.KafkaConsumer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A replay: a bounded run over an offset range of a job's topic, with fresh source state (a new
 * job, never a savepoint), into the job's idempotent sinks. {@code onceflow replay} resolves the
 * time range to offsets and submits this class like any job:
 *
 * <pre>
 * ReplayJob --job payments --range payments.results:0=120-480,1=96-410 --config jobs/payments.yaml [--set k=v ...]
 * </pre>
 *
 * <p><b>payments</b> rebuilds the sinks from {@code payments.results}, never from the requests:
 * the gateway is never called again. Each result of the range goes to the lake's {@code
 * payments.results} unless a row for its request (source position) is there already, and each
 * COMPLETED or DECLINED one to PostgreSQL's {@code payments} through the job's own two-phase
 * commit sink, whose {@code ON CONFLICT DO NOTHING} keeps the rows that are there. What is there
 * stays; what is missing is written once: replaying a range twice changes nothing.
 *
 * <p>The run is named {@code <job.name>-replay} and its PostgreSQL transactions are under {@code
 * <job.namespace>-replay}, so it never touches the live job's prepared transactions and may run
 * next to it.
 */
public final class ReplayJob {

    public static final String REPLAY_SUFFIX = "-replay";
    static final String SOURCE_UID = "replay-source";

    private ReplayJob() {}

    /** What main reads besides the job's own {@code --config}/{@code --set}. */
    record Arguments(String job, TopicRange range, String[] jobArgs) {
        static Arguments parse(String[] args) {
            String job = null;
            TopicRange range = null;
            List<String> rest = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                if (args[i].equals("--job") && i + 1 < args.length) {
                    job = args[++i];
                } else if (args[i].equals("--range") && i + 1 < args.length) {
                    range = TopicRange.decode(args[++i]);
                } else {
                    rest.add(args[i]);
                }
            }
            if (job == null || range == null) {
                throw new IllegalArgumentException("Usage: ReplayJob --job payments|analytics --range topic:partition=start-end,... --config <file> [--set section.key=value ...]");
            }
            return new Arguments(job, range, rest.toArray(String[]::new));
        }
    }

    /** The job's overrides plus the replay's own name and transaction namespace. */
    public static Map<String, String> replayOverrides(Map<String, String> overrides, String name, String namespace) {
        Map<String, String> all = new LinkedHashMap<>(overrides);
        all.put("job.name", name.endsWith(REPLAY_SUFFIX) ? name : name + REPLAY_SUFFIX);
        all.put("job.namespace", namespace.endsWith(REPLAY_SUFFIX) ? namespace : namespace + REPLAY_SUFFIX);
        return all;
    }

    public static void main(String[] args) throws Exception {
        Arguments arguments = Arguments.parse(args);
        switch (arguments.job()) {
            case "payments" -> {
                var parsed = JobSubmission.parse(arguments.jobArgs(), "ReplayJob", "jobs/payments.yaml");
                PaymentsConfig live = PaymentsConfig.load(parsed.configFile(), parsed.overrides());
                PaymentsConfig config = PaymentsConfig.load(parsed.configFile(),
                        replayOverrides(parsed.overrides(), live.job().name(), live.job().namespace()));
                StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
                JobSubmission.configure(env, config.job());
                buildPayments(env, config, arguments.range());
                env.execute(config.job().name());
            }
            case "analytics" -> {
                var parsed = JobSubmission.parse(arguments.jobArgs(), "ReplayJob", "jobs/analytics.yaml");
                AnalyticsConfig live = AnalyticsConfig.load(parsed.configFile(), parsed.overrides());
                AnalyticsConfig config = AnalyticsConfig.load(parsed.configFile(),
                        replayOverrides(parsed.overrides(), live.job().name(), live.job().namespace()));
                StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
                JobSubmission.configure(env, config.job());
                buildAnalytics(env, config, arguments.range());
                env.execute(config.job().name());
            }
            default -> throw new IllegalArgumentException("ReplayJob replays payments or analytics, not '" + arguments.job() + "'.");
        }
    }

    /** The payments replay of {@code resultsRange} (a range of {@code payments.results}). */
    public static void buildPayments(StreamExecutionEnvironment env, PaymentsConfig config, TopicRange resultsRange) {
        if (!resultsRange.topic().equals(config.topics().results())) {
            throw new IllegalArgumentException("A payments replay reads " + config.topics().results() + ", not " + resultsRange.topic() + ".");
        }
        LakeCatalog lake = LakeCatalog.open(config.lake(), config.lake().catalogEndpoint(config.postgres()));
        Table table = lake.ensureTable(LakeTables.paymentResults(config.lake()));
        Set<String> inLake = paymentsInLake(config, resultsRange, table);

        DataStream<PaymentResult> results =
                env.fromSource(KafkaSources.range(config.kafka(), resultsRange), WatermarkStrategy.noWatermarks(),
                                "Kafka: " + resultsRange.topic() + " (replay)")
                        .uid(SOURCE_UID)
                        // Its own vertex, so the REST API's write-records of it are the records read (progress).
                        .disableChaining()
                        .flatMap(new DecodeResults())
                        .returns(new AvroTypeInfo<>(PaymentResult.class))
                        .uid("replay-decode-results")
                        .name("Decode results");

        LakeSinks.append(
                results.filter(new NotInLake(inLake))
                        .uid("replay-missing-in-lake")
                        .name("Results missing in the lake")
                        .map(LakeTables.paymentResultRows(table.schema()))
                        .returns(LakeSinks.rowType(table.schema()))
                        .uid("replay-lake-rows")
                        .name("Lake rows of results"),
                lake,
                LakeTables.PAYMENT_RESULTS,
                "replay-lake-payments-results");

        results.filter(PaymentsJob::isRecordedPayment)
                .uid("replay-recorded-payments")
                .name("Completed and declined payments")
                .sinkTo(PaymentRows.sink(config))
                .uid("replay-postgres-payments")
                .name("PostgreSQL: payments");
    }

    /**
     * The analytics replay of {@code eventsRange} (a range of {@code analytics.events}): the whole
     * analytics pipeline (validation, dedup, enrichment, lateness) with fresh state, its lake rows
     * replacing the lake's rows of the same events ({@link LakeSinks#replace}): a row the lake
     * lacks is added, a wrong or duplicated one is replaced by the one the pipeline writes now.
     * Dead letters are not written again (the topic has them) and the windows go nowhere: {@link
     * MinuteRewrite} recomputes the range's windows from the lake once the run finished.
     *
     * <p>Lateness is the one thing a replay cannot reproduce: whether an event came after its
     * window closed depends on what else had arrived by then, and a replay reads a backlog in
     * another order. So an event the lake has a row for keeps that row's {@code late}, which the
     * live job decided; only events the lake lacks get the replay's. That also makes a second
     * replay of a range write exactly what the first one did.
     */
    public static void buildAnalytics(StreamExecutionEnvironment env, AnalyticsConfig config, TopicRange eventsRange) {
        if (!eventsRange.topic().equals(config.topics().events())) {
            throw new IllegalArgumentException("An analytics replay reads " + config.topics().events() + ", not " + eventsRange.topic() + ".");
        }
        LakeCatalog lake = LakeCatalog.open(config.lake(), config.lake().catalogEndpoint(config.postgres()));
        Table table = lake.ensureTable(LakeTables.analyticsEvents(config.lake()));
        Set<String> named;
        try (KafkaConsumer<byte[], byte[]> consumer = TopicRange.consumer(config.kafka().bootstrapServers(), config.kafka().properties())) {
            named = AnalyticsReconciler.read(consumer, eventsRange).named();
        }
        HashMap<String, Boolean> recordedLateness = new HashMap<>();
        LakeReader.forEach(table, Expressions.alwaysTrue(), row -> {
            String id = (String) row.getField("event_id");
            if (named.contains(id)) {
                recordedLateness.merge(id, Boolean.TRUE.equals(row.getField("late")), Boolean::logicalOr);
            }
        });
        var connectors = new AnalyticsJob.Connectors(
                        KafkaSources.range(config.kafka(), eventsRange),
                        new DiscardingSink<>(),
                        new DiscardingSink<>(),
                        lake,
                        // Its own vertex, so the REST API's write-records of it are the records read (progress).
                        stream -> ((SingleOutputStreamOperator<SourceRecord>) stream).disableChaining())
                .replacingInLake(stream -> stream.map(new RecordedLateness(recordedLateness))
                        .returns(stream.getType())
                        .uid("replay-recorded-lateness")
                        .name("Lateness the lake recorded"));
        new AnalyticsJob(config).build(env, connectors);
    }

    /** Sets {@code late} of an event the lake has a row for to that row's. */
    static final class RecordedLateness implements MapFunction<AnalyticsRecord, AnalyticsRecord> {
        private static final long serialVersionUID = 1L;
        private final HashMap<String, Boolean> lateById;

        RecordedLateness(HashMap<String, Boolean> lateById) {
            this.lateById = lateById;
        }

        @Override
        public AnalyticsRecord map(AnalyticsRecord record) {
            Boolean late = lateById.get(EventTypes.eventId(EventTypes.event(record)));
            if (late != null) {
                record.setLate(late);
            }
            return record;
        }
    }

    /**
     * The request positions of the range's results that already have their lake row: read the
     * range once here (on the client, or the JobManager running main), then the lake rows of the
     * requests those results answer.
     */
    static Set<String> paymentsInLake(PaymentsConfig config, TopicRange resultsRange, Table table) {
        SingleObjectCodec codec = SingleObjectCodec.forTopicRecords();
        Map<Integer, long[]> span = new HashMap<>();
        String[] requestsTopic = {config.topics().requests()};
        try (KafkaConsumer<byte[], byte[]> consumer = TopicRange.consumer(config.kafka().bootstrapServers(), config.kafka().properties())) {
            resultsRange.read(consumer, Duration.ofMinutes(1), record -> {
                SourcePosition source = codec.decode(record.value(), PaymentResult.class).getSource();
                requestsTopic[0] = source.getTopic();
                span.merge(source.getPartition(), new long[] {source.getOffset(), source.getOffset() + 1},
                        (a, b) -> new long[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])});
            });
        }
        if (span.isEmpty()) {
            return Set.of();
        }
        List<TopicRange.Partition> partitions = new ArrayList<>();
        span.forEach((partition, bounds) -> partitions.add(new TopicRange.Partition(partition, bounds[0], bounds[1])));
        TopicRange requests = new TopicRange(requestsTopic[0], partitions);
        Set<String> present = new HashSet<>();
        LakeReader.forEach(table, PaymentsReconciler.lakeFilter(requests), row ->
                present.add(PaymentsReconciler.key((Integer) row.getField("source_partition"), (Long) row.getField("source_offset"))));
        return present;
    }

    /** Results from their single-object encoding; a record that is not one is skipped (results hold nothing else). */
    static final class DecodeResults implements FlatMapFunction<SourceRecord, PaymentResult> {
        private static final long serialVersionUID = 1L;
        private transient SingleObjectCodec codec;

        @Override
        public void flatMap(SourceRecord record, Collector<PaymentResult> out) {
            if (codec == null) {
                codec = SingleObjectCodec.forTopicRecords();
            }
            if (record.getValue() != null) {
                byte[] bytes = new byte[record.getValue().remaining()];
                record.getValue().duplicate().get(bytes);
                out.collect(codec.decode(bytes, PaymentResult.class));
            }
        }
    }

    /** Passes results whose request has no lake row yet. */
    static final class NotInLake implements FilterFunction<PaymentResult> {
        private static final long serialVersionUID = 1L;
        private final HashSet<String> present;

        NotInLake(Set<String> present) {
            this.present = new HashSet<>(present);
        }

        @Override
        public boolean filter(PaymentResult result) {
            return !present.contains(PaymentsReconciler.key(result.getSource().getPartition(), result.getSource().getOffset()));
        }
    }
}
