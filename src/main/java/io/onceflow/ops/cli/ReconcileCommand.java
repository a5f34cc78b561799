package io.onceflow.ops.cli;

import io.onceflow.analytics.AnalyticsConfig;
import io.onceflow.config.ConfigException;
import io.onceflow.ops.reconcile.AnalyticsReconciler;
import io.onceflow.ops.reconcile.PaymentsReconciler;
import io.onceflow.ops.reconcile.ReconcileReport;
import io.onceflow.payments.PaymentsConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.time.Instant;
import java.util.concurrent.Callable;

/** {@code onceflow reconcile}: a range of a job's source topic against every store it writes. */
@Command(name = "reconcile", mixinStandardHelpOptions = true,
        description = {
            "Audits a time range of the job's source topic against its stores: the results topic (read_committed),",
            "PostgreSQL and the lake; prints counts per store (expected, present, lost, duplicated, unexpected),",
            "example keys of each mismatch, the analytics_minute recomputation (analytics) and any PostgreSQL",
            "prepared transaction still open. Exit 0 when nothing is lost or duplicated, 1 otherwise."})
final class ReconcileCommand implements Callable<Integer> {

    @ParentCommand OnceflowCli cli;
    @Spec CommandSpec spec;
    @Mixin JobOptions job;

    @Option(names = "--from", required = true, paramLabel = "TIME", converter = InstantConverter.class,
            description = "Start of the range: source records stamped at or after it (ISO-8601, now, now-15m).")
    Instant from;

    @Option(names = "--to", paramLabel = "TIME", converter = InstantConverter.class,
            description = "End of the range, exclusive (default: now).")
    Instant to;

    @Option(names = "--examples", defaultValue = "10", paramLabel = "N", description = "Example keys per kind of mismatch (default: ${DEFAULT-VALUE}).")
    int examples;

    @Override
    public Integer call() {
        Instant until = to != null ? to : Instant.now();
        if (!from.isBefore(until)) {
            throw new ParameterException(spec.commandLine(), "--from " + from + " is not before --to " + until);
        }
        ReconcileReport report;
        try {
            report = switch (job.job) {
                case "payments" -> PaymentsReconciler.reconcile(PaymentsConfig.load(job.configFile(), job.overrides), from, until, examples);
                case "analytics" -> AnalyticsReconciler.reconcile(AnalyticsConfig.load(job.configFile(), job.overrides), from, until, examples);
                default -> throw new ParameterException(spec.commandLine(), "reconcile knows the jobs payments and analytics, not '" + job.job + "'");
            };
        } catch (ConfigException e) {
            throw new ParameterException(spec.commandLine(), OnceflowCli.withoutFinalStop(e.getMessage()));
        }
        report.print(cli.io().out());
        if (!report.exact()) {
            cli.io().err().printf("Reconcile of %s found %d lost and %d duplicated%s.%n", job.job, report.lost(), report.duplicated(),
                    report.minutes() != null && report.minutes().differing() > 0 ? " and " + report.minutes().differing() + " differing minute rows" : "");
            return 1;
        }
        return 0;
    }
}
