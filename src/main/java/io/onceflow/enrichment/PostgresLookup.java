package io.onceflow.enrichment;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.onceflow.postgres.PostgresEndpoint;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowIterator;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Looks one row up by key in PostgreSQL without blocking, behind a bounded cache: the Vert.x
 * PostgreSQL client (no thread pool around JDBC) and Caffeine.
 *
 * <p>"Not found" is cached like a row; failures are not, so the next call asks again. Lookups of
 * one key that miss the cache at the same moment each ask the database (the cache is filled by
 * answers, not by loaders). Created on the TaskManager in an operator's {@code open()}; the
 * password is read there.
 *
 * @param <V> what a row becomes
 */
public final class PostgresLookup<V> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresLookup.class);

    private final SqlClient client;
    private final Duration closeTimeout;
    private final String query;
    private final Function<Row, V> rowMapper;
    private final AsyncCache<String, Optional<V>> cache;

    /**
     * @param query SQL with one parameter, {@code $1}, the key; at most the first row counts
     */
    public PostgresLookup(
            PostgresEndpoint endpoint,
            LookupSettings settings,
            String query,
            Function<Row, V> rowMapper) {
        Vertx vertx = SharedVertx.acquire();
        // A pooled client, not a Pool: it pipelines queries on each connection (up to
        // PgConnectOptions' pipelining limit) instead of lending a connection per query. With
        // the operator's whole capacity in flight and one round trip per query, lookups queued
        // behind the pool for seconds when the TaskManager was short of CPU (a cold start with a
        // backlog), and Flink's async timeout turned them into FAILED payments.
        this.client =
                PgBuilder.client()
                        .with(new PoolOptions().setMaxSize(settings.poolSize()))
                        .connectingTo(
                                new PgConnectOptions()
                                        .setHost(endpoint.host())
                                        .setPort(endpoint.port())
                                        .setDatabase(endpoint.database())
                                        .setUser(endpoint.user())
                                        .setPassword(endpoint.password().resolve())
                                        .setCachePreparedStatements(true))
                        .with(
                                new NetClientOptions()
                                        .setConnectTimeout(
                                                (int) Math.min(Integer.MAX_VALUE, settings.timeout().toMillis())))
                        .using(vertx)
                        .build();
        this.closeTimeout = settings.timeout();
        this.query = query;
        this.rowMapper = rowMapper;
        this.cache =
                Caffeine.newBuilder()
                        .maximumSize(settings.cacheSize())
                        .expireAfterWrite(settings.cacheTtl())
                        .recordStats()
                        .buildAsync();
    }

    /** The row of {@code key}, empty when there is none; fails when the database does not answer. */
    public CompletableFuture<Optional<V>> get(String key) {
        CompletableFuture<Optional<V>> cached = cache.getIfPresent(key);
        if (cached != null) {
            return cached;
        }
        // Only answers enter the cache. Caffeine's own loading would also work, but it logs every
        // failed load with a stack trace through java.util.logging, past Flink's log
        // configuration: a database outage would flood the TaskManager's output.
        CompletableFuture<Optional<V>> fetched = fetch(key);
        fetched.thenAccept(answer -> cache.put(key, CompletableFuture.completedFuture(answer)));
        return fetched;
    }

    private CompletableFuture<Optional<V>> fetch(String key) {
        return client.preparedQuery(query)
                .execute(Tuple.of(key))
                .map(
                        rows -> {
                            RowIterator<Row> iterator = rows.iterator();
                            return iterator.hasNext()
                                    ? Optional.of(rowMapper.apply(iterator.next()))
                                    : Optional.<V>empty();
                        })
                .toCompletionStage()
                .toCompletableFuture();
    }

    /** Share of lookups answered from the cache since start. */
    public double cacheHitRate() {
        return cache.synchronous().stats().hitRate();
    }

    /**
     * Closes the client, waiting at most the lookup timeout: its close waits for queries in
     * flight, and a database that never answers them (a lock, a network partition) must not hang
     * the task that closes it, which would block the end of the job, cancellation and failover.
     */
    @Override
    public void close() {
        try {
            client.close()
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get(closeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warn(
                    "PostgreSQL lookup client not closed within {} ms: queries still unanswered;"
                            + " leaving it to close in the background",
                    closeTimeout.toMillis());
        } catch (ExecutionException e) {
            LOG.warn("Closing the PostgreSQL lookup client failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            SharedVertx.release();
        }
    }
}
