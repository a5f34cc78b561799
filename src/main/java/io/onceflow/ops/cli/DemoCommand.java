package io.onceflow.ops.cli;

import io.onceflow.config.JobSubmission;
import io.onceflow.analytics.AnalyticsConfig;
import io.onceflow.analytics.AnalyticsJob;
import io.onceflow.lake.LakeCatalog;
import io.onceflow.local.AnalyticsWorkload;
import io.onceflow.local.LocalEnvironment;
import io.onceflow.local.LocalFlink;
import io.onceflow.local.PaymentWorkload;
import io.onceflow.payments.PaymentsConfig;
import io.onceflow.payments.PaymentsJob;
import io.onceflow.sinks.kafka.TransactionalKafkaSinks;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.FileUtils;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code onceflow demo}: both jobs end to end on this machine, every part real — a KRaft broker,
 * PostgreSQL with seeded customers and users, the gateway simulator, a payment request generator
 * and an analytics event generator, the data lake on local disk, and one Flink cluster (RocksDB,
 * checkpoints, web UI) running the payments and the analytics job — with a live summary of what
 * they do.
 *
 * <p>Stopping (Ctrl-C or {@code --duration}) stops the generators, waits until every request has
 * its committed result and every event is in the lake or the dead letters, prints the totals and
 * stops both jobs with savepoints; the next run resumes from them, so nothing is processed twice
 * across runs.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Runs the payments and the analytics job end to end on this machine: a local Kafka broker,"
                    + " PostgreSQL with seeded customers and users, the gateway simulator, both generators, the"
                    + " data lake and one Flink cluster with its web UI.",
            "Ctrl-C (or --duration) stops it and prints the totals."
        })
final class DemoCommand implements Callable<Integer> {

    @ParentCommand OnceflowCli cli;

    @Option(names = "--data-dir", defaultValue = "var/demo", description = "Where the broker, database, checkpoints and logs live (default: ${DEFAULT-VALUE}).")
    Path dataDirectory;

    @Option(names = "--config", description = "Job configuration (default: jobs/payments.yaml of this checkout).")
    Path config;

    @Option(names = "--rate", defaultValue = "200", description = "Requests per second the generator sends; 0 runs without it, for outside producers (default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(names = "--analytics-config", description = "Analytics job configuration (default: jobs/analytics.yaml of this checkout).")
    Path analyticsConfig;

    @Option(names = "--analytics-rate", defaultValue = "100", description = "Analytics events per second the second generator sends; 0 runs without it (default: ${DEFAULT-VALUE}).")
    int analyticsRate;

    @Option(names = "--users", defaultValue = "2000", description = "Users the analytics generator draws from; nine in ten are seeded into PostgreSQL (default: ${DEFAULT-VALUE}).")
    int users;

    @Option(names = "--customers", defaultValue = "2000", description = "Customers seeded into PostgreSQL (default: ${DEFAULT-VALUE}).")
    int customers;

    @Option(names = "--duration", converter = DurationConverter.class, description = "Stop after this long, e.g. 90s or 5m (default: until Ctrl-C).")
    Duration duration;

    @Option(names = "--ui-port", defaultValue = "8081", description = "Port of Flink's web UI; a free one when taken (default: ${DEFAULT-VALUE}).")
    int uiPort;

    @Option(names = "--fresh", description = "Delete the data directory first: new broker, database and job state.")
    boolean fresh;

    private final AtomicBoolean stopping = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);

