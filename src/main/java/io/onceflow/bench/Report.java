package io.onceflow.bench;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.DoubleSummaryStatistics;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Everything one benchmark run measured, and how it is shown: a table on the terminal, {@code
 * docs/benchmarks.md} and its chart {@code docs/benchmarks.svg}. Every figure comes from the
 * measurements; the targets are the issue's, compared here with what was measured.
 */
final class Report {

    /** One throughput row: a job's run or a ceiling. */
    record Row(String job, String variant, long records, double megabytes, double rate, double wallSeconds,
            double cpuMicrosPerRecord, double busyCores, double stolenShare, double referenceMillis,
            double referenceMemoryNanos, JobRuns.Checkpoints checkpoints, String loadStart, String loadEnd, String settings, boolean complete) {

        double perCore() {
            return rate / Machine.cores();
        }

        double megabytesPerSecond() {
            return records == 0 ? Double.NaN : rate * megabytes / records;
        }
    }

    final Instant started = Instant.now();
    Instant finished;
    String command;
    String note;
    String loadAtStart = Machine.loadAverage();
    final Machine.Sample atStart = Machine.Sample.now();
    String settings;
    Preload.Loaded payments;
    Preload.Loaded analytics;
    final List<Row> rows = new ArrayList<>();
    final List<JobRuns.Run> runs = new ArrayList<>();
    final List<FixedRate.Latency> latencies = new ArrayList<>();
    FixedRate.Recovery recovery;
    final List<String> failures = new ArrayList<>();

    void add(Ceiling.Result ceiling, String job, Preload.Loaded input) {
        rows.add(new Row(job, "ceiling: plain KafkaConsumer + decode", ceiling.records(), input.megabytes(),
                ceiling.records() / ceiling.seconds(), ceiling.seconds(),
                ceiling.end().processCpuSecondsSince(ceiling.start()) * 1e6 / ceiling.records(),
                ceiling.end().machineBusyCoresSince(ceiling.start()), ceiling.end().machineStolenShareSince(ceiling.start()),
                ceiling.start().referenceWorkMillis(), ceiling.start().referenceMemoryNanos(), JobRuns.Checkpoints.NONE,
                ceiling.start().loadAverage(), ceiling.end().loadAverage(), "one thread, read_committed",
                ceiling.records() >= input.records()));
    }

    void add(JobRuns.Run run) {
        runs.add(run);
        rows.add(new Row(run.job(), run.variant(), run.input().records(), run.input().megabytes(), run.rate(),
                run.drain().wallSeconds(), run.processCpuMicrosPerRecord(), run.end().machineBusyCoresSince(run.start()),
                run.end().machineStolenShareSince(run.start()), run.start().referenceWorkMillis(),
                run.start().referenceMemoryNanos(), run.checkpoints(),
                run.start().loadAverage(), run.end().loadAverage(), run.settings(),
                run.drain().complete()));
    }

    private Row find(String job, String variantPrefix) {
        for (Row row : rows) {
            if (row.job().equals(job) && row.variant().startsWith(variantPrefix) && row.complete()) {
                return row;
            }
        }
        return null;
    }

    /** Name of the second run of a variant, which the bench runs to cancel out the JVM's warming; see {@link #rate}. */
    static String repeat(String variant) {
        return variant + ", 2nd";
    }

    /**
     * The rates of a job's variant: its run and its {@link #repeat repeat}, of those that drained
     * and have a rate (a run whose outputs all appeared at once has none).
     */
    private DoubleSummaryStatistics rates(String job, String variant) {
        return rows.stream()
                .filter(row -> row.job().equals(job) && row.complete()
                        && (row.variant().equals(variant) || row.variant().equals(repeat(variant))))
                .mapToDouble(Row::rate)
                .filter(rate -> !Double.isNaN(rate))
                .summaryStatistics();
    }

    /**
     * The rate of a job's variant: the mean of its run and its {@link #repeat repeat}, of those
     * that drained; NaN when none did. The bench runs exactly-once and at-least-once in the
     * order A B B A, so that a JVM still compiling (it is, for minutes) favours neither.
     */
    double rate(String job, String variant) {
        DoubleSummaryStatistics rates = rates(job, variant);
        return rates.getCount() == 0 ? Double.NaN : rates.getAverage();
    }

    private static final double PRICE_LIMIT = 0.10;

