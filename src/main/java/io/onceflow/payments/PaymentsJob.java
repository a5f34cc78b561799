package io.onceflow.payments;

import io.onceflow.config.JobSubmission;
import io.onceflow.enrichment.gateway.HttpPaymentGateway;
import io.onceflow.enrichment.gateway.PaymentGateway;
import io.onceflow.ingest.DeadLetters;
import io.onceflow.ingest.KafkaSources;
import io.onceflow.lake.LakeCatalog;
import io.onceflow.lake.LakeSinks;
import io.onceflow.lake.LakeTables;
import io.onceflow.payments.model.AuthorizationRequest;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.records.DeadLetter;
import io.onceflow.records.OutboundRecord;
import io.onceflow.records.SourceRecord;
import io.onceflow.sinks.kafka.TransactionalKafkaSinks;
import io.onceflow.sinks.postgres.AutoCommitPostgresSink;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.function.SerializableSupplier;
import org.apache.iceberg.Table;

import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The payments job: {@code payments.requests} in; one result per request in {@code
 * payments.results} and in the lake table {@code payments.results}, one event per completed
 * payment in {@code payments.completed}, one row per completed or declined payment in
 * PostgreSQL's {@code payments}, and every undecodable record in {@code payments.dlq} — each
 * exactly once.
 *
 * <pre>
 * Kafka source ─ decode ─┬─ validate ─┬─ customer lookup (async) ─ keyBy(customer) ─ authorize (gateway, async) ─┐
 *                        │            └──────────────── REJECTED ─────────────────────────────────────────────────┤
 *                        └─ dead letters ─────────────────────────────┐                                         results
 *                                                                   Kafka sink (one transaction per checkpoint) ◄─┤
 *                                                              PostgreSQL sink (prepared transactions) ◄─ COMPLETED, DECLINED
 * </pre>
 *
 * <p>The job takes its source, sinks and gateway as {@link Connectors}, so tests run the same
 * graph against bounded sources and fault-injecting sinks. Every stateful operator has a stable
 * uid: changing one makes savepoints of earlier versions unusable.
 */
public final class PaymentsJob {

    public static final String SOURCE_UID = "payments-requests-source";
    public static final String DECODE_UID = "decode-payment-requests";
    public static final String VALIDATE_UID = "validate-payment-requests";
    public static final String CUSTOMER_LOOKUP_UID = "customer-lookup";
    public static final String AUTHORIZER_UID = "payment-authorizer";
    public static final String KAFKA_SINK_UID = "kafka-sink";
    public static final String POSTGRES_SINK_UID = "postgres-payments-sink";
    public static final String LAKE_SINK_UID = "lake-payments-results";

    private final PaymentsConfig config;

    public PaymentsJob(PaymentsConfig config) {
        this.config = config;
    }

    /** What the job reads from and writes to; production builds them from the configuration. */
    public record Connectors(
            Source<SourceRecord, ?, ?> requests,
            Sink<OutboundRecord> kafka,
            Sink<PaymentResult> paymentsTable,
            LakeCatalog lake,
            SerializableSupplier<PaymentGateway> gateway,
            UnaryOperator<DataStream<SourceRecord>> afterSource) {

        /**
         * The connectors the configuration names: Kafka, PostgreSQL, the lake and the HTTP
         * gateway. Opens the lake's catalog here, on the client, to create or evolve the table.
         */
        public static Connectors of(PaymentsConfig config, boolean bounded) {
            return of(config, bounded, DeliveryGuarantee.EXACTLY_ONCE);
        }

        /**
         * As {@link #of(PaymentsConfig, boolean)}, with the Kafka and PostgreSQL sinks at {@code
         * guarantee}. {@code AT_LEAST_ONCE} (for the benchmark's price of exactly-once): Kafka
         * without transactions and PostgreSQL in ordinary transactions at each barrier ({@link
         * AutoCommitPostgresSink}); the lake sink commits on checkpoints either way.
         */
        public static Connectors of(PaymentsConfig config, boolean bounded, DeliveryGuarantee guarantee) {
            var options = config.gateway().options();
            LakeCatalog lake = LakeCatalog.open(config.lake(), config.postgres().endpoint());
            lake.ensureTable(LakeTables.paymentResults(config.lake()));
            boolean exactlyOnce = guarantee == DeliveryGuarantee.EXACTLY_ONCE;
            return new Connectors(
                    requestsSource(config, bounded),
                    TransactionalKafkaSinks.withGuarantee(
                            guarantee,
                            config.job(),
                            config.kafka(),
                            "kafka",
                            List.of(
                                    config.topics().results(),
                                    config.topics().completed(),
                                    config.topics().deadLetters())),
                    exactlyOnce
                            ? PaymentRows.sink(config)
                            : new AutoCommitPostgresSink<>(
                                    config.postgres().endpoint(), PaymentRows.statement(), config.postgresSink().batchSize()),
                    lake,
                    () -> HttpPaymentGateway.builder(options).name("payment-gateway").build(),
                    stream -> stream);
        }

        public Connectors withAfterSource(UnaryOperator<DataStream<SourceRecord>> tap) {
            return new Connectors(requests, kafka, paymentsTable, lake, gateway, tap);
        }

        public Connectors withPaymentsTable(Sink<PaymentResult> sink) {
            return new Connectors(requests, kafka, sink, lake, gateway, afterSource);
        }

        public Connectors withGateway(SerializableSupplier<PaymentGateway> factory) {
            return new Connectors(requests, kafka, paymentsTable, lake, factory, afterSource);
        }
    }