    @Override
    public Integer call() throws Exception {
        PrintWriter out = cli.io().out();
        Path data = dataDirectory.toAbsolutePath().normalize();
        if (fresh) {
            FileUtils.deleteDirectory(data.toFile());
        }
        Files.createDirectories(data.resolve("logs"));
        CliLogging.toFile(data.resolve("logs/onceflow.log"));
        Path home = Path.of(System.getProperty("onceflow.home", "."));
        Path configFile = config != null ? config : home.resolve("jobs/payments.yaml");
        Path analyticsConfigFile = analyticsConfig != null ? analyticsConfig : home.resolve("jobs/analytics.yaml");
        PaymentsConfig shipped = PaymentsConfig.load(configFile, Map.of());
        AnalyticsConfig shippedAnalytics = AnalyticsConfig.load(analyticsConfigFile, Map.of());
        var topics = shipped.topics();
        var analyticsTopics = shippedAnalytics.topics();

        out.println("Starting Kafka, PostgreSQL and the gateway simulator in " + data + " ...");
        out.flush();
        try (LocalEnvironment local =
                LocalEnvironment.start(
                        data,
                        LocalEnvironment.Ports.usual(),
                        LocalEnvironment.GatewayProfile.realistic(),
                        List.of(topics.requests(), topics.results(), topics.completed(), topics.deadLetters(),
                                analyticsTopics.events(), analyticsTopics.deadLetters()),
                        Math.max(shipped.job().parallelism(), shippedAnalytics.job().parallelism()))) {
            PaymentWorkload workload = new PaymentWorkload(System.nanoTime(), customers, Instant.now());
            AnalyticsWorkload analyticsWorkload =
                    new AnalyticsWorkload(System.nanoTime(), users, Instant.now(), Duration.ofMillis(10));
            try (Connection connection = local.postgresEndpoint().connect()) {
                workload.seedCustomers(connection);
                analyticsWorkload.seedUsers(connection);
            }
            Map<String, String> overrides = new LinkedHashMap<>();
            overrides.put("kafka.bootstrap-servers", local.kafka().bootstrapServers());
            overrides.put("postgres.url", local.postgresEndpoint().jdbcUrl());
            overrides.put("postgres.user", local.postgresEndpoint().user());
            overrides.put("postgres.password-env", "");
            overrides.put("postgres.password-file", "");
            overrides.put("job.checkpoint-directory", data.resolve("checkpoints").toUri().toString());
            overrides.put("lake.warehouse", data.resolve("lake").toUri().toString());
            AnalyticsConfig analytics = AnalyticsConfig.load(analyticsConfigFile, overrides);
            overrides.put("gateway.url", local.gateway().baseUrl());
            PaymentsConfig jobConfig = PaymentsConfig.load(configFile, overrides);
            TransactionalKafkaSinks.checkBrokersAllowTransactionTimeout(jobConfig.kafka());

            Path savepoints = data.resolve("savepoints");
            Path analyticsSavepoints = savepoints.resolve("analytics");
            Path resumeFrom = latestSavepoint(savepoints);
            Path analyticsResumeFrom = latestSavepoint(analyticsSavepoints);
            Configuration flink = new Configuration();
            flink.set(CoreOptions.TMP_DIRS, data.resolve("tmp").toString());
            flink.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, savepoints.toUri().toString());
            try (LocalFlink cluster = LocalFlink.start(
                            flink, jobConfig.job().parallelism() + analytics.job().parallelism(), uiPort);
                    LakeCatalog lake = LakeCatalog.open(analytics.lake(), analytics.lake().catalogEndpoint(analytics.postgres()))) {
                StreamExecutionEnvironment env = cluster.environment();
                JobSubmission.configure(env, jobConfig.job());
                new PaymentsJob(jobConfig).build(env, PaymentsJob.Connectors.of(jobConfig, false));
                JobClient job = cluster.submit(env, jobConfig.job().name(), resumeFrom);

                StreamExecutionEnvironment analyticsEnv = cluster.environment();
                JobSubmission.configure(analyticsEnv, analytics.job());
                new AnalyticsJob(analytics).build(analyticsEnv, AnalyticsJob.Connectors.of(analytics, false));
                JobClient analyticsJob = cluster.submit(analyticsEnv, analytics.job().name(), analyticsResumeFrom);

                DemoSummary summary = new DemoSummary(jobConfig, local.postgresEndpoint(), job.getJobID(), uiPort);
                AnalyticsSummary analyticsSummary = new AnalyticsSummary(analytics, local.postgresEndpoint(), lake);
                printHowToLookInside(out, local, jobConfig, analytics, resumeFrom, analyticsResumeFrom);
                Runtime.getRuntime().addShutdownHook(new Thread(this::stopAndWait, "demo-stop"));

                AtomicLong sent = new AtomicLong();
                Thread generator = new Thread(
                        () -> sendPaced(local, topics.requests(), rate, workload::next,
                                PaymentWorkload.Generated::key, PaymentWorkload.Generated::value, r -> sent.incrementAndGet()),
                        "demo-generator");
                generator.setDaemon(true);
                if (rate > 0) {
                    generator.start();
                }
                AnalyticsCounts events = new AnalyticsCounts();
                Thread analyticsGenerator = new Thread(
                        () -> sendPaced(local, analyticsTopics.events(), analyticsRate, analyticsWorkload::next,
                                AnalyticsWorkload.Generated::key, AnalyticsWorkload.Generated::value, events::count),
                        "demo-analytics-generator");
                analyticsGenerator.setDaemon(true);
                if (analyticsRate > 0) {
                    analyticsGenerator.start();
                }
                summary.printHeader(out);
                analyticsSummary.printHeader(out);
                long startedAt = System.nanoTime();
                long deadline = duration == null ? Long.MAX_VALUE : startedAt + duration.toNanos();
                while (!stopping.get() && System.nanoTime() < deadline) {
                    if (stopped.await(0, TimeUnit.SECONDS)) {
                        break;
                    }
                    waitUntil(Math.min(deadline, System.nanoTime() + TimeUnit.SECONDS.toNanos(5)));
                    summary.printLine(out, sent.get(), startedAt);
                    analyticsSummary.printLine(out, events.sent.get(), startedAt);
                }
                stopping.set(true);
                generator.join(TimeUnit.SECONDS.toMillis(5));
                analyticsGenerator.join(TimeUnit.SECONDS.toMillis(5));
                out.println("Stopping: generators stopped; waiting for every request to have its committed result"
                        + " and every event to be in the lake or the dead letters ...");
                boolean caughtUp = summary.awaitAllAnswered(sent.get(), Duration.ofSeconds(60));
                boolean eventsCaughtUp = analyticsSummary.awaitAllStored(
                        events.distinctValid.get(), events.invalid.get(), Duration.ofSeconds(60));
                summary.printLine(out, sent.get(), startedAt);
                analyticsSummary.printLine(out, events.sent.get(), startedAt);
                String savepoint = stopWithSavepoint(job, savepoints, out);
                String analyticsSavepoint = stopWithSavepoint(analyticsJob, analyticsSavepoints, out);
                summary.printTotals(out, sent.get(), caughtUp, savepoint);
                analyticsSummary.printTotals(out, events.sent.get(), events.distinctValid.get(), eventsCaughtUp, analyticsSavepoint);
                summary.close();
                analyticsSummary.close();
            }
        } finally {
            stopped.countDown();
        }
        return 0;
    }

    private void stopAndWait() {
        stopping.set(true);
        try {
            stopped.await(90, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void waitUntil(long nanoTime) {
        long remaining;
        while ((remaining = nanoTime - System.nanoTime()) > 0) {
            LockSupport.parkNanos(remaining);
        }
    }

    /** What the analytics generator sent: all, distinct valid events, invalid ones. */
    private static final class AnalyticsCounts {
        final AtomicLong sent = new AtomicLong();
        final AtomicLong distinctValid = new AtomicLong();
        final AtomicLong invalid = new AtomicLong();

        void count(AnalyticsWorkload.Generated event) {
            sent.incrementAndGet();
            switch (event.kind()) {
                case NEW, LATE -> distinctValid.incrementAndGet();
                case INVALID -> invalid.incrementAndGet();
                case RETRY -> { }
            }
        }
    }

    /**
     * Sends what {@code next} makes to {@code topic}, {@code perSecond} records a second, until
     * the demo stops; {@code sent} sees each record once it is handed to the producer.
     */
    private <G> void sendPaced(
            LocalEnvironment local, String topic, int perSecond, Supplier<G> next,
            Function<G, byte[]> key, Function<G, byte[]> value, Consumer<G> sent) {
        try (var producer =
                new KafkaProducer<byte[], byte[]>(
                        Map.of(
                                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, local.kafka().bootstrapServers(),
                                ProducerConfig.ACKS_CONFIG, "all",
                                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                                ProducerConfig.LINGER_MS_CONFIG, 5),
                        new ByteArraySerializer(),
                        new ByteArraySerializer())) {
            long interval = TimeUnit.SECONDS.toNanos(1) / perSecond;
            long at = System.nanoTime();
            while (!stopping.get()) {
                G record = next.get();
                producer.send(new ProducerRecord<>(topic, key.apply(record), value.apply(record)));
                sent.accept(record);
                at += interval;
                waitUntil(at);
            }
            producer.flush();
        }
    }

    private static Path latestSavepoint(Path savepoints) throws Exception {
        if (!Files.isDirectory(savepoints)) {
            return null;
        }
        try (Stream<Path> candidates = Files.list(savepoints)) {
            return candidates
                    .filter(p -> Files.exists(p.resolve("_metadata")))
                    .max(Comparator.comparing(p -> p.toFile().lastModified()))
                    .orElse(null);
        }
    }

    private static String stopWithSavepoint(JobClient job, Path savepoints, PrintWriter out) {
        try {
            return job.stopWithSavepoint(false, savepoints.toUri().toString(), SavepointFormatType.CANONICAL)
                    .get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            out.println("Could not take a savepoint (" + e.getMessage() + "); cancelling the job instead.");
            job.cancel();
            return null;
        }
    }

    private void printHowToLookInside(
            PrintWriter out, LocalEnvironment local, PaymentsConfig config, AnalyticsConfig analytics,
            Path resumedFrom, Path analyticsResumedFrom) {
        var topics = config.topics();
        String bootstrap = local.kafka().bootstrapServers();
        out.println();
        out.println("onceflow demo: the payments and the analytics job are running on this machine.");
        out.printf("  Flink web UI    http://127.0.0.1:%d%n", uiPort);
        out.printf("  Kafka           %s  (topics %s, %s, %s, %s, %s, %s)%n", bootstrap, topics.requests(), topics.results(), topics.completed(), topics.deadLetters(), analytics.topics().events(), analytics.topics().deadLetters());
        out.printf("  PostgreSQL      psql -h 127.0.0.1 -p %d -U %s %s   (tables payments, customers, users, analytics_minute)%n", local.postgres().port(), local.postgres().user(), LocalEnvironment.DATABASE);
        out.printf("  Gateway         %s  (the simulator: declines %s, transient errors %s)%n", local.gateway().baseUrl(), "4%", "2%");
        out.printf("  Watch results   deploy/onceflow consume --bootstrap-servers %s --topic %s%n", bootstrap, topics.results());
        out.printf("  Send your own   deploy/onceflow produce --bootstrap-servers %s --topic %s --file requests.jsonl%n", bootstrap, topics.requests());
        out.printf("  Lake            deploy/onceflow lake stats --config %s --set postgres.url=%s --set postgres.user=%s --set postgres.password-env= --set lake.warehouse=%s analytics.events   (or payments.results)%n",
                "jobs/payments.yaml", local.postgresEndpoint().jdbcUrl(), local.postgresEndpoint().user(), config.lake().warehouse());
        out.printf("  Dead letters    deploy/onceflow consume --bootstrap-servers %s --topic %s --from-beginning%n", bootstrap, analytics.topics().deadLetters());
        out.printf("  Logs            %s%n", dataDirectory.toAbsolutePath().normalize().resolve("logs/onceflow.log"));
        if (resumedFrom != null) {
            out.printf("  Resumed from    %s%n", resumedFrom);
        }
        if (analyticsResumedFrom != null) {
            out.printf("  Resumed from    %s (analytics)%n", analyticsResumedFrom);
        }
        out.println(rate > 0
                ? "  Generator       " + rate + " requests/s, with repeats, reused keys, undecodable and invalid records, unknown customers"
                : "  Generator       off: the job waits for outside producers");
        out.println(analyticsRate > 0
                ? "  Analytics       " + analyticsRate + " events/s, with SDK retries, invalid events of every reason, late"
                        + " events, anonymous users and users missing from the users table"
                : "  Analytics       generator off: the job waits for outside producers");
        out.println("  Summary         first line payments (as before), second line analytics; lake commits are"
                + " snapshots of analytics.events + payments.results");
        out.println("  Ctrl-C stops the demo and prints the totals.");
        out.println();
        out.flush();
    }
}