    /**
     * Met or missed only where the runs' own spread cannot carry the price across the limit: met
     * if the price plus the spread is within it, missed if the price minus the spread is beyond
     * it, no verdict in between or when a variant's runs lie further apart than the limit itself.
     * So exactly-once coming out faster is a price below what the runs resolve, not a
     * contradiction, and a price just under the limit from noisy runs is not a pass.
     */
    static Boolean priceVerdict(double cost, double spread) {
        if (Double.isNaN(cost) || spread > PRICE_LIMIT) {
            return null;
        }
        if (cost + spread <= PRICE_LIMIT) {
            return true;
        }
        return cost - spread > PRICE_LIMIT ? false : null;
    }

    /**
     * Faster or slower only where the runs' own spread cannot turn the answer round: met if the
     * variant stays faster than the peer with the ratio reduced by the spread, missed if it stays
     * slower with the ratio raised by it, no verdict in between.
     */
    static Boolean fasterVerdict(double ratio, double spread) {
        if (Double.isNaN(ratio)) {
            return null;
        }
        if (ratio - 1 > spread) {
            return true;
        }
        return 1 - ratio > spread ? false : null;
    }

    private Target versusPeer(String what, String variant) {
        double rate = rate("payments", variant);
        double peer = rate("payments", SqlPeer.VARIANT);
        double ratio = rate / peer;
        double spread = Math.max(spread("payments", variant), spread("payments", SqlPeer.VARIANT));
        return new Target(what, "faster",
                Double.isNaN(ratio) ? "not measured" : String.format(Locale.ROOT, "%.2fx (%s vs %s rec/s%s)", ratio, number(rate),
                        number(peer), pairsNote("payments", variant, SqlPeer.VARIANT, spread)),
                fasterVerdict(ratio, spread));
    }

    /** What a comparison of two variants rests on when each ran twice; empty otherwise. */
    private String pairsNote(String job, String variant, String other, double spread) {
        return runsOf(job, variant) > 1 && runsOf(job, other) > 1
                ? String.format(Locale.ROOT, ", means of two runs each, which differ by up to %.0f%%", spread * 100)
                : "";
    }

    /** How far the runs of a variant lie apart, relative to their mean; 0 with fewer than two runs. */
    private double spread(String job, String variant) {
        DoubleSummaryStatistics rates = rates(job, variant);
        return rates.getCount() < 2 ? 0 : (rates.getMax() - rates.getMin()) / rates.getAverage();
    }

    private long runsOf(String job, String variant) {
        return rates(job, variant).getCount();
    }

    private String rateText(String job, String variant) {
        double rate = rate(job, variant);
        long runs = runsOf(job, variant);
        return Double.isNaN(rate) ? "not measured" : number(rate) + " rec/s" + (runs > 1 ? " (mean of " + runs + " runs)" : "");
    }

    // ---------------------------------------------------------------- terminal

    static final String TABLE_FORMAT = "%-10s %-40s %9s %10s %9s %7s %6s %8s %8s %6s %6s %6s %9s %5s %14s%n";

    static void printHeader(PrintWriter out) {
        out.printf(TABLE_FORMAT, "job", "variant", "records", "rec/s", "rec/s/core", "MB/s", "wall s",
                "CPU us/r", "busy cpu", "stolen", "ref ms", "mem ns", "ckpt p50/99", "ckpts", "load avg");
    }

    static void print(PrintWriter out, Row row) {
        out.printf(TABLE_FORMAT, row.job(), row.variant() + (row.complete() ? "" : " (INCOMPLETE)"), row.records(),
                number(row.rate()), number(row.perCore()), decimal(row.megabytesPerSecond()), decimal(row.wallSeconds()),
                decimal(row.cpuMicrosPerRecord()), decimal(row.busyCores()), percent(row.stolenShare()),
                decimal(row.referenceMillis()), decimal(row.referenceMemoryNanos()),
                row.checkpoints().completed() == 0 ? "-" : number(row.checkpoints().p50Millis()) + "/" + number(row.checkpoints().p99Millis()),
                row.checkpoints().completed() == 0 ? "-" : Long.toString(row.checkpoints().completed()),
                row.loadStart().split(" ")[0] + "->" + row.loadEnd().split(" ")[0]);
        out.flush();
    }

    static void print(PrintWriter out, FixedRate.Latency l) {
        out.printf("latency  payments exactly-once  target %s req/s (sent %s/s), checkpoints %d ms: p50 %s ms, p99 %s ms,"
                        + " p99.9 %s ms, max %s ms over %d results%s; PostgreSQL row committed: p50 %s ms, p99 %s ms,"
                        + " p99.9 %s ms over %d rows; checkpoints p50 %s ms, p99 %s ms; load %s -> %s%n",
                number(l.targetRate()), number(l.sentRate()), l.interval(), number(l.p50()), number(l.p99()),
                number(l.p999()), number(l.max()), l.measured(), l.drained() ? "" : " (NOT DRAINED)",
                number(l.rows().p50()), number(l.rows().p99()), number(l.rows().p999()), l.rows().measured(),
                number(l.checkpoints().totals().p50Millis()), number(l.checkpoints().totals().p99Millis()),
                l.start().loadAverage(), l.end().loadAverage());
        out.flush();
    }

