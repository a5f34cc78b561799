package io.onceflow.bench;

import io.onceflow.local.PaymentWorkload;
import io.onceflow.payments.PaymentsConfig;
import io.onceflow.payments.PaymentsJob;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.records.SingleObjectCodec;

import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The payments job exactly-once under a fixed request rate, fed while it runs: end-to-end latency
 * from the moment a request is produced ({@code requestedAt}, set right before the send) to the
 * moment a {@code read_committed} consumer of {@code payments.results} receives its result and to
 * the commit of its row in PostgreSQL, and the recovery from the loss of the TaskManager.
 */
final class FixedRate {

    record Latency(double targetRate, double sentRate, long interval, long measured, double p50, double p99,
            double p999, double max, Machine.Sample start, Machine.Sample end, boolean drained, RowLatency rows,
            JobRuns.CheckpointHistory checkpoints) {}

    /** From {@code requestedAt} to the commit of the request's row in PostgreSQL's {@code payments}. */
    record RowLatency(long measured, double p50, double p99, double p999, double max) {}

    record Recovery(double rate, double baselineLag, double secondsToRunning, double secondsToCaughtUp,
            boolean restarted, Machine.Sample start, Machine.Sample end) {}

    private FixedRate() {}

    /** Sends requests at {@code rate} per second in a thread until stopped. */
    private static final class Generator implements AutoCloseable {
        final AtomicLong sent = new AtomicLong();
        final AtomicBoolean stop = new AtomicBoolean();
        final Thread thread;
        volatile long startedNanos;

        Generator(String bootstrapServers, String topic, PaymentWorkload workload, double rate) {
            thread = new Thread(() -> {
                try (var producer = new KafkaProducer<byte[], byte[]>(
                        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                                ProducerConfig.ACKS_CONFIG, "all",
                                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                                ProducerConfig.LINGER_MS_CONFIG, 1),
                        new ByteArraySerializer(), new ByteArraySerializer())) {
                    startedNanos = System.nanoTime();
                    while (!stop.get()) {
                        long due = (long) ((System.nanoTime() - startedNanos) / 1e9 * rate);
                        while (sent.get() < due && !stop.get()) {
                            PaymentWorkload.Generated record = workload.next(Instant.now());
                            producer.send(new ProducerRecord<>(topic, record.key(), record.value()));
                            sent.incrementAndGet();
                        }
                        LockSupport.parkNanos(500_000);
                    }
                    producer.flush();
                }
            }, "bench-generator");
            thread.setDaemon(true);
            thread.start();
        }

