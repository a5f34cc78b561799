package io.onceflow.analytics;

import io.onceflow.analytics.model.AnalyticsMinute;
import io.onceflow.analytics.model.AnalyticsRecord;
import io.onceflow.config.JobSubmission;
import io.onceflow.ingest.DeadLetters;
import io.onceflow.ingest.KafkaSources;
import io.onceflow.lake.LakeCatalog;
import io.onceflow.lake.LakeSinks;
import io.onceflow.lake.LakeTables;
import io.onceflow.records.DeadLetter;
import io.onceflow.records.OutboundRecord;
import io.onceflow.records.SourceRecord;
import io.onceflow.sinks.kafka.TransactionalKafkaSinks;
import io.onceflow.sinks.postgres.AutoCommitPostgresSink;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.iceberg.Table;

import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The analytics job: JSON events from {@code analytics.events} in; every valid event once in the
 * lake table {@code analytics.events}, per-type minute aggregates in PostgreSQL's {@code
 * analytics_minute}, and every invalid event in {@code analytics.dlq} — each exactly once.
 *
 * <pre>
 * Kafka source ─ validate ─┬─ watermarks ─ keyBy(eventId) dedup ─ device class ─ user profile (async) ─ lateness marker ─┬─ Iceberg: analytics.events (all, with late flag)
 *                          │                                                                                            └─ not late ─ keyBy(type) 1-min windows ─ PostgreSQL: analytics_minute (upserts)
 *                          └─ dead letters ─ Kafka: analytics.dlq (transactional)
 * </pre>
 *
 * <p>All three sinks commit only when a checkpoint completes: Kafka transactions, Iceberg
 * snapshots, PostgreSQL prepared transactions.
 *
 * <p>Watermarks are assigned right after validation, chained to the source, not inside the
 * source: the source's timestamp assigner would see only bytes, so it would parse each event a
 * second time, and an event from the far future that validation rejects ({@code bad_timestamp})
 * would already have pushed the watermark ahead and made every honest event after it late. With
 * as many source subtasks as partitions (the default set-up) each assigner sees one partition,
 * as a per-partition watermark would; a subtask reading several partitions merges them, which
 * the bounded out-of-orderness has to cover.
 *
 * <p>The job takes its source and sinks as {@link Connectors}, so tests run the same graph
 * against bounded sources and fault-injecting sinks. Every stateful operator has a stable uid:
 * changing one makes savepoints of earlier versions unusable.
 */
public final class AnalyticsJob {

    public static final String SOURCE_UID = "analytics-events-source";
    public static final String VALIDATE_UID = "validate-analytics-events";
    public static final String WATERMARKS_UID = "analytics-event-time";
    public static final String DEDUP_UID = "dedup-analytics-events";
    public static final String DEVICE_CLASS_UID = "enrich-device-class";
    public static final String USER_PROFILE_UID = "enrich-user-profile";
    public static final String LATENESS_UID = "mark-late-events";
    public static final String WINDOWS_UID = "analytics-minute-windows";
    public static final String KAFKA_SINK_UID = "analytics-kafka-sink";
    public static final String AGGREGATE_SINK_UID = "postgres-analytics-minute-sink";
    public static final String LAKE_SINK_UID = "lake-analytics-events";

    private final AnalyticsConfig config;

    public AnalyticsJob(AnalyticsConfig config) {
        this.config = config;
    }

    /** What the job reads from and writes to; production builds them from the configuration. */
    public record Connectors(
            Source<SourceRecord, ?, ?> events,
            Sink<OutboundRecord> deadLetters,
            Sink<AnalyticsMinute> minuteTable,
            LakeCatalog lake,
            UnaryOperator<DataStream<SourceRecord>> afterSource,
            UnaryOperator<DataStream<AnalyticsRecord>> beforeLake,
            LakeSinks.Write lakeWrite) {

        /** The connectors with nothing between the lateness marker and the lake, which they append to (the job as it runs). */
        public Connectors(
                Source<SourceRecord, ?, ?> events,
                Sink<OutboundRecord> deadLetters,
                Sink<AnalyticsMinute> minuteTable,
                LakeCatalog lake,
                UnaryOperator<DataStream<SourceRecord>> afterSource) {
            this(events, deadLetters, minuteTable, lake, afterSource, stream -> stream, LakeSinks.Write.APPEND);
        }

        /**
         * The connectors the configuration names: Kafka, PostgreSQL and the lake. Opens the lake's
         * catalog here, on the client, to create or evolve {@code analytics.events}.
         */
        public static Connectors of(AnalyticsConfig config, boolean bounded) {
            return of(config, bounded, DeliveryGuarantee.EXACTLY_ONCE);
        }

        /**
         * As {@link #of(AnalyticsConfig, boolean)}, with the dead-letter and {@code
         * analytics_minute} sinks at {@code guarantee}. {@code AT_LEAST_ONCE} (for the benchmark's
         * price of exactly-once): Kafka without transactions, PostgreSQL in ordinary transactions at
         * each barrier ({@link AutoCommitPostgresSink}); the lake sink commits on checkpoints either
         * way.
         */
        public static Connectors of(AnalyticsConfig config, boolean bounded, DeliveryGuarantee guarantee) {
            LakeCatalog lake = LakeCatalog.open(config.lake(), config.lake().catalogEndpoint(config.postgres()));
            lake.ensureTable(LakeTables.analyticsEvents(config.lake()));
            return new Connectors(
                    KafkaSources.records(config.kafka(), config.topics().events(), bounded),
                    TransactionalKafkaSinks.withGuarantee(
                            guarantee, config.job(), config.kafka(), "kafka", List.of(config.topics().deadLetters())),
                    guarantee == DeliveryGuarantee.EXACTLY_ONCE
                            ? AnalyticsMinuteRows.sink(config)
                            : new AutoCommitPostgresSink<>(
                                    config.postgres().endpoint(),
                                    AnalyticsMinuteRows.statement(),
                                    config.aggregateSink().batchSize()),
                    lake,
                    stream -> stream);
        }

        public Connectors withAfterSource(UnaryOperator<DataStream<SourceRecord>> tap) {
            return new Connectors(events, deadLetters, minuteTable, lake, tap, beforeLake, lakeWrite);
        }

        public Connectors withMinuteTable(Sink<AnalyticsMinute> sink) {
            return new Connectors(events, deadLetters, sink, lake, afterSource, beforeLake, lakeWrite);
        }

        /**
         * Rows that replace the lake's rows of the same events, after {@code adjust} (a replay: it
         * keeps the lateness the lake recorded, see {@code ReplayJob}).
         */
        public Connectors replacingInLake(UnaryOperator<DataStream<AnalyticsRecord>> adjust) {
            return new Connectors(events, deadLetters, minuteTable, lake, afterSource, adjust, LakeSinks.Write.REPLACE);
        }
    }

