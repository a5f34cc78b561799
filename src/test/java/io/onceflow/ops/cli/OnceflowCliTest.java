package io.onceflow.ops.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Usage and configuration errors: none of these reach a broker. */
class OnceflowCliTest {

    private static final String[] CONSUME = {
        "consume", "--bootstrap-servers", "127.0.0.1:1", "--topic", "t"
    };

    private static String[] consumeWith(String... more) {
        String[] args = new String[CONSUME.length + more.length];
        System.arraycopy(CONSUME, 0, args, 0, CONSUME.length);
        System.arraycopy(more, 0, args, CONSUME.length, more.length);
        return args;
    }

    /** One line on stderr, no stack trace, nothing on stdout. */
    private static void assertOneSentence(CliRun run, int exitCode) {
        assertThat(run.exitCode()).isEqualTo(exitCode);
        assertThat(run.errLines()).hasSize(1);
        assertThat(run.err()).doesNotContain("\tat ").doesNotContain("Exception");
        assertThat(run.errLines().get(0)).endsWith(".");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void unknownOptionIsAUsageErrorInOneSentence() {
        CliRun run = CliRun.of(consumeWith("--frobnicate"));

        assertOneSentence(run, 2);
        assertThat(run.err())
                .startsWith("Unknown option: '--frobnicate'")
                .endsWith("; see 'onceflow consume --help'.\n");
    }

    @Test
    void misspeltCommandSuggestsTheRightOne() {
        CliRun run = CliRun.of("prodce");

        assertOneSentence(run, 2);
        assertThat(run.err()).contains("'prodce'").contains("did you mean produce?");
    }

    @Test
    void missingRequiredOptionsAreNamed() {
        CliRun run = CliRun.of("produce");

        assertOneSentence(run, 2);
        assertThat(run.err()).contains("--bootstrap-servers").contains("--topic");
    }

    @Test
    void noCommandIsAUsageError() {
        CliRun run = CliRun.of();

        assertOneSentence(run, 2);
        assertThat(run.err()).contains("Missing command: choose one of ").contains("produce").contains("consume");
    }

    @ParameterizedTest
    @CsvSource({"10, has no unit", "5parsecs, is not a duration", "-5s, is not a duration"})
    void unreadableDurationIsAUsageError(String timeout, String complaint) {
        CliRun run = CliRun.of(consumeWith("--timeout", timeout));

        assertOneSentence(run, 2);
        assertThat(run.err()).contains("--timeout").contains(complaint);
    }

    @Test
    void unknownRecordTypeListsTheKnownOnes() {
        CliRun run =
                CliRun.of(
                        "produce", "--bootstrap-servers", "127.0.0.1:1", "--topic", "t",
                        "--type", "payment");

        assertOneSentence(run, 2);
        assertThat(run.err())
                .contains("'payment' is not a record type")
                .contains("payment-request, payment-result, payment-completed, dead-letter");
    }

    @Test
    void keyFieldTheTypeDoesNotHaveIsAUsageError() {
        CliRun run =
                CliRun.of(
                        "produce", "--bootstrap-servers", "127.0.0.1:1", "--topic", "t",
                        "--key-field", "orderId");

        assertOneSentence(run, 2);
        assertThat(run.err()).contains("'orderId' is not a top-level field of payment-request");
    }

    @Test
    void missingInputFileIsAUsageError() {
        CliRun run =
                CliRun.of(
                        "produce", "--bootstrap-servers", "127.0.0.1:1", "--topic", "t",
                        "--file", "/nonexistent/requests.jsonl");

        assertOneSentence(run, 2);
        assertThat(run.err()).contains("/nonexistent/requests.jsonl does not exist");
    }

    @Test
    void nonPositiveMaxRecordsIsAUsageError() {
        CliRun run = CliRun.of(consumeWith("--max-records", "0"));

        assertOneSentence(run, 2);
        assertThat(run.err()).contains("--max-records must be positive");
    }

    @Test
    void kafkaRejectingTheConfigurationIsAUsageErrorInOneSentence() {
        CliRun run = CliRun.of("consume", "--bootstrap-servers", "not-a-url", "--topic", "t");

        assertOneSentence(run, 2);
        assertThat(run.err()).startsWith("onceflow consume failed: ").contains("not-a-url");
    }

    @Test
    void verboseFlagOrDebugEnvironmentAddsTheStackTrace() {
        String[] badConfig = {"consume", "--bootstrap-servers", "not-a-url", "--topic", "t"};
        String[] verbose = {"consume", "--bootstrap-servers", "not-a-url", "--topic", "t", "-v"};

        CliRun plain = CliRun.of(badConfig);
        CliRun withFlag = CliRun.of(verbose);
        CliRun withEnv = CliRun.withEnv(Map.of("ONCEFLOW_DEBUG", "1"), badConfig);

        assertThat(plain.err()).doesNotContain("\tat ");
        assertThat(withFlag.exitCode()).isEqualTo(2);
        assertThat(withFlag.errLines().get(0)).isEqualTo(plain.errLines().get(0));
        assertThat(withFlag.err()).contains("\tat org.apache.kafka");
        assertThat(withEnv.err()).contains("\tat org.apache.kafka");
    }

    @Test
    void helpGoesToStdoutAndDocumentsTheOutputFields() {
        CliRun top = CliRun.of("--help");
        CliRun consume = CliRun.of("consume", "--help");

        assertThat(top.exitCode()).isZero();
        assertThat(top.out()).contains("produce").contains("consume");
        assertThat(consume.exitCode()).isZero();
        assertThat(consume.out().replaceAll("\\s+", " "))
                .contains("_topic, _partition, _offset")
                .contains("_key")
                .contains("_error");
        assertThat(consume.err()).isEmpty();
    }

    @ParameterizedTest
    @CsvSource({"500ms, PT0.5S", "10s, PT10S", "5m, PT5M", "7d, PT168H", "1 min, PT1M"})
    void durationsInFlinksSyntax(String text, String expected) {
        assertThat(new DurationConverter().convert(text)).isEqualTo(Duration.parse(expected));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "10", "1.5s", "ten seconds"})
    void durationsWithoutAUnitOrNumberAreRefused(String text) {
        assertThatThrownBy(() -> new DurationConverter().convert(text))
                .isInstanceOf(TypeConversionException.class)
                .hasMessageContaining("500ms, 10s, 5m or 7d");
    }