    /** Each stage's checkpoint times, a column per latency run; stages line up by name. */
    void stageTable(StringBuilder md) {
        Map<String, String[]> cells = new LinkedHashMap<>();
        for (int run = 0; run < latencies.size(); run++) {
            for (JobRuns.StageTimes stage : latencies.get(run).checkpoints().stages()) {
                cells.computeIfAbsent(stage.stage(), name -> new String[latencies.size()])[run] =
                        p50p90(stage.ack()) + " (" + p50p90(stage.barrier()) + ", " + p50p90(stage.sync()) + ", "
                                + p50p90(stage.async()) + ")";
            }
        }
        if (cells.isEmpty()) {
            return;
        }
        md.append("Where the checkpoints of these runs spent their time: for each stage, when its slowest subtask")
                .append(" acknowledged, counted from the trigger, p50 / p90 ms over the checkpoints after the warm-up; in")
                .append(" brackets, of its subtasks in each checkpoint the longest: wait for the barrier (from the trigger until")
                .append(" the last barrier arrived: Flink's start delay plus alignment), synchronous phase (for keyed state,")
                .append(" RocksDB's native checkpoint, on the task thread) and asynchronous phase (the upload, with unaligned")
                .append(" checkpoints also of the records in flight), p50 / p90 ms each.")
                .append(" A checkpoint completes when its last stage has acknowledged.\n\n| stage |");
        for (FixedRate.Latency l : latencies) {
            md.append(" ").append(l.interval()).append(" ms, ").append(number(l.targetRate())).append(" req/s |");
        }
        md.append("\n| --- |").append(" ---: |".repeat(latencies.size())).append("\n");
        cells.forEach((stage, row) -> {
            md.append("| ").append(stage).append(" |");
            for (String cell : row) {
                md.append(" ").append(cell == null ? "" : cell).append(" |");
            }
            md.append("\n");
        });
        md.append("\n");
    }

    private static String p50p90(JobRuns.Percentiles times) {
        return number(times.p50()) + " / " + number(times.p90());
    }

    static void print(PrintWriter out, FixedRate.Recovery r) {
        out.printf("recovery payments exactly-once at %s req/s: TaskManager lost -> all tasks running %s s,"
                        + " -> output lag back to its pre-loss maximum (%s records) %s s; restarted: %s; load %s -> %s%n",
                number(r.rate()), decimal(r.secondsToRunning()), number(r.baselineLag()), decimal(r.secondsToCaughtUp()),
                r.restarted(), r.start().loadAverage(), r.end().loadAverage());
        out.flush();
    }

    // ---------------------------------------------------------------- targets

    record Target(String what, String goal, String measured, Boolean met) {}

    List<Target> targets() {
        List<Target> targets = new ArrayList<>();
        double analyticsEo = rate("analytics", "exactly-once");
        double paymentsEo = rate("payments", "exactly-once");
        targets.add(new Target("analytics job, exactly-once", ">= 40,000 events/s", rateText("analytics", "exactly-once"),
                Double.isNaN(analyticsEo) ? null : analyticsEo >= 40_000));
        targets.add(new Target("payments job, exactly-once, gateway at zero latency", ">= 15,000 requests/s",
                rateText("payments", "exactly-once"), Double.isNaN(paymentsEo) ? null : paymentsEo >= 15_000));
        for (String job : List.of("payments", "analytics")) {
            double eo = rate(job, "exactly-once");
            double alo = rate(job, "at-least-once");
            double cost = 1 - eo / alo;
            double spread = Math.max(spread(job, "exactly-once"), spread(job, "at-least-once"));
            targets.add(new Target(job + ": price of exactly-once vs at-least-once", "<= 10% slower",
                    Double.isNaN(cost) ? "not measured" : String.format(Locale.ROOT, "%.1f%% (%s vs %s rec/s%s)", cost * 100,
                            number(eo), number(alo), pairsNote(job, "exactly-once", "at-least-once", spread)),
                    priceVerdict(cost, spread)));
        }
        targets.add(versusPeer("payments job vs the Flink SQL peer", "exactly-once"));
        targets.add(versusPeer("the job's operators on the peer's work vs the Flink SQL peer", PeerWork.VARIANT));
        for (FixedRate.Latency l : latencies) {
            if (l.targetRate() > 0 && Math.abs(l.targetRate() / paymentsEo - 0.5) < 0.01) {
                double goal = l.interval() + 500;
                targets.add(new Target("p99 end-to-end latency at 50% load, checkpoints every " + l.interval() + " ms",
                        "<= " + number(goal) + " ms", number(l.p99()) + " ms", Double.isNaN(l.p99()) ? null : l.p99() <= goal));
            }
        }
        targets.add(new Target("recovery to running after a TaskManager loss", "<= 10 s",
                recovery == null || Double.isNaN(recovery.secondsToRunning()) ? "not measured" : decimal(recovery.secondsToRunning()) + " s",
                recovery == null || Double.isNaN(recovery.secondsToRunning()) ? null : recovery.secondsToRunning() <= 10));
        return targets;
    }

