package io.onceflow.payments;

import io.onceflow.enrichment.LookupSettings;
import io.onceflow.enrichment.PostgresLookup;
import io.onceflow.payments.model.AuthorizationRequest;
import io.onceflow.payments.model.CustomerProfile;
import io.onceflow.postgres.PostgresEndpoint;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Fills in each request's customer from PostgreSQL's {@code customers} table with Flink async
 * I/O: the non-blocking {@link PostgresLookup} with its cache, Flink's exponential retry while
 * the database does not answer, and a timeout.
 *
 * <p>Never fails the job and never drops a request: an unknown customer comes out with no
 * customer (the authorizer rejects it), and a lookup that still has no answer after its retries
 * or its timeout comes out marked with {@code lookupFailure} (the authorizer answers FAILED, which
 * a client may retry).
 */
public final class CustomerLookup extends RichAsyncFunction<AuthorizationRequest, AuthorizationRequest> {

    private static final long serialVersionUID = 1L;

    static final String QUERY =
            "SELECT customer_id, status, daily_limit_minor, currency FROM customers WHERE customer_id = $1";

    private final PostgresEndpoint endpoint;
    private final LookupSettings settings;
    private transient PostgresLookup<CustomerProfile> customers;

    CustomerLookup(PostgresEndpoint endpoint, LookupSettings settings) {
        this.endpoint = endpoint;
        this.settings = settings;
    }

    /** {@code requests} with their customers, in order per input partition. */
    public static SingleOutputStreamOperator<AuthorizationRequest> apply(
            DataStream<AuthorizationRequest> requests,
            PostgresEndpoint endpoint,
            LookupSettings settings) {
        return AsyncDataStream.orderedWaitWithRetry(
                requests,
                new CustomerLookup(endpoint, settings),
                settings.timeout().toMillis(),
                TimeUnit.MILLISECONDS,
                settings.capacity(),
                settings.retry()
                        .<AuthorizationRequest>strategy(
                                CustomerLookup::lookupFailed, failure -> false));
    }

    private static boolean lookupFailed(Collection<AuthorizationRequest> results) {
        return results.stream().anyMatch(r -> r.getLookupFailure() != null);
    }

    @Override
    public void open(OpenContext openContext) {
        customers =
                new PostgresLookup<>(
                        endpoint,
                        settings,
                        QUERY,
                        row ->
                                CustomerProfile.newBuilder()
                                        .setCustomerId(row.getString("customer_id"))
                                        .setStatus(row.getString("status"))
                                        .setDailyLimitMinor(row.getLong("daily_limit_minor"))
                                        .setCurrency(row.getString("currency"))
                                        .build());
        getRuntimeContext().getMetricGroup().gauge("customerCacheHitRate", customers::cacheHitRate);
    }

    @Override
    public void asyncInvoke(AuthorizationRequest input, ResultFuture<AuthorizationRequest> result) {
        customers
                .get(input.getRequest().getCustomerId())
                .whenComplete(
                        (customer, failure) ->
                                result.complete(List.of(failure != null
                                        ? withCustomer(input, null, "customer_lookup_failed")
                                        : withCustomer(input, customer.orElse(null), null))));
    }

    @Override
    public void timeout(AuthorizationRequest input, ResultFuture<AuthorizationRequest> result) {
        result.complete(List.of(withCustomer(input, null, "customer_lookup_timeout")));
    }

    /**
     * A new record, never {@code input} changed: a lookup's answer may still arrive on a client
     * thread after its timeout answered. It shares {@code input}'s request and source, which no
     * operator changes; a deep copy (Avro's builder) was an eighth of the source task's thread in
     * the benchmark's profile, where Flink's async operator had already copied its input.
     */
    private static AuthorizationRequest withCustomer(
            AuthorizationRequest input, CustomerProfile customer, String lookupFailure) {
        return new AuthorizationRequest(input.getRequest(), input.getSource(), customer, lookupFailure);
    }

    @Override
    public void close() {
        if (customers != null) {
            customers.close();
        }
    }
}
