package io.onceflow.payments;

import io.onceflow.config.RetrySettings;
import io.onceflow.config.Secret;
import io.onceflow.enrichment.LookupSettings;
import io.onceflow.local.FreePorts;
import io.onceflow.payments.model.AuthorizationRequest;
import io.onceflow.payments.model.CustomerProfile;
import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.payments.model.RequestMetadata;
import io.onceflow.postgres.Migrations;
import io.onceflow.postgres.PostgresEndpoint;
import io.onceflow.records.SourcePosition;
import io.onceflow.testing.TestServices;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.formats.avro.typeutils.AvroSerializer;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.transformations.OneInputTransformation;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * The customer lookup against real PostgreSQL, as the job builds it ({@link
 * CustomerLookup#apply}: ordered async I/O with retries and a timeout).
 *
 * <p>Most tests run that very operator in Flink's harness, where processing time (retry
 * backoffs, timeouts) only moves when the test moves it, while the database, the Vert.x client
 * and the cache run for real. The tests about timeouts and failures of a whole job run it in a
 * MiniCluster with the real clock and no restarts allowed, so any failure fails the test.
 */
class CustomerLookupITCase {

    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static final long T0 = 1_000_000L;
    private static final AvroTypeInfo<AuthorizationRequest> TYPE =
            new AvroTypeInfo<>(AuthorizationRequest.class);

    /** Backoffs 10, 20 and 40 ms; every test that needs another value says so. */
    private static final RetrySettings RETRY =
            new RetrySettings(3, Duration.ofMillis(10), Duration.ofMillis(40), 2.0);

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            new MiniClusterExtension(
                    () -> {
                        Configuration cluster = new Configuration();
                        cluster.set(
                                CoreOptions.TMP_DIRS, TestServices.newDirectory("tmp").toString());
                        return new MiniClusterResourceConfiguration.Builder()
                                .setNumberTaskManagers(1)
                                .setNumberSlotsPerTaskManager(1)
                                .setConfiguration(cluster)
                                .build();
                    });

    private TestServices.PostgresDatabase database;
    private PostgresEndpoint endpoint;
    private final List<Lookup> harnesses = new ArrayList<>();
    private long offset;

    @BeforeEach
    void setUp() throws SQLException {
        database = TestServices.newDatabase("customer_lookup");
        endpoint =
                new PostgresEndpoint(
                        database.jdbcUrl(),
                        database.user(),
                        database.password().isEmpty()
                                ? Secret.none()
                                : Secret.fromEnv("ONCEFLOW_TEST_POSTGRES_PASSWORD"));
        Migrations.apply(endpoint);
        insertCustomer("alice", "ACTIVE", 50_000, "EUR");
        insertCustomer("bob", "BLOCKED", 0, "USD");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (var harness : harnesses) {
            harness.close();
        }
    }

    // --- the operator in the harness ---------------------------------------------------------

    @Test
    void aKnownCustomerIsFilledIn() throws Exception {
        var harness = harness(settings(Duration.ofMinutes(1)));

        AuthorizationRequest out = lookup(harness, "alice");

        assertThat(out.getCustomer())
                .isEqualTo(new CustomerProfile("alice", "ACTIVE", 50_000L, "EUR"));
        assertThat(out.getLookupFailure()).isNull();
        assertThat(out.getRequest().getCustomerId()).isEqualTo("alice");
        assertThat(out.getSource()).isEqualTo(new SourcePosition("payments.requests", 0, 0L));
        assertThat(lookup(harness, "bob").getCustomer())
                .isEqualTo(new CustomerProfile("bob", "BLOCKED", 0L, "USD"));
    }

    @Test
    void anUnknownCustomerComesOutWithoutCustomerAndWithoutFailure() throws Exception {
        var harness = harness(settings(Duration.ofMinutes(1)));

        AuthorizationRequest out = lookup(harness, "nobody");

        assertThat(out.getCustomer()).isNull();
        assertThat(out.getLookupFailure()).isNull();
        assertThat(out.getRequest().getCustomerId()).isEqualTo("nobody");
    }

    @Test
    void answersAreCachedUntilTheirTtlAndThenAskedAgain() throws Exception {
        Duration ttl = Duration.ofSeconds(3);
        var harness = harness(settings(ttl));
        long firstAsked = System.nanoTime();
        assertThat(lookup(harness, "alice").getCustomer().getStatus()).isEqualTo("ACTIVE");
        assertThat(lookup(harness, "carol").getCustomer()).isNull();

        execute("UPDATE customers SET status = 'BLOCKED' WHERE customer_id = 'alice'");
        insertCustomer("carol", "ACTIVE", 1_000, "EUR");

        assertThat(lookup(harness, "alice").getCustomer().getStatus())
                .as("the cached answer, within the TTL")
                .isEqualTo("ACTIVE");
        assertThat(lookup(harness, "carol").getCustomer())
                .as("'not found' is cached like an answer")
                .isNull();
        assertThat(Duration.ofNanos(System.nanoTime() - firstAsked))
                .as("the answers above came within the TTL, so they had to be the cache's")
                .isLessThan(ttl);

        awaitCondition(
                "alice's new status is seen once the TTL is over",
                Duration.ofMillis(100),
                () -> status(lookupUnchecked(harness, "alice")).equals("BLOCKED"));
        assertThat(Duration.ofNanos(System.nanoTime() - firstAsked)).isGreaterThanOrEqualTo(ttl);
        // Carol's "not found" was cached after alice's answer, so it may outlive it by the time
        // between the two first lookups (hundreds of ms on a loaded machine).
        long carolWaitStart = System.nanoTime();
        awaitCondition(
                "carol, not found before, is found once her TTL is over",
                Duration.ofMillis(100),
                () -> lookupUnchecked(harness, "carol").getCustomer() != null);
        assertThat(Duration.ofNanos(System.nanoTime() - carolWaitStart)).as("carol's entry expires with her own TTL").isLessThan(ttl);
    }

    @Test
    void resultsLeaveInInputOrderWhenAnswersArriveOutOfOrder() throws Exception {
        var harness = harness(settings(Duration.ofMinutes(1)));
        assertThat(lookup(harness, "alice").getCustomer()).isNotNull();
        int before = harness.extractOutputValues().size();

        try (Connection lock = database.connect()) {
            lock.setAutoCommit(false);
            try (Statement statement = lock.createStatement()) {
                statement.execute("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE");
            }
            harness.processElement(request("bob"), 0);
            awaitCondition(
                    "bob's lookup waits for the table lock in PostgreSQL",
                    Duration.ofMillis(10),
                    this::aQueryWaitsForALock);
            // alice is in the cache: her answer is complete at once, behind bob's.
            harness.processElement(request("alice"), 0);
            runMails(harness);

            assertThat(harness.extractOutputValues())
                    .as("alice's answer waits for bob's, which came in first")
                    .hasSize(before);
            lock.rollback();
        }

        List<AuthorizationRequest> out = awaitOutputs(harness, before + 2);
        assertThat(out.subList(before, before + 2))
                .extracting(r -> r.getRequest().getCustomerId(), r -> r.getSource().getOffset())
                .containsExactly(tuple("bob", 1L), tuple("alice", 2L));
        assertThat(out.get(before).getCustomer().getStatus()).isEqualTo("BLOCKED");
    }

    @Test
    void anUnreachableDatabaseIsRetriedThenTheRequestComesOutMarkedFailed() throws Exception {
        PostgresEndpoint closedPort =
                new PostgresEndpoint(
                        "jdbc:postgresql://127.0.0.1:" + FreePorts.pick() + "/nowhere",
                        "postgres",
                        Secret.none());
        var harness = harness(closedPort, settings(Duration.ofMinutes(1)));

        harness.processElement(request("alice"), 0);
        int retries = 0;
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (harness.extractOutputValues().isEmpty()) {
            boolean ran = runMails(harness);
            // The timeout's timer and a retry's: the failed attempt is back and waits its backoff.
            if (harness.getProcessingTimeService().getNumActiveTimers() == 2) {
                retries++;
                harness.setProcessingTime(
                        harness.getProcessingTime() + RETRY.maxDelay().toMillis());
            } else if (!ran) {
                assertThat(System.nanoTime() - deadline)
                        .as("output within " + DEADLINE)
                        .isNegative();
                LockSupport.parkNanos(1_000_000);
            }
        }

        AuthorizationRequest out = harness.extractOutputValues().get(0);
        assertThat(out.getLookupFailure()).isEqualTo("customer_lookup_failed");
        assertThat(out.getCustomer()).isNull();
        assertThat(out.getRequest().getCustomerId()).isEqualTo("alice");
        assertThat(retries).as("retries after the first attempt").isEqualTo(RETRY.maxRetries());
        assertThat(harness.getProcessingTime() - T0)
                .as("the retries ended before the lookup's timeout")
                .isLessThan(settings(Duration.ofMinutes(1)).timeout().toMillis());
    }

    // --- whole jobs, real clock ----------------------------------------------------------------

    @Test
    void inAJobEveryRequestComesOutInOrderWithItsCustomer() throws Exception {
        List<String> customers =
                IntStream.range(0, 60)
                        .mapToObj(i -> i % 3 == 0 ? "alice" : i % 3 == 1 ? "bob" : "ghost-" + i)
                        .toList();

        JobRun run = runJob(endpoint, settings(Duration.ofMinutes(1)), customers);

        assertThat(run.status).isEqualTo(JobStatus.FINISHED);
        assertThat(run.out)
                .extracting(r -> r.getRequest().getCustomerId())
                .containsExactlyElementsOf(customers);
        assertThat(run.out).extracting(r -> r.getSource().getOffset())
                .isSortedAccordingTo(Long::compare);
        assertThat(run.out).allSatisfy(r -> {
            assertThat(r.getLookupFailure()).isNull();
            boolean ghost = r.getRequest().getCustomerId().startsWith("ghost-");
            assertThat(r.getCustomer() == null).as("no customer for a ghost").isEqualTo(ghost);
        });
    }

    @Test
    void inAJobAnUnreachableDatabaseNeitherDropsRequestsNorFailsTheJob() throws Exception {
        PostgresEndpoint closedPort =
                new PostgresEndpoint(
                        "jdbc:postgresql://127.0.0.1:" + FreePorts.pick() + "/nowhere",
                        "postgres",
                        Secret.none());
        List<String> customers = List.of("alice", "bob", "carol", "alice", "dave");

        JobRun run = runJob(closedPort, settings(Duration.ofMinutes(1)), customers);

        assertThat(run.status).isEqualTo(JobStatus.FINISHED);
        assertThat(run.out)
                .extracting(r -> r.getRequest().getCustomerId())
                .containsExactlyElementsOf(customers);
        assertThat(run.out).allSatisfy(r -> {
            assertThat(r.getCustomer()).isNull();
            assertThat(r.getLookupFailure()).isEqualTo("customer_lookup_failed");
        });
    }

    @Test
    void inAJobADatabaseThatDoesNotAnswerTimesRequestsOutInsteadOfHoldingThem() throws Exception {
        LookupSettings settings =
                new LookupSettings(
                        2, 1_000L, Duration.ofMinutes(1), Duration.ofSeconds(1), 10, RETRY);
        List<String> customers = List.of("alice", "bob", "carol");

        JobRun run;
        try (Connection lock = database.connect()) {
            lock.setAutoCommit(false);
            try (Statement statement = lock.createStatement()) {
                statement.execute("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE");
            }
            run = runJob(endpoint, settings, customers, lock);
        }

        assertThat(run.status).isEqualTo(JobStatus.FINISHED);
        assertThat(run.out)
                .extracting(r -> r.getRequest().getCustomerId())
                .containsExactlyElementsOf(customers);
        assertThat(run.out).allSatisfy(r -> {
            assertThat(r.getCustomer()).isNull();
            assertThat(r.getLookupFailure()).isEqualTo("customer_lookup_timeout");
        });
    }

    // -------------------------------------------------------------------------------------------

    /** The lookup operator in Flink's harness. */
    private static final class Lookup
            extends OneInputStreamOperatorTestHarness<AuthorizationRequest, AuthorizationRequest> {
        Lookup(OneInputStreamOperatorFactory<AuthorizationRequest, AuthorizationRequest> factory)
                throws Exception {
            super(factory, new AvroSerializer<>(AuthorizationRequest.class));
        }
    }

    private record JobRun(List<AuthorizationRequest> out, JobStatus status) {}

    private JobRun runJob(
            PostgresEndpoint endpoint, LookupSettings settings, List<String> customers) {
        return runJob(endpoint, settings, customers, null);
    }

    /**
     * Runs source, lookup and collect with no restarts, so any exception fails the job, and
     * fails the test when the job has not finished within the deadline. A {@code lock} on the
     * customers table, if given, is released once every request has come out.
     */
    private JobRun runJob(
            PostgresEndpoint endpoint,
            LookupSettings settings,
            List<String> customers,
            Connection lock) {
        return assertTimeoutPreemptively(
                DEADLINE, () -> runJobUntilFinished(endpoint, settings, customers, lock));
    }

    private JobRun runJobUntilFinished(
            PostgresEndpoint endpoint,
            LookupSettings settings,
            List<String> customers,
            Connection lock)
            throws Exception {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        List<AuthorizationRequest> requests = customers.stream().map(this::request).toList();
        CloseableIterator<AuthorizationRequest> results =
                CustomerLookup.apply(env.fromData(requests, TYPE), endpoint, settings)
                        .collectAsync();
        JobClient client = env.executeAsync("customer-lookup-test");
        List<AuthorizationRequest> out = new ArrayList<>();
        try (results) {
            while (out.size() < customers.size() && results.hasNext()) {
                out.add(results.next());
            }
            if (lock != null) {
                lock.rollback();
            }
            while (results.hasNext()) {
                out.add(results.next());
            }
        }
        client.getJobExecutionResult().get();
        return new JobRun(out, client.getJobStatus().get());
    }

    private Lookup harness(LookupSettings settings) throws Exception {
        return harness(endpoint, settings);
    }

    /** The operator exactly as {@link CustomerLookup#apply} builds it for the job graph. */
    @SuppressWarnings("unchecked")
    private Lookup harness(PostgresEndpoint endpoint, LookupSettings settings) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        DataStream<AuthorizationRequest> requests = env.fromData(List.of(request("any")), TYPE);
        var transformation =
                (OneInputTransformation<AuthorizationRequest, AuthorizationRequest>)
                        CustomerLookup.apply(requests, endpoint, settings).getTransformation();
        offset = 0;
        var harness =
                new Lookup(
                        (OneInputStreamOperatorFactory<AuthorizationRequest, AuthorizationRequest>)
                                transformation.getOperatorFactory());
        harnesses.add(harness);
        harness.setProcessingTime(T0);
        harness.open();
        return harness;
    }

    private static LookupSettings settings(Duration cacheTtl) {
        return new LookupSettings(2, 1_000L, cacheTtl, Duration.ofSeconds(5), 10, RETRY);
    }

    private AuthorizationRequest lookup(Lookup harness, String customer) throws Exception {
        int before = harness.extractOutputValues().size();
        harness.processElement(request(customer), 0);
        return awaitOutputs(harness, before + 1).get(before);
    }

    private static String status(AuthorizationRequest looked) {
        return looked.getCustomer().getStatus();
    }

    private AuthorizationRequest lookupUnchecked(Lookup harness, String customer) {
        try {
            return lookup(harness, customer);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Runs the operator's mails (answers, timers) until {@code count} results are out. */
    private static List<AuthorizationRequest> awaitOutputs(Lookup harness, int count)
            throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (harness.extractOutputValues().size() < count) {
            if (!runMails(harness)) {
                assertThat(System.nanoTime() - deadline)
                        .as(count + " results within " + DEADLINE)
                        .isNegative();
                LockSupport.parkNanos(1_000_000);
            }
        }
        return harness.extractOutputValues();
    }

    private static boolean runMails(Lookup harness) throws Exception {
        TaskMailbox mailbox = harness.getTaskMailbox();
        boolean ran = false;
        Optional<Mail> mail;
        while ((mail = mailbox.tryTake(TaskMailbox.MIN_PRIORITY)).isPresent()) {
            mail.get().run();
            ran = true;
        }
        return ran;
    }

    private static void awaitCondition(String condition, Duration poll, BooleanSupplier satisfied) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!satisfied.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline)
                    .as(condition + " within " + DEADLINE)
                    .isNegative();
            LockSupport.parkNanos(poll.toNanos());
        }
    }

    private boolean aQueryWaitsForALock() {
        try (Connection connection = database.connect();
                Statement statement = connection.createStatement();
                ResultSet result =
                        statement.executeQuery(
                                "SELECT count(*) FROM pg_stat_activity"
                                        + " WHERE datname = current_database()"
                                        + " AND wait_event_type = 'Lock'")) {
            result.next();
            return result.getInt(1) > 0;
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private AuthorizationRequest request(String customer) {
        PaymentRequest request =
                PaymentRequest.newBuilder()
                        .setIdempotencyKey("k" + offset)
                        .setCustomerId(customer)
                        .setMerchantId("shop")
                        .setAmountMinor(100)
                        .setCurrency("EUR")
                        .setRequestedAt(Instant.parse("2026-11-25T12:00:00Z"))
                        .setMetadata(new RequestMetadata(null, null))
                        .build();
        return AuthorizationRequest.newBuilder()
                .setRequest(request)
                .setSource(new SourcePosition("payments.requests", 0, offset++))
                .setCustomer(null)
                .setLookupFailure(null)
                .build();
    }

    private void insertCustomer(String id, String status, long dailyLimit, String currency)
            throws SQLException {
        try (Connection connection = database.connect();
                PreparedStatement insert =
                        connection.prepareStatement(
                                "INSERT INTO customers"
                                        + " (customer_id, status, daily_limit_minor, currency)"
                                        + " VALUES (?, ?, ?, ?)")) {
            insert.setString(1, id);
            insert.setString(2, status);
            insert.setLong(3, dailyLimit);
            insert.setString(4, currency);
            insert.executeUpdate();
        }
    }

    private void execute(String sql) throws SQLException {
        try (Connection connection = database.connect();
                Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }
}
