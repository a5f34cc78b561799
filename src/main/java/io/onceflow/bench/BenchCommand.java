package io.onceflow.bench;

import io.onceflow.local.AnalyticsWorkload;
import io.onceflow.local.FreePorts;
import io.onceflow.local.LocalEnvironment;
import io.onceflow.local.LocalFlink;
import io.onceflow.local.PaymentWorkload;
import io.onceflow.ops.cli.CliLogging;
import io.onceflow.ops.cli.DurationConverter;
import io.onceflow.ops.cli.OnceflowCli;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.util.FileUtils;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code onceflow bench}: throughput, latency, recovery and checkpoint figures of both jobs on
 * this machine, side by side with the ceiling (a plain consumer), the jobs with at-least-once
 * sinks and a Flink SQL peer. Prints a table as it goes and writes {@code docs/benchmarks.md}
 * with a chart. Not a test: it reports what it measured and the conditions, whatever they are.
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = {
            "Measures both jobs on this machine (local Kafka, PostgreSQL, gateway simulator and Flink, all real):"
                    + " throughput against a plain consumer (the ceiling), at-least-once sinks and a Flink SQL peer;"
                    + " latency at a fixed rate; recovery from a TaskManager loss; checkpoint durations and sizes.",
            "Prints a table and writes docs/benchmarks.md with a chart (docs/benchmarks.svg)."
        })
public final class BenchCommand implements Callable<Integer> {

    /** Parts that can be left out. */
    enum Part {
        payments, ceiling, at_least_once, sql_peer, peer_work, analytics, latency, recovery, full_checkpoints
    }

    @ParentCommand OnceflowCli cli;

    @Spec CommandSpec spec;

    @Option(names = "--data-dir", defaultValue = "var/bench", description = "Where the broker, database, checkpoints and logs live; emptied at the start (default: ${DEFAULT-VALUE}).")
    Path dataDirectory;

    @Option(names = "--payments", defaultValue = "50000", description = "Payment requests to preload (default: ${DEFAULT-VALUE}).")
    long paymentRecords;

    @Option(names = "--events", defaultValue = "100000", description = "Analytics events to preload (default: ${DEFAULT-VALUE}).")
    long eventRecords;

    @Option(names = "--customers", defaultValue = "2000", description = "Customers seeded (default: ${DEFAULT-VALUE}).")
    int customers;

    @Option(names = "--users", defaultValue = "2000", description = "Users seeded (default: ${DEFAULT-VALUE}).")
    int users;

    @Option(names = "--checkpoint-interval", defaultValue = "1s", converter = DurationConverter.class, description = "Checkpoint interval of the throughput runs (default: ${DEFAULT-VALUE}).")
    Duration checkpointInterval;

    @Option(names = "--latency-loads", split = ",", defaultValue = "50,80", description = "Fixed rates of the latency runs, in percent of the measured exactly-once payments rate (default: ${DEFAULT-VALUE}).")
    List<Integer> latencyLoads;

    @Option(names = "--latency-intervals", split = ",", defaultValue = "1s", converter = DurationConverter.class, description = "Checkpoint intervals of the latency runs, e.g. 500ms,1s,5s (default: ${DEFAULT-VALUE}).")
    List<Duration> latencyIntervals;

    @Option(names = "--latency-duration", defaultValue = "30s", converter = DurationConverter.class, description = "Measured part of each latency run, after a warm-up (default: ${DEFAULT-VALUE}).")
    Duration latencyDuration;

    @Option(names = "--warm-up", defaultValue = "5s", converter = DurationConverter.class, description = "Left out at the start of each latency run (default: ${DEFAULT-VALUE}).")
    Duration warmUp;

    // 300,000, not 40,000: with 40,000 single runs of one bench moved with the JIT compilers
    // (docs/benchmarks-profile.md, stop 14).
    @Option(names = "--warm-up-records", defaultValue = "300000", description = "Records each job drains in a warm-up round before the measured runs, not reported, so the measured runs do not pay for class loading and JIT compilation; 0: no warm-up (default: ${DEFAULT-VALUE}).")
    long warmUpRecords;

    // A fixed number of records warmed a slower machine for minutes and a faster one for under
    // one; what the measured runs need is a JVM that has stopped compiling (stop 15).
    @Option(names = "--warm-up-jit-share", defaultValue = "10", description = "Warm-up rounds repeat until the JIT compilers took less than this percentage of a round's CPU, at most --warm-up-rounds (default: ${DEFAULT-VALUE}).")
    double warmUpJitShare;

