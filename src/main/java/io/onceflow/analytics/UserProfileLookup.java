package io.onceflow.analytics;

import io.onceflow.analytics.model.AnalyticsRecord;
import io.onceflow.analytics.model.Enrichment;
import io.onceflow.enrichment.LookupSettings;
import io.onceflow.enrichment.PostgresLookup;
import io.onceflow.postgres.PostgresEndpoint;

import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The {@value Enrichers#USER_PROFILE} enricher: country, plan and signup cohort (ISO week of
 * {@code signup_at}, e.g. {@code 2025-W14}) of the event's {@code userId} from PostgreSQL's
 * {@code users}, with Flink async I/O over the same non-blocking {@link PostgresLookup} and
 * cache the payments job uses for customers, Flink's exponential retry while the database does
 * not answer, and a timeout.
 *
 * <p>Graceful degradation: an event whose lookup still fails after its retries, or times out,
 * goes on with {@value Enrichers#USER_PROFILE} in {@code enrichment.missing} (counted where it
 * leaves the pipeline, {@link AnalyticsLakeRows}, since a retried lookup fails more than once);
 * it is never dropped and never fails the job. A user the table does
 * not know is not a failure: the columns stay null ({@code usersUnknown}). Events of types
 * without this enricher, and anonymous events, pass without a query.
 *
 * <p>Backpressure: at most {@code capacity} events per subtask wait for an answer; then the
 * operator stops taking input and Flink's credit-based flow control slows everything upstream
 * down to the source. Unordered: an event waits for no slower one, but never overtakes a
 * watermark, so event-time results downstream are the same.
 */
public final class UserProfileLookup extends RichAsyncFunction<AnalyticsRecord, AnalyticsRecord> {

    private static final long serialVersionUID = 1L;

    static final String QUERY = "SELECT country, plan, signup_at FROM users WHERE user_id = $1";

    /** What the enricher adds for a known user. */
    record UserProfile(String country, String plan, String signupCohort) {}

    private final PostgresEndpoint endpoint;
    private final LookupSettings settings;
    private final HashSet<String> enabledTypes = new HashSet<>();
    private transient PostgresLookup<UserProfile> users;
    private transient Counter unknownUsers;

    UserProfileLookup(PostgresEndpoint endpoint, LookupSettings settings, Map<String, List<String>> enrichers) {
        this.endpoint = endpoint;
        this.settings = settings;
        enrichers.forEach((type, names) -> {
            if (names.contains(Enrichers.USER_PROFILE)) {
                enabledTypes.add(type);
            }
        });
    }

    /** {@code events} with their users' profiles, where configured; unordered within watermarks. */
    public static SingleOutputStreamOperator<AnalyticsRecord> apply(
            DataStream<AnalyticsRecord> events,
            PostgresEndpoint endpoint,
            LookupSettings settings,
            Map<String, List<String>> enrichers) {
        return AsyncDataStream.unorderedWaitWithRetry(
                events,
                new UserProfileLookup(endpoint, settings, enrichers),
                settings.timeout().toMillis(),
                TimeUnit.MILLISECONDS,
                settings.capacity(),
                settings.retry().<AnalyticsRecord>strategy(UserProfileLookup::lookupFailed, failure -> false));
    }

    private static boolean lookupFailed(Collection<AnalyticsRecord> results) {
        return results.stream().anyMatch(r -> r.getEnrichment().getMissing().contains(Enrichers.USER_PROFILE));
    }

    @Override
    public void open(OpenContext openContext) {
        users =
                new PostgresLookup<>(
                        endpoint,
                        settings,
                        QUERY,
                        row -> new UserProfile(
                                row.getString("country"),
                                row.getString("plan"),
                                cohort(row.getOffsetDateTime("signup_at"))));
        var metrics = getRuntimeContext().getMetricGroup();
        unknownUsers = metrics.counter("usersUnknown");
        metrics.gauge("userCacheHitRate", users::cacheHitRate);
    }

    /** The ISO week of a signup, {@code 2025-W14}; null when unknown. */
    static String cohort(OffsetDateTime signupAt) {
        if (signupAt == null) {
            return null;
        }
        OffsetDateTime utc = signupAt.withOffsetSameInstant(ZoneOffset.UTC);
        return String.format(
                "%d-W%02d", utc.get(IsoFields.WEEK_BASED_YEAR), utc.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
    }

    @Override
    public void asyncInvoke(AnalyticsRecord input, ResultFuture<AnalyticsRecord> result) {
        SpecificRecord event = EventTypes.event(input);
        String userId = EventTypes.userId(event);
        if (userId == null || !enabledTypes.contains(EventTypes.type(event))) {
            result.complete(List.of(input));
            return;
        }
        CompletableFuture<java.util.Optional<UserProfile>> lookup;
        try {
            lookup = users.get(userId);
        } catch (RuntimeException e) {
            lookup = CompletableFuture.failedFuture(e);
        }
        lookup.whenComplete((profile, failure) -> {
            AnalyticsRecord out = withOwnEnrichment(input);
            if (failure != null) {
                markMissing(out);
            } else if (profile.isPresent()) {
                out.getEnrichment().setCountry(profile.get().country());
                out.getEnrichment().setPlan(profile.get().plan());
                out.getEnrichment().setSignupCohort(profile.get().signupCohort());
            } else {
                unknownUsers.inc();
            }
            result.complete(List.of(out));
        });
    }

    @Override
    public void timeout(AnalyticsRecord input, ResultFuture<AnalyticsRecord> result) {
        AnalyticsRecord out = withOwnEnrichment(input);
        markMissing(out);
        result.complete(List.of(out));
    }

    /**
     * A record to complete with: {@code input}'s event and source, shared, and a copy of its
     * enrichment, the only part this function changes. Never {@code input} itself: the async
     * operator hands the same input to a retry and to {@link #timeout}, and an answer that comes
     * after the timeout must not change a record already sent downstream. Not a deep copy of the
     * whole record either: no operator changes an event after validation, and the async operator
     * has already copied the record once (with object reuse on, it copies every input).
     */
    static AnalyticsRecord withOwnEnrichment(AnalyticsRecord input) {
        return new AnalyticsRecord(
                input.getEvent(),
                input.getSource(),
                input.getReceivedAt(),
                Enrichment.newBuilder(input.getEnrichment()).build(),
                input.getLate());
    }

    private static void markMissing(AnalyticsRecord record) {
        List<String> names = new ArrayList<>(record.getEnrichment().getMissing());
        if (!names.contains(Enrichers.USER_PROFILE)) {
            names.add(Enrichers.USER_PROFILE);
        }
        record.getEnrichment().setMissing(names);
    }

    @Override
    public void close() {
        if (users != null) {
            users.close();
        }
    }
}