    /**
     * The requests topic as a source. Bounded stops at the offsets that are latest when the job
     * starts (tests, replays); unbounded runs forever.
     */
    public static Source<SourceRecord, ?, ?> requestsSource(PaymentsConfig config, boolean bounded) {
        return KafkaSources.records(config.kafka(), config.topics().requests(), bounded);
    }

    /**
     * What the pipeline yields before its sinks: one result per decodable request and one dead
     * letter per undecodable record.
     */
    public record Outputs(DataStream<PaymentResult> results, DataStream<DeadLetter> deadLetters) {}

    /** Adds the whole pipeline to {@code env}. */
    public void build(StreamExecutionEnvironment env, Connectors connectors) {
        Outputs outputs = decide(env, connectors.requests(), connectors.afterSource(), connectors.gateway());
        DataStream<PaymentResult> results = outputs.results();

        results.flatMap(new PaymentOutputs.ResultRecords(config.topics()))
                .name("Encode results and completion events")
                .uid("encode-results")
                .union(
                        outputs.deadLetters()
                                .map(DeadLetters.toTopic(config.topics().deadLetters()))
                                .name("Encode dead letters")
                                .uid("encode-dead-letters"))
                .sinkTo(connectors.kafka())
                .uid(KAFKA_SINK_UID)
                .name("Kafka: results, completed, dead letters");

        Table lakeTable = connectors.lake().table(LakeTables.PAYMENT_RESULTS);
        LakeSinks.append(
                results.map(LakeTables.paymentResultRows(lakeTable.schema()))
                        .returns(LakeSinks.rowType(lakeTable.schema()))
                        .name("Lake rows of results")
                        .uid("lake-result-rows"),
                connectors.lake(),
                LakeTables.PAYMENT_RESULTS,
                LAKE_SINK_UID);

        results.filter(PaymentsJob::isRecordedPayment)
                .name("Completed and declined payments")
                .uid("recorded-payments")
                .sinkTo(connectors.paymentsTable())
                .uid(POSTGRES_SINK_UID)
                .name("PostgreSQL: payments");
    }

    /**
     * The pipeline up to its sinks: decode, validate, look up customers and authorize each
     * customer's payments (idempotency, checks, the gateway), with the operators' uids as {@link
     * #build} has them. {@code afterSource} may tap or alter the records read.
     */
    public Outputs decide(
            StreamExecutionEnvironment env,
            Source<SourceRecord, ?, ?> requests,
            UnaryOperator<DataStream<SourceRecord>> afterSource,
            SerializableSupplier<PaymentGateway> gateway) {
        DataStream<SourceRecord> records =
                afterSource
                        .apply(
                                env.fromSource(
                                                requests,
                                                WatermarkStrategy.noWatermarks(),
                                                "Kafka: " + config.topics().requests())
                                        .uid(SOURCE_UID));

        SingleOutputStreamOperator<AuthorizationRequest> decoded =
                records.process(new PaymentRequestDecoder(config.job().name()))
                        .uid(DECODE_UID)
                        .name("Decode payment requests");
        DataStream<DeadLetter> deadLetters = decoded.getSideOutput(DeadLetters.TAG);

        SingleOutputStreamOperator<AuthorizationRequest> valid =
                decoded.process(new RequestValidation(config.validation()))
                        .uid(VALIDATE_UID)
                        .name("Validate payment requests");
        DataStream<PaymentResult> rejected = valid.getSideOutput(RequestValidation.REJECTED);

        DataStream<AuthorizationRequest> withCustomers =
                CustomerLookup.apply(valid, config.postgres().endpoint(), config.customerLookup())
                        .uid(CUSTOMER_LOOKUP_UID)
                        .name("Look up customers");

        var calls = config.gateway();
        DataStream<PaymentResult> authorized =
                withCustomers
                        .keyBy(payment -> payment.getRequest().getCustomerId())
                        .transform(
                                "Authorize payments per customer",
                                new AvroTypeInfo<>(PaymentResult.class),
                                new PaymentAuthorizerFactory(
                                        new PaymentAuthorizer.Settings(
                                                config.idempotency().ttl(),
                                                config.validation().maxRequestAge().plus(Duration.ofDays(2)),
                                                calls.retry(),
                                                calls.circuitBreaker().waitInOpenState(),
                                                calls.giveUpAfter(),
                                                calls.capacity(),
                                                calls.maxWaitingPerCustomer()),
                                        gateway))
                        .uid(AUTHORIZER_UID);

        return new Outputs(authorized.union(rejected), deadLetters);
    }

    /** Whether a result is a payment the gateway decided, which gets its row in {@code payments}. */
    public static boolean isRecordedPayment(PaymentResult result) {
        return result.getStatus() == PaymentStatus.COMPLETED
                || result.getStatus() == PaymentStatus.DECLINED;
    }

    /**
     * Submits the job: {@code --config jobs/payments.yaml [--set section.key=value ...]}. The
     * configuration is read here, on the client; the password it names is read on the TaskManagers.
     */
    public static void main(String[] args) throws Exception {
        var arguments = JobSubmission.parse(args, "PaymentsJob", "jobs/payments.yaml");
        PaymentsConfig config = PaymentsConfig.load(arguments.configFile(), arguments.overrides());
        TransactionalKafkaSinks.checkBrokersAllowTransactionTimeout(config.kafka());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        JobSubmission.configure(env, config.job());
        new PaymentsJob(config).build(env, Connectors.of(config, false));
        env.execute(config.job().name());
    }
}