    @Option(names = "--warm-up-rounds", defaultValue = "6", description = "Most warm-up rounds (default: ${DEFAULT-VALUE}).")
    int warmUpRounds;

    @Option(names = "--state-requests", defaultValue = "0", description = "Payment requests (about one idempotency key each) for the checkpoint runs, incremental and full; 0: the --payments input (default: ${DEFAULT-VALUE}).")
    long stateRequests;

    // Flink's share of a 4096m TaskManager process (the Kubernetes manifests' size, two slots):
    // 0.4 of (4096m - 256m metaspace - 409.6m overhead). A MiniCluster otherwise gets 128m, which
    // left RocksDB 64m per slot and made the state runs measure a starved block cache.
    @Option(names = "--managed-memory", defaultValue = "1372m", description = "Managed memory of the benchmark's TaskManager, shared by the two slots' RocksDB; the default is what the shipped 4096m TaskManager gets (default: ${DEFAULT-VALUE}).")
    String managedMemory;

    @Option(names = "--gateway-errors", defaultValue = "0", description = "Share of gateway calls the simulator fails transiently (the job retries them); its latency is zero (default: ${DEFAULT-VALUE}).")
    double gatewayErrors;

    @Option(names = "--skip", split = ",", description = "Parts to leave out: ${COMPLETION-CANDIDATES}.")
    Set<Part> skip = EnumSet.noneOf(Part.class);

    @Option(names = "--timeout", defaultValue = "15m", converter = DurationConverter.class, description = "Longest a run may take to drain its input (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--report", description = "The report to write (default: docs/benchmarks.md of this checkout); its chart goes next to it as .svg.")
    Path reportFile;

    @Option(names = "--no-report", description = "Print the table only.")
    boolean noReport;

    @Option(names = "--note", description = "A sentence about the conditions to put in the report (e.g. what else ran).")
    String note;

