package io.onceflow.sinks.postgres;

import io.onceflow.postgres.PostgresEndpoint;

import java.time.Duration;

/**
 * Builds a {@link PostgresSink}. Endpoint, transaction namespace, sink name and statement are
 * required; {@link #build()} names the first missing or invalid value in one sentence.
 *
 * @param <IN> type of the records
 */
public final class PostgresSinkBuilder<IN> {

    /** Default for {@link #setBatchSize(int)}. */
    public static final int DEFAULT_BATCH_SIZE = 500;

    /** Default for {@link #setMarkerRetention(Duration)}. */
    public static final Duration DEFAULT_MARKER_RETENTION = Duration.ofDays(7);

    /** Default for {@link #setLockTimeout(Duration)}. */
    public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(30);

    private static final Duration SHORTEST_MARKER_RETENTION = Duration.ofHours(1);

    private PostgresEndpoint endpoint;
    private String namespace;
    private String sinkName;
    private PostgresStatement<IN> statement;
    private int batchSize = DEFAULT_BATCH_SIZE;
    private String markerTable = TransactionMarkers.DEFAULT_TABLE;
    private Duration markerRetention = DEFAULT_MARKER_RETENTION;
    private Duration lockTimeout = DEFAULT_LOCK_TIMEOUT;

    PostgresSinkBuilder() {}

    /**
     * The database to write to. Its password is a {@link io.onceflow.config.Secret} reference, read
     * on the TaskManagers when they connect, never on the client.
     */
    public PostgresSinkBuilder<IN> setEndpoint(PostgresEndpoint endpoint) {
        this.endpoint = endpoint;
        return this;
    }

    /**
     * The deployment's namespace for transaction names, unique per deployment on the PostgreSQL
     * server (for example {@code payments-prod}); {@value TransactionId#NAME_CHARACTERS_TEXT}.
     * Another job using the same namespace and sink name would roll back this job's transactions.
     */
    public PostgresSinkBuilder<IN> setTransactionNamespace(String namespace) {
        this.namespace = namespace;
        return this;
    }

    /**
     * Names this sink within the namespace, so that several PostgreSQL sinks of one job have
     * distinct transactions; {@value TransactionId#NAME_CHARACTERS_TEXT}. Keep it stable across
     * restores.
     */
    public PostgresSinkBuilder<IN> setSinkName(String sinkName) {
        this.sinkName = sinkName;
        return this;
    }

    /** The SQL run per record and how a record fills its parameters. */
    public PostgresSinkBuilder<IN> setStatement(PostgresStatement<IN> statement) {
        this.statement = statement;
        return this;
    }

    /**
     * How many records the writer holds before it sends them to PostgreSQL (default {@value
     * #DEFAULT_BATCH_SIZE}); an {@link PostgresStatement#insert insert} sends them as few
     * multi-row statements ({@link RowBatch}). Larger batches mean fewer round trips and
     * statements; the transaction spans the whole checkpoint either way, so the batch size does
     * not change what becomes visible when.
     */
    public PostgresSinkBuilder<IN> setBatchSize(int batchSize) {
        this.batchSize = batchSize;
        return this;
    }

    /**
     * The table of commit markers, optionally schema-qualified, in lower-case unquoted identifiers
     * (default {@value TransactionMarkers#DEFAULT_TABLE}). The sink creates it when absent; several
     * sinks and jobs may share it.
     */
    public PostgresSinkBuilder<IN> setMarkerTable(String markerTable) {
        this.markerTable = markerTable;
        return this;
    }

    /**
     * How long commit markers are kept (default 7 days, at least 1 hour). A restore from a
     * checkpoint or savepoint older than this whose transactions were committed cannot prove the
     * commit and fails.
     */
    public PostgresSinkBuilder<IN> setMarkerRetention(Duration markerRetention) {
        this.markerRetention = markerRetention;
        return this;
    }

    /**
     * How long a write waits for a row lock before it fails the job (default 30 s; {@link
     * Duration#ZERO} waits forever). A write can wait for a prepared transaction of this very
     * subtask, which only commits once the task gets to process the checkpoint notification, so
     * without a timeout that wait never ends.
     */
    public PostgresSinkBuilder<IN> setLockTimeout(Duration lockTimeout) {
        this.lockTimeout = lockTimeout;
        return this;
    }

    /**
     * The sink.
     *
     * @throws IllegalArgumentException naming the first missing or invalid option
     */
    public PostgresSink<IN> build() {
        if (endpoint == null) {
            throw new IllegalArgumentException(
                    "The PostgreSQL endpoint is missing; call setEndpoint.");
        }
        if (namespace == null) {
            throw new IllegalArgumentException(
                    "The transaction namespace is missing; call setTransactionNamespace with a"
                            + " name unique to this deployment.");
        }
        if (!TransactionId.isValidName(namespace)) {
            throw new IllegalArgumentException(
                    "The transaction namespace \""
                            + namespace
                            + "\" must be "
                            + TransactionId.NAME_CHARACTERS_TEXT
                            + ".");
        }
        if (sinkName == null) {
            throw new IllegalArgumentException("The sink name is missing; call setSinkName.");
        }
        if (!TransactionId.isValidName(sinkName)) {
            throw new IllegalArgumentException(
                    "The sink name \""
                            + sinkName
                            + "\" must be "
                            + TransactionId.NAME_CHARACTERS_TEXT
                            + ".");
        }
        if (statement == null) {
            throw new IllegalArgumentException("The statement is missing; call setStatement.");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException(
                    "The batch size must be at least 1 but is " + batchSize + ".");
        }
        if (!TransactionMarkers.isValidTableName(markerTable)) {
            throw new IllegalArgumentException(
                    "The marker table \""
                            + markerTable
                            + "\" must be a lower-case unquoted table name, optionally"
                            + " schema-qualified.");
        }
        if (markerRetention == null || markerRetention.compareTo(SHORTEST_MARKER_RETENTION) < 0) {
            throw new IllegalArgumentException(
                    "The marker retention must be at least 1 hour but is " + markerRetention + ".");
        }
        if (lockTimeout == null || lockTimeout.isNegative()) {
            throw new IllegalArgumentException(
                    "The lock timeout must be zero (wait forever) or positive but is "
                            + lockTimeout
                            + ".");
        }
        return new PostgresSink<>(
                endpoint,
                namespace,
                sinkName,
                statement,
                batchSize,
                markerTable,
                markerRetention,
                lockTimeout);
    }
}