    /** Adds the whole pipeline to {@code env}. */
    public void build(StreamExecutionEnvironment env, Connectors connectors) {
        DataStream<SourceRecord> records =
                connectors.afterSource()
                        .apply(
                                env.fromSource(
                                                connectors.events(),
                                                WatermarkStrategy.noWatermarks(),
                                                "Kafka: " + config.topics().events())
                                        .uid(SOURCE_UID));

        SingleOutputStreamOperator<AnalyticsRecord> valid =
                records.process(new EventValidation(config.job().name(), config.validation()))
                        .uid(VALIDATE_UID)
                        .name("Validate events");
        DataStream<DeadLetter> deadLetters = valid.getSideOutput(DeadLetters.TAG);

        var eventTime = config.eventTime();
        DataStream<AnalyticsRecord> timed =
                valid.assignTimestampsAndWatermarks(
                                WatermarkStrategy.<AnalyticsRecord>forBoundedOutOfOrderness(eventTime.maxOutOfOrderness())
                                        .withTimestampAssigner((record, kafkaTimestamp) ->
                                                EventTypes.occurredAt(EventTypes.event(record)).toEpochMilli())
                                        .withIdleness(eventTime.idleness()))
                        .uid(WATERMARKS_UID)
                        .name("Event time: occurredAt");

        DataStream<AnalyticsRecord> unique =
                timed.keyBy(record -> EventTypes.eventId(EventTypes.event(record)), Types.STRING)
                        .process(new EventDeduplicator(config.dedup().ttl()))
                        .uid(DEDUP_UID)
                        .name("Drop repeated eventIds");

        DataStream<AnalyticsRecord> withDevice =
                unique.map(new DeviceClassEnricher(config.enrichers()))
                        .uid(DEVICE_CLASS_UID)
                        .name("Enrich: device class");

        DataStream<AnalyticsRecord> enriched =
                UserProfileLookup.apply(withDevice, config.postgres().endpoint(), config.userLookup(), config.enrichers())
                        .uid(USER_PROFILE_UID)
                        .name("Enrich: user profile (async)");

        var windows = config.windows();
        SingleOutputStreamOperator<AnalyticsRecord> marked =
                enriched.transform(
                                "Mark late events",
                                enriched.getType(),
                                new LatenessMarker(windows.size(), windows.allowedLateness()))
                        .uid(LATENESS_UID);

        Table lakeTable = connectors.lake().table(LakeTables.ANALYTICS_EVENTS);
        LakeSinks.write(
                connectors.beforeLake().apply(marked).map(new AnalyticsLakeRows(lakeTable.schema()))
                        .returns(LakeSinks.rowType(lakeTable.schema()))
                        .uid("lake-event-rows")
                        .name("Lake rows of events"),
                connectors.lake(),
                LakeTables.ANALYTICS_EVENTS,
                LAKE_SINK_UID,
                connectors.lakeWrite());

        MinuteAggregates.apply(
                        marked.filter(record -> !record.getLate()).uid("events-on-time").name("Events on time"),
                        windows)
                .uid(WINDOWS_UID)
                .name("Minute aggregates per type")
                .sinkTo(connectors.minuteTable())
                .uid(AGGREGATE_SINK_UID)
                .name("PostgreSQL: analytics_minute");

        deadLetters
                .map(DeadLetters.toTopic(config.topics().deadLetters()))
                .uid("encode-dead-letters")
                .name("Encode dead letters")
                .sinkTo(connectors.deadLetters())
                .uid(KAFKA_SINK_UID)
                .name("Kafka: dead letters");
    }

    /**
     * Submits the job: {@code --config jobs/analytics.yaml [--set section.key=value ...]}. The
     * configuration is read here, on the client; the password it names is read on the TaskManagers.
     */
    public static void main(String[] args) throws Exception {
        var arguments = JobSubmission.parse(args, "AnalyticsJob", "jobs/analytics.yaml");
        AnalyticsConfig config = AnalyticsConfig.load(arguments.configFile(), arguments.overrides());
        TransactionalKafkaSinks.checkBrokersAllowTransactionTimeout(config.kafka());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        JobSubmission.configure(env, config.job());
        new AnalyticsJob(config).build(env, Connectors.of(config, false));
        env.execute(config.job().name());
    }
}