    @Override
    public Integer call() throws Exception {
        if (warmUpRounds < 1 || !(warmUpJitShare > 0 && warmUpJitShare <= 100)) {
            throw new ParameterException(spec.commandLine(),
                    "--warm-up-rounds must be at least 1 and --warm-up-jit-share a percentage above 0 and at most 100");
        }
        PrintWriter out = cli.io().err();
        Path home = Path.of(System.getProperty("onceflow.home", "."));
        Path data = dataDirectory.toAbsolutePath().normalize();
        FileUtils.deleteDirectory(data.toFile());
        Files.createDirectories(data.resolve("logs"));
        CliLogging.toFile(data.resolve("logs/onceflow.log"));
        Path report = reportFile != null ? reportFile : home.resolve("docs/benchmarks.md");

        Report results = new Report();
        results.command = "onceflow " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
        results.note = note;
        results.settings = String.format(Locale.ROOT,
                "parallelism 2; RocksDB with %s of managed memory for both slots, incremental checkpoints every %d ms unless a row says otherwise; sinks exactly-once"
                        + " unless a row says otherwise; gateway simulator at zero latency, 4%% declines, %.0f%% transient errors;"
                        + " %d customers, %d users; the jobs' shipped settings (jobs/payments.yaml, jobs/analytics.yaml) otherwise;"
                        + " before each job's run the gateway simulator forgets the idempotency keys of the runs before it and the JVM"
                        + " collects their garbage (a full collection), so that no run pays for another's",
                managedMemory, checkpointInterval.toMillis(), gatewayErrors * 100, customers, users)
                + (warmUpRecords > 0 ? "" : "; no warm-up run: the first run pays for class loading and JIT compilation");
        out.printf("onceflow bench: %s, %d cores, %s memory; load average %s%n",
                Machine.cpuModel(), Machine.cores(), Machine.memory(), results.loadAtStart);
        out.println("Starting Kafka, PostgreSQL and the gateway simulator in " + data + " ...");
        out.flush();

        String requests = "bench.payments.requests";
        String events = "bench.analytics.events";
        String stateTopic = "bench.state.requests";
        String warmUpRequests = "bench.warm-up.requests";
        String warmUpEvents = "bench.warm-up.events";
        try (LocalEnvironment local = LocalEnvironment.start(
                data, new LocalEnvironment.Ports(0, 0, 0),
                new LocalEnvironment.GatewayProfile(42, 0.04, gatewayErrors, Duration.ZERO),
                List.of(requests, events, stateTopic, warmUpRequests, warmUpEvents), 2)) {
            PaymentWorkload payments = new PaymentWorkload(1, customers, Instant.now());
            AnalyticsWorkload analytics = new AnalyticsWorkload(2, users, Instant.now(), Duration.ofMillis(10));
            try (Connection connection = local.postgresEndpoint().connect()) {
                payments.seedCustomers(connection);
                analytics.seedUsers(connection);
            }
            String kafka = local.kafka().bootstrapServers();
            results.payments = Preload.payments(kafka, requests, payments, paymentRecords);
            out.printf("Preloaded %,d payment requests (%.1f MB) in %.1f s%n", paymentRecords, results.payments.megabytes(),
                    results.payments.preloadMillis() / 1e3);
            if (!skip.contains(Part.analytics)) {
                results.analytics = Preload.analytics(kafka, events, analytics, eventRecords);
                out.printf("Preloaded %,d analytics events (%.1f MB) in %.1f s%n", eventRecords, results.analytics.megabytes(),
                        results.analytics.preloadMillis() / 1e3);
            }
            out.flush();

            Configuration flinkConf = new Configuration();
            flinkConf.set(CoreOptions.TMP_DIRS, data.resolve("tmp").toString());
            flinkConf.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, data.resolve("savepoints").toUri().toString());
            flinkConf.set(WebOptions.CHECKPOINTS_HISTORY_SIZE, 100_000);
            flinkConf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse(managedMemory));
            int uiPort = FreePorts.pick();
            try (LocalFlink flink = LocalFlink.start(flinkConf, 2, uiPort)) {
                out.printf("Flink web UI http://127.0.0.1:%d ; logs %s%n%n", uiPort, data.resolve("logs/onceflow.log"));
                Report.printHeader(out);
                JobRuns runs = new JobRuns(local, flink, data, home.resolve("jobs/payments.yaml"), home.resolve("jobs/analytics.yaml"));

                // Each job is measured right after its own warm-up, payments first, so that no job's
                // measured runs follow the other job's warm-up: one JVM runs broker, gateway and
                // both jobs here, where a deployment gives each job TaskManagers of its own, and
                // payments drained 300,000 requests at 15,870/s alone but 10,013/s with the
                // analytics warm-up rounds run in between (docs/benchmarks-profile.md, stop 16).
                boolean withPayments = !skip.contains(Part.payments);
                boolean withAnalytics = !skip.contains(Part.analytics);
                List<String> warmUps = new ArrayList<>();

                // 1. Throughput, payments.
                Preload.Loaded paymentsWarmUp = !withPayments ? null : throughput(results, out, warmUps, kafka,
                        new JobPart("payments", "requests/s", results.payments, Ceiling.paymentDecoder(),
                                () -> Preload.payments(kafka, warmUpRequests, new PaymentWorkload(6, customers, Instant.now()), warmUpRecords),
                                (variant, input, guarantee) -> runs.payments(variant, input, guarantee, checkpointInterval, true, timeout)));
                boolean withPeer = withPayments && !skip.contains(Part.sql_peer);
                if (withPeer && paymentsWarmUp != null) {
                    // The peer's code is not the job's: without rounds of its own its JIT compilation
                    // fell in its measured run (10 us of its 42 us per record, docs/benchmarks-profile.md).
                    attempt(results, out, "Flink SQL peer warm-up", () -> warmUps.add(warmUp(out, SqlPeer.VARIANT, "requests/s",
                            variant -> SqlPeer.run(runs, paymentsWarmUp, variant, checkpointInterval, timeout))));
                }
                if (withPayments) {
                    // The peer, the job's operators on the peer's work twice, the peer again.
                    inTurn(results, out, "payments",
                            withPeer ? new Variant(SqlPeer.VARIANT,
                                    variant -> SqlPeer.run(runs, results.payments, variant, checkpointInterval, timeout)) : null,
                            skip.contains(Part.peer_work) ? null : new Variant(PeerWork.VARIANT,
                                    variant -> PeerWork.run(runs, results.payments, variant, checkpointInterval, timeout)));
                }
                out.println();

                // 2. Latency at fixed shares of the sustained exactly-once rate.
                double sustained = results.rate("payments", "exactly-once");
                if (!skip.contains(Part.latency) && !Double.isNaN(sustained)) {
                    PaymentWorkload live = new PaymentWorkload(3, customers, Instant.now());
                    for (Duration interval : latencyIntervals) {
                        for (int load : latencyLoads) {
                            attempt(results, out, "latency at " + load + "%, checkpoints " + interval.toMillis() + " ms", () -> {
                                FixedRate.Latency latency = FixedRate.latency(runs, live, sustained * load / 100.0, interval, warmUp, latencyDuration);
                                results.latencies.add(latency);
                                Report.print(out, latency);
                            });
                        }
                    }
                }

                // 4. Checkpoints with full snapshots (the incremental ones are the throughput runs').
                if (withPayments && !skip.contains(Part.full_checkpoints)) {
                    Preload.Loaded state = results.payments;
                    if (stateRequests > 0) {
                        state = Preload.payments(kafka, stateTopic, new PaymentWorkload(4, customers, Instant.now()), stateRequests);
                        out.printf("Preloaded %,d payment requests for the checkpoint runs%n", stateRequests);
                        Preload.Loaded stateInput = state;
                        attempt(results, out, "checkpoints incremental", () -> addRun(results, out,
                                runs.payments("exactly-once, " + String.format(Locale.ROOT, "%,d", stateRequests) + " requests, incremental",
                                        stateInput, DeliveryGuarantee.EXACTLY_ONCE, checkpointInterval, true, timeout)));
                    }
                    Preload.Loaded stateInput = state;
                    attempt(results, out, "checkpoints full", () -> addRun(results, out,
                            runs.payments("exactly-once, full checkpoints", stateInput, DeliveryGuarantee.EXACTLY_ONCE,
                                    checkpointInterval, false, timeout)));
                }

                // 5. Throughput, analytics, after every part of payments but recovery.
                if (withAnalytics) {
                    throughput(results, out, warmUps, kafka,
                            new JobPart("analytics", "events/s", results.analytics, Ceiling.jsonDecoder(),
                                    () -> Preload.analytics(kafka, warmUpEvents,
                                            new AnalyticsWorkload(7, users, Instant.now(), Duration.ofMillis(10)), warmUpRecords),
                                    (variant, input, guarantee) -> runs.analytics(variant, input, guarantee, checkpointInterval, true, timeout)));
                }
                out.println();
                if (!warmUps.isEmpty()) {
                    results.settings += String.format(Locale.ROOT,
                            "; each job was measured right after warm-up rounds of its own, payments first (its latency and"
                                    + " full-checkpoint runs too, before the analytics warm-up; recovery last), and so was the Flink SQL"
                                    + " peer, after the payments job's runs; each round %,d records,"
                                    + " not reported, until the JIT compilers took less than %.0f%% of a round's CPU or %d rounds ran: %s",
                            warmUpRecords, warmUpJitShare, warmUpRounds, String.join(", ", warmUps));
                }

                // 3. Recovery, last: it replaces the cluster's TaskManager.
                if (!skip.contains(Part.recovery) && !Double.isNaN(sustained)) {
                    PaymentWorkload live = new PaymentWorkload(5, customers, Instant.now());
                    attempt(results, out, "recovery", () -> {
                        results.recovery = FixedRate.recovery(runs, live, sustained * 0.5, checkpointInterval, Duration.ofSeconds(20));
                        Report.print(out, results.recovery);
                    });
                }
            }
        }
        results.finished = Instant.now();
        out.println();
        out.println("Targets:");
        for (Report.Target target : results.targets()) {
            out.printf("  %-70s %-22s %-40s %s%n", target.what(), target.goal(), target.measured(),
                    target.met() == null ? "no verdict" : target.met() ? "met" : "MISSED");
        }
        if (!noReport) {
            results.write(report);
            out.println("Wrote " + report + " and its chart.");
        }
        out.flush();
        return 0;
    }

    /**
     * Drains a fresh job over the same {@code --warm-up-records} records again and again, until
     * the JIT compilers took less than {@code --warm-up-jit-share} of a round's CPU or {@code
     * --warm-up-rounds} rounds ran. Returns what the report's settings say about it.
     */
    private String warmUp(PrintWriter out, String job, String unit, VariantRun round) throws Exception {
        double jitShare = 1;
        int rounds = 0;
        while (rounds < warmUpRounds && jitShare * 100 >= warmUpJitShare) {
            rounds++;
            JobRuns.Run run = round.drain("warm-up");
            jitShare = run.jitShare();
            out.printf(Locale.ROOT, "%s warm-up round %d (not reported): %,d records, %,.0f %s; JIT compilers %.0f%% of the CPU%n",
                    job, rounds, run.input().records(), run.rate(), unit, jitShare * 100);
            out.flush();
        }
        return String.format(Locale.ROOT, "%s %d round%s, %.0f%% in the last", job, rounds, rounds == 1 ? "" : "s", jitShare * 100);
    }

    private static void addRun(Report results, PrintWriter out, JobRuns.Run run) {
        results.add(run);
        Report.print(out, results.rows.get(results.rows.size() - 1));
        if (!run.outcomes().isEmpty()) {
            out.println("           results: " + ResultMix.describe(run.outcomes()));
            out.flush();
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    /** One job's throughput part: what it drains, how its ceiling decodes it, and its runs. */
    private record JobPart(String job, String unit, Preload.Loaded input, Predicate<byte[]> ceilingDecoder,
            Callable<Preload.Loaded> warmUpInput, JobRunOver run) {}

    private interface JobRunOver {
        JobRuns.Run drain(String variant, Preload.Loaded input, DeliveryGuarantee guarantee) throws Exception;
    }

    /**
     * A job's warm-up rounds over a topic of their own, its ceiling, then its runs in turn over its
     * input. Returns the warm-up rounds' input, or null if none ran.
     */
    private Preload.Loaded throughput(Report results, PrintWriter out, List<String> warmUps, String kafka, JobPart part) {
        AtomicReference<Preload.Loaded> warmedUpOn = new AtomicReference<>();
        if (warmUpRecords > 0) {
            attempt(results, out, part.job() + " warm-up", () -> {
                Preload.Loaded rounds = part.warmUpInput().call();
                warmedUpOn.set(rounds);
                warmUps.add(warmUp(out, part.job(), part.unit(),
                        variant -> part.run().drain(variant, rounds, DeliveryGuarantee.EXACTLY_ONCE)));
            });
        }
        if (!skip.contains(Part.ceiling)) {
            attempt(results, out, part.job() + " ceiling", () -> {
                results.add(Ceiling.run(kafka, part.input().topic(), part.input().records(), part.ceilingDecoder()),
                        part.job(), part.input());
                Report.print(out, results.rows.get(results.rows.size() - 1));
            });
        }
        // Exactly-once, at-least-once twice, exactly-once again.
        inTurn(results, out, part.job(),
                new Variant("exactly-once", variant -> part.run().drain(variant, part.input(), DeliveryGuarantee.EXACTLY_ONCE)),
                skip.contains(Part.at_least_once) ? null : new Variant("at-least-once",
                        variant -> part.run().drain(variant, part.input(), DeliveryGuarantee.AT_LEAST_ONCE)));
        return warmedUpOn.get();
    }

    private interface VariantRun {
        JobRuns.Run drain(String variant) throws Exception;
    }

    /** A variant's name in the report, and one run of it under that name. */
    private record Variant(String name, VariantRun run) {}

    /**
     * Two variants in turn, A B B A ({@link Report#repeat} names the second runs), since the JIT
     * is still compiling minutes into the bench and whichever variant ran second alone would run
     * on faster code; the targets take each pair's mean. Either variant alone (the other null)
     * runs once.
     */
    private static void inTurn(Report results, PrintWriter out, String job, Variant first, Variant second) {
        List<Variant> order = new ArrayList<>();
        if (first != null) {
            order.add(first);
        }
        if (second != null) {
            order.add(second);
        }
        if (first != null && second != null) {
            order.add(new Variant(Report.repeat(second.name()), second.run()));
            order.add(new Variant(Report.repeat(first.name()), first.run()));
        }
        for (Variant variant : order) {
            attempt(results, out, job + " " + variant.name(), () -> addRun(results, out, variant.run().drain(variant.name())));
        }
    }

    /** Runs one part; a failure is reported and recorded, and the other parts still run. */
    private static void attempt(Report results, PrintWriter out, String what, Step step) {
        try {
            step.run();
        } catch (Exception e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            String message = what + " failed: " + e + (root != e ? " (" + root + ")" : "");
            out.println(message);
            out.flush();
            results.failures.add(message);
        }
    }
}
