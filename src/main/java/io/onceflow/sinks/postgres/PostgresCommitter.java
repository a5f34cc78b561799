package io.onceflow.sinks.postgres;

import io.onceflow.postgres.PostgresEndpoint;

import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.groups.SinkCommitterMetricGroup;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Collection;
import java.util.Optional;
import java.util.UUID;

/**
 * Commits the prepared transactions of a {@link PostgresSink} with {@code COMMIT PREPARED}. Flink
 * calls it only after the checkpoint that carries the transactions completed, and again after a
 * restore for the transactions in the restored state.
 *
 * <p>What each outcome signals, given what Flink 2.1 does with it:
 *
 * <ul>
 *   <li>Committed: nothing to signal; Flink marks the request committed.
 *   <li>Transaction gone and its marker holds this committable's token: it committed before
 *       (typically just before a failure) - {@code signalAlreadyCommitted}.
 *   <li>Transaction gone without that proof: {@code signalFailedWithUnknownReason}, which fails the
 *       job. {@code signalFailedWithKnownReason} would only log and drop the committable, silently
 *       losing the checkpoint's rows.
 *   <li>Connection lost, server restarting or short of resources: {@code retryLater}. Flink calls
 *       {@link #commit} again at once, up to {@code sink.committer.retries} times (default 10),
 *       then fails the job; this committer therefore waits before each reconnect, 100 ms doubling
 *       up to 5 s, which bridges a server restart of about half a minute.
 *   <li>Anything else: {@code signalFailedWithUnknownReason}.
 * </ul>
 */