    /** The spec {@code submit ARGS} would run, from the parsed command, without a cluster. */
    private static io.onceflow.ops.jobs.JobSpec submitSpec(String... args) {
        CliIo io = new CliIo(new java.io.ByteArrayInputStream(new byte[0]), new java.io.PrintWriter(new java.io.StringWriter()),
                new java.io.PrintWriter(new java.io.StringWriter()), Map.of());
        var commandLine = new picocli.CommandLine(new OnceflowCli(io));
        var parsed = commandLine.parseArgs(args).subcommand();
        JobCommands.Submit submit = (JobCommands.Submit) parsed.commandSpec().userObject();
        return submit.job.spec();
    }

    @ParameterizedTest
    @CsvSource({"payments, io.onceflow.payments.PaymentsJob", "analytics, io.onceflow.analytics.AnalyticsJob"})
    void eachJobRunsItsOwnEntryClass(String job, String entryClass) {
        var spec = submitSpec("submit", job, "--jobs-dir", "jobs", "--jar", "target/x.jar");

        assertThat(spec.entryClass()).isEqualTo(entryClass);
        assertThat(spec.configFile().getFileName().toString()).isEqualTo(job + ".yaml");
    }

    @Test
    void anExplicitEntryClassWins() {
        var spec = submitSpec("submit", "analytics", "--jobs-dir", "jobs", "--jar", "target/x.jar", "--entry-class", "com.example.Other");

        assertThat(spec.entryClass()).isEqualTo("com.example.Other");
    }

    @Test
    void aRememberedSubmissionWithoutEntryClassGetsTheJobsOwn() {
        var remembered = new io.onceflow.ops.jobs.Submission("analytics", "abc", "target/x.jar", null,
                java.nio.file.Path.of("jobs/analytics.yaml").toAbsolutePath().toString(), Map.of(), java.util.List.of(), null);

        assertThat(remembered.spec().entryClass()).isEqualTo("io.onceflow.analytics.AnalyticsJob");
    }

    @Test
    void anUnknownJobWithoutEntryClassIsOneSentence() {
        CliRun run = CliRun.of("submit", "billing", "--rest-url", "http://127.0.0.1:1", "--jar", "target/x.jar");

        assertOneSentence(run, 2);
        assertThat(run.err()).contains("'billing'").contains("analytics, payments").contains("--entry-class");
    }

    @Test
    void timesAreIsoInstantsNowOrNowMinusADuration() {
        var clock = java.time.Clock.fixed(java.time.Instant.parse("2025-06-01T12:00:00Z"), java.time.ZoneOffset.UTC);
        var times = new InstantConverter(clock);

        assertThat(times.convert("2025-06-01T10:00:00Z")).isEqualTo(java.time.Instant.parse("2025-06-01T10:00:00Z"));
        assertThat(times.convert("2025-06-01T14:00+02:00")).isEqualTo(java.time.Instant.parse("2025-06-01T12:00:00Z"));
        assertThat(times.convert("now")).isEqualTo(clock.instant());
        assertThat(times.convert("now-15m")).isEqualTo(java.time.Instant.parse("2025-06-01T11:45:00Z"));
        assertThatThrownBy(() -> times.convert("yesterday")).isInstanceOf(TypeConversionException.class).hasMessageContaining("now-15m");
        assertThatThrownBy(() -> times.convert("2025-06-01T10:00:00")).isInstanceOf(TypeConversionException.class);
    }

    @Test
    void reconcileOfAnUnknownJobOrAnEmptyRangeIsOneSentence() {
        CliRun unknown = CliRun.of("reconcile", "billing", "--config", "jobs/payments.yaml", "--from", "now-1h");
        assertOneSentence(unknown, 2);
        assertThat(unknown.err()).contains("not 'billing'");

        CliRun backwards = CliRun.of("reconcile", "payments", "--from", "2025-06-01T12:00:00Z", "--to", "2025-06-01T11:00:00Z");
        assertOneSentence(backwards, 2);
        assertThat(backwards.err()).contains("is not before --to");
    }
}