    // ---------------------------------------------------------------- markdown

    void write(Path markdown) throws Exception {
        Files.createDirectories(markdown.toAbsolutePath().getParent());
        Path svg = markdown.resolveSibling(markdown.getFileName().toString().replaceAll("\\.md$", "") + ".svg");
        Files.writeString(svg, chart());
        Files.writeString(markdown, markdown(svg.getFileName().toString()));
    }

    String markdown(String chartFile) {
        StringBuilder md = new StringBuilder();
        md.append("# Benchmarks\n\n");
        md.append("Written by `onceflow bench` from one run; every figure below was measured in that run (nothing here is\n")
                .append("typed in by hand). Rerun it on your machine: `deploy/onceflow bench` (see the README).\n\n");
        md.append("## Conditions\n\n");
        md.append("- Run: ").append(started).append(" to ").append(finished).append(" (UTC)\n");
        md.append("- Command: `").append(command).append("`\n");
        md.append("- Machine: ").append(Machine.cpuModel()).append(", ").append(Machine.cores()).append(" cores, ")
                .append(Machine.memory()).append(" memory; ").append(System.getProperty("os.name")).append(' ')
                .append(System.getProperty("os.version")).append("; Java ").append(System.getProperty("java.version")).append('\n');
        md.append("- Load average (1/5/15 min) at the start: ").append(loadAtStart).append("; at the end: ")
                .append(Machine.loadAverage()).append(". Each row below gives the 1-minute load average at its start")
                .append(" and end and how many cores the whole machine kept busy during it (all processes, from /proc/stat).")
                .append(" CPU time stolen by the hypervisor over the whole run: ")
                .append(percent(Machine.Sample.now().machineStolenShareSince(atStart))).append(".\n");
        if (note != null && !note.isBlank()) {
            md.append("- Note: ").append(note).append('\n');
        }
        md.append("- Everything on this one machine: the Kafka broker (KRaft), the gateway simulator and the Flink cluster")
                .append(" (a MiniCluster, one TaskManager with 2 slots) in the benchmark's JVM; PostgreSQL as its own process.")
                .append(" The figures are what the machine does with all of them together.\n");
        md.append("- Settings: ").append(settings).append('\n');
        if (payments != null) {
            md.append(String.format(Locale.ROOT, "- Input, preloaded before any job ran: %,d payment requests (%.1f MB, %.0f B/record;"
                            + " ~5%% client retries, key reuse, undecodable, invalid, unknown customers; a quarter of the traffic from"
                            + " 5%% of the customers) and ", payments.records(), payments.megabytes(),
                    payments.bytes() / (double) payments.records()));
        }
        if (analytics != null) {
            md.append(String.format(Locale.ROOT, "%,d analytics events (%.1f MB, %.0f B/record; JSON; ~5%% SDK retries,"
                            + " ~4%% invalid, ~3%% late; skewed users)", analytics.records(), analytics.megabytes(),
                    analytics.bytes() / (double) analytics.records()));
        }
        md.append(".\n\n");

        md.append("## Throughput\n\n");
        md.append("Each job drains the same preloaded topic from its first offset. A run ends when an outside reader sees every")
                .append(" result: for payments a `read_committed` consumer of the results and dead-letter topics (one output per")
                .append(" request); for analytics the lake table's committed rows plus the dead letters; for the SQL peer the")
                .append(" rows in PostgreSQL. The consumer fetches in batches (the broker holds a fetch until ")
                .append(OutputCounter.BATCH_BYTES / 1024).append(" KiB are visible")
                .append(" or ").append(OutputCounter.BATCH_WAIT_MS)
                .append(" ms passed), so that it costs alike whether outputs appear continuously (at-least-once) or once per")
                .append(" checkpoint. The rate runs from the first outputs visible to the last (start-up left out; with exactly-once")
                .append(" outputs appear once per checkpoint, so a run must span many intervals); *wall s* is from submission to the last output visible. *CPU us/rec* is the")
                .append(" benchmark JVM's CPU time (Flink, broker, gateway) per input record; PostgreSQL's own CPU is not in it.")
                .append(" Three columns say how fast the machine itself was: *CPU stolen* is the share of its CPU time the")
                .append(" hypervisor gave to others during the row (steal, from /proc/stat); *reference work ms* is one")
                .append(" thread sorting the same 2^20 integers (best of three), timed right before the row while no job runs")
                .append(" (the JVM's JIT compilers, still working through their queue, and PostgreSQL's background processes may):")
                .append(" a higher figure means one thread got less out of the machine just then; *memory ns* is one thread's")
                .append(" wait for a load from memory (a walk of dependent loads through 64 MiB in random order, best of three),")
                .append(" timed with it. The sort stays in the core's own cache; the walk feels the cache and memory bandwidth")
                .append(" the host shares among its tenants, which every miss of the jobs (Kafka, RocksDB, the heap) pays for.\n\n");
        md.append("| job | variant | records | rec/s | rec/s per core | MB/s | share of ceiling | job / peer | wall s | CPU us/rec | busy cores | CPU stolen | reference work ms | memory ns | checkpoints p50 / p99 ms | load avg (1 min) |\n");
        md.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
        for (Row row : rows) {
            Row ceiling = find(row.job(), "ceiling");
            double peer = rate(row.job(), SqlPeer.VARIANT);
            md.append("| ").append(row.job()).append(" | ").append(row.variant()).append(row.complete() ? "" : " (did not drain)")
                    .append(" | ").append(String.format(Locale.ROOT, "%,d", row.records()))
                    .append(" | ").append(number(row.rate()))
                    .append(" | ").append(number(row.perCore()))
                    .append(" | ").append(decimal(row.megabytesPerSecond()))
                    .append(" | ").append(ceiling == null || row == ceiling ? "" : percent(row.rate() / ceiling.rate()))
                    .append(" | ").append(Double.isNaN(peer) || row.variant().startsWith("ceiling") || row.variant().startsWith(SqlPeer.VARIANT) ? "" : String.format(Locale.ROOT, "%.2fx", row.rate() / peer))
                    .append(" | ").append(decimal(row.wallSeconds()))
                    .append(" | ").append(decimal(row.cpuMicrosPerRecord()))
                    .append(" | ").append(decimal(row.busyCores()))
                    .append(" | ").append(percent(row.stolenShare()))
                    .append(" | ").append(decimal(row.referenceMillis()))
                    .append(" | ").append(decimal(row.referenceMemoryNanos()))
                    .append(" | ").append(row.checkpoints().completed() == 0 ? "" : number(row.checkpoints().p50Millis()) + " / " + number(row.checkpoints().p99Millis()))
                    .append(" | ").append(row.loadStart().split(" ")[0]).append(" → ").append(row.loadEnd().split(" ")[0])
                    .append(" |\n");
        }
        List<JobRuns.Run> withOutcomes = runs.stream().filter(r -> !r.outcomes().isEmpty()).toList();
        if (!withOutcomes.isEmpty()) {
            md.append("\nWhat each payments run answered, read from its results topic after the run (a request rejected")
                    .append(" before the gateway costs less than one the gateway decides, so runs compare only with alike mixes):\n\n");
            for (JobRuns.Run run : withOutcomes) {
                md.append("- ").append(run.variant()).append(": ").append(ResultMix.describe(run.outcomes())).append('\n');
            }
        }
        md.append("\n![records per second by variant](").append(chartFile).append(")\n\n");
        md.append("What the variants are:\n\n");
        md.append("- **ceiling**: one `KafkaConsumer` thread, `read_committed`, decoding each value (Avro single-object for")
                .append(" payments, a Jackson tree for analytics) and nothing else: no job reads the topic faster here.\n");
        md.append("- **exactly-once**: the job as shipped (`PaymentsJob`, `AnalyticsJob`), all sinks committing on checkpoints.\n");
        md.append("- **at-least-once**: the same job graph with `Connectors.of(config, false, AT_LEAST_ONCE)`: the Kafka sink")
                .append(" without transactions and PostgreSQL through `AutoCommitPostgresSink` (ordinary transactions at every")
                .append(" barrier, no prepared transactions). The Iceberg lake sink is the same in both (it commits on checkpoints;")
                .append(" the analytics count waits for those commits in both variants).\n");
        md.append("- **..., 2nd**: the same variant again. Each job runs exactly-once, at-least-once, at-least-once 2nd,")
                .append(" exactly-once 2nd (A B B A) and the targets take the mean of each pair: the JVM is still compiling")
                .append(" minutes into the bench, so a single pair would favour whichever ran second. The price of exactly-once")
                .append(" gets a verdict only if each variant's two runs lie within 10% of each other, the difference the target")
                .append(" allows, and only where that difference cannot carry the price across 10%: met if the price plus the")
                .append(" difference is at most 10% (exactly-once coming out faster is then a price below what the runs resolve),")
                .append(" missed if the price minus the difference is above 10%.\n");
        md.append("- **Flink SQL peer** (payments): decode (a table function over the same codec), `ROW_NUMBER` dedup by")
                .append(" (customer, key), `LEFT JOIN customers FOR SYSTEM_TIME AS OF` through `flink-connector-jdbc` 4.0.0-2.0")
                .append(" (cached lookups), upsert into a PostgreSQL table by the JDBC sink (at-least-once). It does less than")
                .append(" the job: no validation, no gateway call, no Kafka results, no lake, no 2PC. Its rate counts input records.")
                .append(" It gets warm-up rounds of its own after the job's runs; then it and the next variant run in turn (peer,")
                .append(" the peer's work twice, peer), and each comparison with it takes the means of pairs and has a verdict only")
                .append(" where the runs' spread cannot turn it round: faster if the ratio less that spread is above 1, slower if the")
                .append(" ratio plus it is below 1.\n");
        md.append("- **").append(PeerWork.VARIANT).append("** (payments): the peer's work done the job's way, to compare the two on the same")
                .append(" work: the job's own operators (`PaymentsJob.decide`: decode, validate, customer lookup, the authorizer's")
                .append(" idempotency and checks) with a gateway that approves every payment at once in process, and the job's")
                .append(" two-phase-commit PostgreSQL sink writing one row per distinct (customer, key) into a table like the peer's;")
                .append(" no gateway over the network, no Kafka results, no lake. It still validates, checks daily limits, keeps")
                .append(" each request's result for its repeats and commits exactly once, which the peer does not.\n\n");

        md.append("## Latency\n\n");
        if (latencies.isEmpty()) {
            md.append("Not measured in this run.\n\n");
        } else {
            md.append("The payments job exactly-once, fed at a fixed rate while it runs (a share of the sustained exactly-once rate")
                    .append(" above, the mean of its runs). Latency: from `requestedAt`, set right before the request is produced, to the moment a")
                    .append(" `read_committed` consumer of `payments.results` receives its result (same clock; duplicates left")
                    .append(" out, they carry their original's time); and to the commit of the request's row in PostgreSQL's")
                    .append(" `payments` (completed and declined payments; PostgreSQL's commit timestamp of the row's transaction,")
                    .append(" `pg_xact_commit_timestamp(xmin)`, read once after the run). The first seconds (warm-up) are left out, of the latencies and of the")
                    .append(" checkpoint durations (trigger to completion, the part of a result's wait that the checkpoint itself adds).\n\n");
            md.append("| target req/s | sent req/s | checkpoint interval ms | results | p50 ms | p99 ms | p99.9 ms | max ms"
                    + " | PostgreSQL rows | row p50 ms | row p99 ms | row p99.9 ms | checkpoint p50 / p99 ms | CPU stolen | reference work ms | memory ns | load avg (1 min) |\n");
            md.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
            for (FixedRate.Latency l : latencies) {
                md.append("| ").append(number(l.targetRate())).append(" | ").append(number(l.sentRate())).append(" | ")
                        .append(l.interval()).append(" | ").append(l.measured()).append(l.drained() ? "" : " (not drained)")
                        .append(" | ").append(number(l.p50())).append(" | ").append(number(l.p99()))
                        .append(" | ").append(number(l.p999())).append(" | ").append(number(l.max()))
                        .append(" | ").append(l.rows().measured()).append(" | ").append(number(l.rows().p50()))
                        .append(" | ").append(number(l.rows().p99())).append(" | ").append(number(l.rows().p999()))
                        .append(" | ").append(number(l.checkpoints().totals().p50Millis())).append(" / ").append(number(l.checkpoints().totals().p99Millis()))
                        .append(" | ").append(percent(l.end().machineStolenShareSince(l.start())))
                        .append(" | ").append(decimal(l.start().referenceWorkMillis()))
                        .append(" | ").append(decimal(l.start().referenceMemoryNanos()))
                        .append(" | ").append(l.start().loadAverage().split(" ")[0]).append(" → ").append(l.end().loadAverage().split(" ")[0])
                        .append(" |\n");
            }
            md.append("\n");
            stageTable(md);
        }

        md.append("## Recovery\n\n");
        if (recovery == null) {
            md.append("Not measured in this run.\n\n");
        } else {
            md.append(String.format(Locale.ROOT, "The payments job exactly-once at %s req/s; the TaskManager (with every task of the job)"
                            + " is stopped and a new one started at once, as a machine loss with a replacement; the job restarts"
                            + " from its last checkpoint.%n%n", number(recovery.rate())));
            md.append("| TaskManager lost → all tasks running | → output lag back to its pre-loss maximum | pre-loss lag (records) | load avg (1 min) |\n");
            md.append("| ---: | ---: | ---: | --- |\n");
            md.append("| ").append(decimal(recovery.secondsToRunning())).append(" s | ").append(decimal(recovery.secondsToCaughtUp()))
                    .append(" s | ").append(number(recovery.baselineLag())).append(" | ")
                    .append(recovery.start().loadAverage().split(" ")[0]).append(" → ").append(recovery.end().loadAverage().split(" ")[0]).append(" |\n\n");
            md.append("Output lag = requests sent minus outputs a `read_committed` consumer has seen; with exactly-once sinks it is")
                    .append(" never zero while requests flow (outputs appear once per checkpoint), so \"caught up\" is the lag")
                    .append(" falling back to the largest it was in the steady state before the loss. The TaskManager is stopped")
                    .append(" in-process (`MiniCluster.terminateTaskManager`), so the JobManager learns of the loss at once; a")
                    .append(" TaskManager that vanishes silently is only noticed after the heartbeat timeout (50 s by default).\n\n");
        }

        md.append("## Checkpoints\n\n");
        md.append("From the JobManager's checkpoint statistics of each run (all completed checkpoints of the run).")
                .append(" State size is that of the last checkpoint; *checkpointed* is what a checkpoint uploaded (less than the")
                .append(" state with incremental checkpoints). Memory: the benchmark JVM (heap used, and resident size with")
                .append(" RocksDB's native memory, the broker and everything else) at the end of the run; the TaskManager is")
                .append(" not a process of its own here.\n\n");
        md.append("| job | variant | settings | completed | failed | p50 ms | p99 ms | last state | checkpointed p50 / max | heap used | resident |\n");
        md.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (JobRuns.Run run : runs) {
            var c = run.checkpoints();
            md.append("| ").append(run.job()).append(" | ").append(run.variant()).append(" | ").append(run.settings())
                    .append(" | ").append(c.completed()).append(" | ").append(c.failed())
                    .append(" | ").append(number(c.p50Millis())).append(" | ").append(number(c.p99Millis()))
                    .append(" | ").append(bytes(c.lastStateBytes())).append(" | ").append(bytes(c.p50CheckpointedBytes()))
                    .append(" / ").append(bytes(c.maxCheckpointedBytes()))
                    .append(" | ").append(bytes(run.heapBytes())).append(" | ").append(bytes(run.residentBytes())).append(" |\n");
        }
        md.append("\nThe payments job keeps one idempotency entry per (customer, key) for 7 days, so its state grows with the")
                .append(" requests drained: about one key per distinct request. `--state-requests N` runs the payments job over")
                .append(" N fresh requests with incremental and with full checkpoints (the issue asks for 5 million keys).\n\n");

        md.append("## CPU per record by stage\n\n");
        md.append("CPU microseconds per input record over each throughput run, by group of threads (thread CPU time of the")
                .append(" benchmark JVM), and of PostgreSQL's server and backend processes. Flink runs a chain of operators in one")
                .append(" task thread, so a chain is one figure: the payments job's source chain decodes, validates and sends")
                .append(" the customer lookups, its authorizer deduplicates and sends the gateway calls. Their network I/O is")
                .append(" counted where it runs: the lookups' and the gateway client's on the Vert.x event loops, the Kafka")
                .append(" sinks' on the producers' network threads. The broker and the gateway simulator share the JVM and")
                .append(" have their own rows, and so do the JVM's own threads (JIT compilers, garbage collector, VM thread)")
                .append(" when HotSpot reports them (`deploy/onceflow` lets it). Threads that ended during the run are a")
                .append(" residual row; without HotSpot's figures the JVM's own threads fall into it too. The **all** row is the")
                .append(" JVM and PostgreSQL, so it is larger than the throughput table's CPU us/rec, which is the JVM alone.\n\n");
        for (String job : runs.stream().map(JobRuns.Run::job).distinct().toList()) {
            List<JobRuns.Run> ofJob = runs.stream().filter(r -> r.job().equals(job)).toList();
            List<String> groups = new ArrayList<>();
            for (JobRuns.Run run : ofJob) {
                run.cpuNanosByGroup().keySet().stream().filter(g -> !groups.contains(g)).forEach(groups::add);
            }
            md.append("| ").append(job).append(", µs per record");
            ofJob.forEach(run -> md.append(" | ").append(run.variant()));
            md.append(" |\n| ---");
            ofJob.forEach(run -> md.append(" | ---:"));
            md.append(" |\n");
            for (String group : groups) {
                md.append("| ").append(escape(group));
                ofJob.forEach(run -> md.append(" | ").append(decimal(run.cpuMicrosPerRecord(group))));
                md.append(" |\n");
            }
            md.append("| **all**");
            ofJob.forEach(run -> md.append(" | **")
                    .append(decimal(run.cpuNanos() / 1e3 / run.input().records()))
                    .append("**"));
            md.append(" |\n\n");
        }

        md.append("## Targets\n\n");
        md.append("| target | goal | measured | met |\n| --- | --- | --- | --- |\n");
        for (Target t : targets()) {
            md.append("| ").append(t.what()).append(" | ").append(t.goal()).append(" | ").append(t.measured()).append(" | ")
                    .append(t.met() == null ? "no verdict" : t.met() ? "yes" : "**no**").append(" |\n");
        }
        if (!failures.isEmpty()) {
            md.append("\n## What failed in this run\n\n");
            for (String failure : failures) {
                md.append("- ").append(failure).append('\n');
            }
        }
        return md.toString();
    }