final class PostgresCommitter implements Committer<PostgresCommittable> {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresCommitter.class);

    static final Duration FIRST_RECONNECT_WAIT = Duration.ofMillis(100);
    static final Duration LONGEST_RECONNECT_WAIT = Duration.ofSeconds(5);
    static final Duration MARKER_CLEANUP_INTERVAL = Duration.ofHours(1);

    private final PostgresEndpoint endpoint;
    private final String namespace;
    private final String sinkName;
    private final TransactionMarkers markers;
    private final Duration markerRetention;
    private final int subtask;
    private final int parallelism;

    private final Counter transactionsCommitted;
    private volatile long lastCommitLatencyMillis = -1;

    private Connection connection;
    private int consecutiveConnectionFailures;
    private long lastMarkerCleanupNanos;
    private boolean markerCleanupDone;

    PostgresCommitter(
            PostgresEndpoint endpoint,
            String namespace,
            String sinkName,
            TransactionMarkers markers,
            Duration markerRetention,
            int subtask,
            int parallelism,
            SinkCommitterMetricGroup metrics) {
        this.endpoint = endpoint;
        this.namespace = namespace;
        this.sinkName = sinkName;
        this.markers = markers;
        this.markerRetention = markerRetention;
        this.subtask = subtask;
        this.parallelism = parallelism;
        this.transactionsCommitted = metrics.counter("transactionsCommitted");
        metrics.gauge("lastCommitLatencyMillis", () -> lastCommitLatencyMillis);
    }

    @Override
    public void commit(Collection<CommitRequest<PostgresCommittable>> requests)
            throws IOException, InterruptedException {
        waitBeforeReconnecting();
        boolean connectionLost = false;
        for (CommitRequest<PostgresCommittable> request : requests) {
            if (connectionLost) {
                request.retryLater();
                continue;
            }
            try {
                commit(request);
            } catch (SQLException e) {
                if (PostgresErrors.isTransient(e) || PostgresErrors.isTransactionBusy(e)) {
                    LOG.warn(
                            "Committing {} failed for a passing reason ({}: {}); retrying on a"
                                    + " new connection.",
                            request.getCommittable(),
                            e.getSQLState(),
                            e.getMessage());
                    closeConnection();
                    connectionLost = true;
                    request.retryLater();
                } else {
                    request.signalFailedWithUnknownReason(
                            new IOException(
                                    "Committing "
                                            + request.getCommittable().transactionId()
                                            + " failed: "
                                            + e.getMessage(),
                                    e));
                }
            }
        }
        if (connectionLost) {
            consecutiveConnectionFailures++;
        } else {
            consecutiveConnectionFailures = 0;
            deleteExpiredMarkersIfDue();
        }
    }

    private void commit(CommitRequest<PostgresCommittable> request) throws SQLException {
        PostgresCommittable committable = request.getCommittable();
        Optional<TransactionId> parsed = TransactionId.parse(committable.transactionId());
        if (parsed.isEmpty()) {
            request.signalFailedWithUnknownReason(
                    new IllegalStateException(
                            "The committable names no transaction of this sink: "
                                    + committable.transactionId()
                                    + "."));
            return;
        }
        TransactionId id = parsed.get();
        Connection connection = connection();
        try (Statement commit = connection.createStatement()) {
            commit.execute("COMMIT PREPARED " + id.sqlLiteral());
        } catch (SQLException e) {
            if (PostgresErrors.isTransactionGone(e)) {
                proveAlreadyCommitted(request, id, connection);
                return;
            }
            throw e;
        }
        transactionsCommitted.inc();
        lastCommitLatencyMillis = System.currentTimeMillis() - committable.preparedAtEpochMillis();
        LOG.debug("Committed {}.", id);
    }

    /**
     * The transaction is no longer prepared: either it committed (an earlier attempt whose answer
     * was lost, or a run before the restore) or it was rolled back. Only a marker with this
     * committable's token tells the two apart.
     */
    private void proveAlreadyCommitted(
            CommitRequest<PostgresCommittable> request, TransactionId id, Connection connection)
            throws SQLException {
        UUID expected = request.getCommittable().token();
        Optional<UUID> marker = markers.committedToken(connection, id.gid());
        if (marker.isPresent() && marker.get().equals(expected)) {
            LOG.info("Transaction {} was committed before; its marker proves it.", id);
            request.signalAlreadyCommitted();
            return;
        }
        String why =
                marker.isPresent()
                        ? "its marker in "
                                + markers.table()
                                + " holds another token, so a later transaction reused the id"
                                + " after a rewind to an older savepoint"
                        : "there is no marker for it in "
                                + markers.table()
                                + ", so it was rolled back outside this sink, or its marker was"
                                + " deleted after the retention of "
                                + markerRetention
                                + " (restoring a savepoint older than that cannot be proven),"
                                + " or another job uses namespace "
                                + id.namespace();
        request.signalFailedWithUnknownReason(
                new IllegalStateException(
                        "Prepared transaction "
                                + id
                                + " (checkpoint "
                                + id.checkpointId()
                                + ", subtask "
                                + id.subtask()
                                + ") is gone and cannot be proven committed: "
                                + why
                                + "; its rows are lost unless it committed, so the job stops"
                                + " instead of continuing without them."));
    }

    private Connection connection() throws SQLException {
        if (connection == null) {
            Connection opened = endpoint.connect();
            try {
                markers.createIfAbsent(opened);
            } catch (SQLException e) {
                closeQuietly(opened);
                throw e;
            }
            connection = opened;
        }
        return connection;
    }

    private void waitBeforeReconnecting() throws InterruptedException {
        if (consecutiveConnectionFailures == 0) {
            return;
        }
        long wait =
                Math.min(
                        LONGEST_RECONNECT_WAIT.toMillis(),
                        FIRST_RECONNECT_WAIT.toMillis()
                                << Math.min(consecutiveConnectionFailures - 1, 16));
        Thread.sleep(wait);
    }

    private void deleteExpiredMarkersIfDue() {
        long now = System.nanoTime();
        if (markerCleanupDone && now - lastMarkerCleanupNanos < MARKER_CLEANUP_INTERVAL.toNanos()) {
            return;
        }
        markerCleanupDone = true;
        lastMarkerCleanupNanos = now;
        try {
            int deleted =
                    markers.deleteExpired(
                            connection(),
                            namespace,
                            sinkName,
                            markerRetention,
                            subtask,
                            parallelism);
            LOG.debug("Deleted {} commit markers older than {}.", deleted, markerRetention);
        } catch (SQLException e) {
            // Markers only grow when this fails; the commits themselves are unaffected.
            LOG.warn("Deleting expired commit markers from {} failed.", markers.table(), e);
            if (PostgresErrors.isTransient(e)) {
                closeConnection();
            }
        }
    }

    private void closeConnection() {
        closeQuietly(connection);
        connection = null;
    }

    @Override
    public void close() {
        closeConnection();
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            LOG.debug("Closing {} failed.", closeable, e);
        }
    }
}