        double sentRate() {
            return sent.get() / ((System.nanoTime() - startedNanos) / 1e9);
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(30_000);
        }
    }

    private record Started(PaymentsConfig config, PaymentsJob.Connectors connectors, JobClient client) {}

    private static Started start(JobRuns runs, String run, Duration interval) throws Exception {
        runs.startClean();
        String requests = run + ".requests";
        runs.local().kafka().createTopics(2, List.of(requests));
        PaymentsConfig config = runs.withOutputTopics(runs.paymentsConfig(run, requests, interval));
        runs.truncate("payments");
        var env = runs.environment(config.job(), true);
        var connectors = PaymentsJob.Connectors.of(config, false, DeliveryGuarantee.EXACTLY_ONCE);
        new PaymentsJob(config).build(env, connectors);
        JobClient client = runs.flink().submit(env, run, null);
        if (!runs.awaitRunningAndCheckpointed(client.getJobID(), Duration.ofSeconds(90))) {
            runs.cancel(client);
            connectors.lake().close();
            throw new IllegalStateException("The job did not run and complete a checkpoint within 90 s");
        }
        return new Started(config, connectors, client);
    }

    static Latency latency(JobRuns runs, PaymentWorkload workload, double rate, Duration interval,
            Duration warmUp, Duration measure) throws Exception {
        String run = runs.nextRunName("latency");
        Started started = start(runs, run, interval);
        SingleObjectCodec codec = SingleObjectCodec.forTopicRecords();
        LatencyRecorder recorder = new LatencyRecorder();
        long measureFrom = System.currentTimeMillis() + warmUp.toMillis();
        try (var lake = started.connectors().lake();
                OutputCounter results = OutputCounter.immediate(runs.local().kafka().bootstrapServers(),
                        List.of(started.config().topics().results(), started.config().topics().deadLetters()),
                        (ConsumerRecord<byte[], byte[]> record) -> {
                            long now = System.currentTimeMillis();
                            if (!record.topic().equals(started.config().topics().results())) {
                                return;
                            }
                            PaymentResult result = codec.decode(record.value(), PaymentResult.class);
                            long requestedAt = result.getRequestedAt().toEpochMilli();
                            if (result.getStatus() != PaymentStatus.DUPLICATE && requestedAt >= measureFrom) {
                                recorder.add(now - requestedAt);
                            }
                        })) {
            Machine.Sample start = Machine.Sample.beforeRow();
            double sentRate;
            long sent;
            try (Generator generator = new Generator(runs.local().kafka().bootstrapServers(),
                    started.config().topics().requests(), workload, rate)) {
                Thread.sleep(warmUp.toMillis() + measure.toMillis());
                sentRate = generator.sentRate();
                generator.close();
                sent = generator.sent.get();
            }
            Drain drain = Drain.watch(results::count, sent, Duration.ofSeconds(120), System.nanoTime(), 50);
            Machine.Sample end = Machine.Sample.now();
            long[] latencies = recorder.sorted();
            long[] rows = rowLatencies(runs, measureFrom);
            // The source's name carries this run's own topic; the report lines stages up across runs by name.
            String topic = started.config().topics().requests();
            JobRuns.CheckpointHistory checkpoints = runs.checkpointHistory(started.client().getJobID(), measureFrom,
                    stage -> stage.replace(topic, "requests"));
            return new Latency(rate, sentRate, interval.toMillis(), latencies.length,
                    Stats.percentile(latencies, 0.50), Stats.percentile(latencies, 0.99),
                    Stats.percentile(latencies, 0.999), latencies.length == 0 ? Double.NaN : latencies[latencies.length - 1],
                    start, end, drain.complete(),
                    new RowLatency(rows.length, Stats.percentile(rows, 0.50), Stats.percentile(rows, 0.99),
                            Stats.percentile(rows, 0.999), rows.length == 0 ? Double.NaN : rows[rows.length - 1]),
                    checkpoints);
        } finally {
            runs.cancel(started.client());
        }
    }

    /**
     * Milliseconds from each measured request to the commit of its {@code payments} row, sorted:
     * PostgreSQL's commit timestamp of the row's transaction (the {@code COMMIT PREPARED} at the
     * checkpoint's completion) minus the request's {@code requested_at}. One query after the run,
     * so the database the job writes to is not polled while it runs; needs {@code
     * track_commit_timestamp}, which the local PostgreSQL turns on.
     */
    private static long[] rowLatencies(JobRuns runs, long measureFrom) throws Exception {
        try (var connection = runs.local().postgresEndpoint().connect();
                var query = connection.prepareStatement(
                        "SELECT (extract(epoch FROM pg_xact_commit_timestamp(xmin) - requested_at) * 1000)::bigint"
                                + " FROM payments WHERE requested_at >= ? ORDER BY 1")) {
            query.setTimestamp(1, new java.sql.Timestamp(measureFrom));
            List<Long> millis = new ArrayList<>();
            try (var result = query.executeQuery()) {
                while (result.next()) {
                    millis.add(result.getLong(1));
                }
            }
            return millis.stream().mapToLong(Long::longValue).toArray();
        }
    }

    /**
     * Runs at {@code rate}, measures the output lag (requests sent minus outputs a read_committed
     * consumer sees) for {@code steady}, then stops TaskManager 0 of the cluster and starts a new one
     * (the loss of a machine and its replacement, as {@code FlinkChaos} in the tests does), and times
     * how long until every task runs again and until the lag is back to its largest value before the
     * loss.
     */
    static Recovery recovery(JobRuns runs, PaymentWorkload workload, double rate, Duration interval, Duration steady)
            throws Exception {
        String run = runs.nextRunName("recovery");
        Started started = start(runs, run, interval);
        var cluster = runs.flink().miniCluster();
        var job = started.client().getJobID();
        try (var lake = started.connectors().lake();
                OutputCounter outputs = OutputCounter.immediate(runs.local().kafka().bootstrapServers(),
                        List.of(started.config().topics().results(), started.config().topics().deadLetters()), null);
                Generator generator = new Generator(runs.local().kafka().bootstrapServers(),
                        started.config().topics().requests(), workload, rate)) {
            Machine.Sample start = Machine.Sample.now();
            Thread.sleep(steady.toMillis() / 2);
            long baseline = 0;
            long until = System.nanoTime() + steady.toNanos() / 2;
            while (System.nanoTime() < until) {
                baseline = Math.max(baseline, generator.sent.get() - outputs.count());
                Thread.sleep(50);
            }
            long restartsBefore = restarts(runs, job);
            long killed = System.nanoTime();
            cluster.terminateTaskManager(0).get(30, TimeUnit.SECONDS);
            cluster.startTaskManager();
            long deadline = killed + TimeUnit.SECONDS.toNanos(180);
            boolean sawFailure = false;
            long running = -1;
            while (System.nanoTime() < deadline) {
                boolean all = runs.allTasksRunning(job);
                if (!all) {
                    sawFailure = true;
                } else if (sawFailure || restarts(runs, job) > restartsBefore) {
                    running = System.nanoTime();
                    break;
                }
                Thread.sleep(20);
            }
            long caughtUp = -1;
            while (running > 0 && System.nanoTime() < deadline) {
                if (generator.sent.get() - outputs.count() <= baseline) {
                    caughtUp = System.nanoTime();
                    break;
                }
                Thread.sleep(20);
            }
            Machine.Sample end = Machine.Sample.now();
            return new Recovery(rate, baseline,
                    running < 0 ? Double.NaN : (running - killed) / 1e9,
                    caughtUp < 0 ? Double.NaN : (caughtUp - killed) / 1e9,
                    restarts(runs, job) > restartsBefore, start, end);
        } finally {
            runs.cancel(started.client());
        }
    }

    /** When the job last went to RESTARTING (0 if never): a later value means it restarted since. */
    private static long restarts(JobRuns runs, org.apache.flink.api.common.JobID job) {
        try {
            var graph = runs.flink().miniCluster().getExecutionGraph(job).get(5, TimeUnit.SECONDS);
            return graph.getStatusTimestamp(org.apache.flink.api.common.JobStatus.RESTARTING);
        } catch (Exception e) {
            return 0;
        }
    }

    /** Latencies in milliseconds, added from the consumer thread. */
    private static final class LatencyRecorder {
        private long[] values = new long[1 << 16];
        private int size;

        synchronized void add(long millis) {
            if (size == values.length) {
                values = java.util.Arrays.copyOf(values, size * 2);
            }
            values[size++] = millis;
        }

        synchronized long[] sorted() {
            long[] copy = java.util.Arrays.copyOf(values, size);
            java.util.Arrays.sort(copy);
            return copy;
        }
    }
}