    // ---------------------------------------------------------------- chart

    /** Horizontal bars of records per second, one panel per job, each on its own scale. */
    String chart() {
        Map<String, List<Row>> byJob = new LinkedHashMap<>();
        for (Row row : rows) {
            byJob.computeIfAbsent(row.job(), j -> new ArrayList<>()).add(row);
        }
        int width = 900;
        int barHeight = 22;
        int labelWidth = 330;
        int y = 40;
        StringBuilder body = new StringBuilder();
        for (var entry : byJob.entrySet()) {
            double max = entry.getValue().stream().mapToDouble(r -> Double.isNaN(r.rate()) ? 0 : r.rate()).max().orElse(1);
            body.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"%d\" font-weight=\"bold\">%s job (records/s)</text>%n", y, escape(entry.getKey())));
            y += 10;
            for (Row row : entry.getValue()) {
                double rate = Double.isNaN(row.rate()) ? 0 : row.rate();
                int length = (int) Math.round((width - labelWidth - 120) * rate / Math.max(1, max));
                String colour = row.variant().startsWith("ceiling") ? "#9e9e9e"
                        : row.variant().startsWith("exactly-once") ? "#1f77b4"
                        : row.variant().startsWith("at-least-once") ? "#aec7e8" : "#ff7f0e";
                body.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n",
                        labelWidth - 8, y + 16, escape(row.variant())));
                body.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>%n",
                        labelWidth, y + 2, Math.max(1, length), barHeight - 4, colour));
                body.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n",
                        labelWidth + Math.max(1, length) + 6, y + 16, number(row.rate())));
                y += barHeight + 4;
            }
            y += 24;
        }
        String title = String.format(Locale.ROOT, "onceflow bench, %s: %d cores, load average %s at the start",
                started.toString().substring(0, 16).replace('T', ' '), Machine.cores(), loadAtStart);
        return String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"13\">%n"
                        + "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>%n"
                        + "<text x=\"10\" y=\"20\" font-size=\"14\">%s</text>%n%s</svg>%n",
                width, y, escape(title), body);
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    // ---------------------------------------------------------------- numbers

    static String number(double value) {
        return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, "%,.0f", value);
    }

    static String decimal(double value) {
        return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, "%.1f", value);
    }

    static String percent(double value) {
        return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, "%.1f%%", value * 100);
    }

    static String bytes(long value) {
        if (value < 0) {
            return "n/a";
        }
        if (value < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.0f KiB", value / 1024.0);
        }
        return String.format(Locale.ROOT, "%.1f MiB", value / 1024.0 / 1024.0);
    }
}
