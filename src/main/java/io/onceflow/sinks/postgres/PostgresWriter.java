package io.onceflow.sinks.postgres;

import io.onceflow.postgres.PostgresEndpoint;

import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.groups.SinkWriterMetricGroup;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Writes the records of one subtask into a PostgreSQL transaction per checkpoint and prepares it
 * ({@code PREPARE TRANSACTION}) when the checkpoint barrier arrives. It never commits: the {@link
 * PostgresCommitter} does, once Flink reports the checkpoint complete.
 *
 * <p>See {@link PostgresSink} for the naming of transactions and what a restore rolls back.
 */
final class PostgresWriter<IN>
        implements StatefulSinkWriter<IN, PostgresWriterState>,
                CommittingSinkWriter<IN, PostgresCommittable> {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresWriter.class);

    private final String namespace;
    private final String sinkName;
    private final int batchSize;
    private final TransactionMarkers markers;
    private final int subtask;

    private final Counter rowsWritten;
    private final Counter rowsSkippedByConflict;
    private final Counter transactionsPrepared;
    private final Counter transactionsRolledBack;
    private final Counter numRecordsSend;

    private final Connection connection;
    private final RowBatch<IN> batch;

    /** The id of the last checkpoint this writer took a snapshot for (or restored from). */
    private long lastSnapshotCheckpointId;

    private long lastPreparedCheckpointLabel = -1;
    private long rowsInTransaction;
    private long rowsSkippedInTransaction;

    PostgresWriter(
            PostgresEndpoint endpoint,
            String namespace,
            String sinkName,
            PostgresStatement<IN> statement,
            int batchSize,
            TransactionMarkers markers,
            Duration lockTimeout,
            WriterInitContext context,
            Collection<PostgresWriterState> recoveredStates)
            throws IOException {
        this.namespace = namespace;
        this.sinkName = sinkName;
        this.batchSize = batchSize;
        this.markers = markers;
        this.subtask = context.getTaskInfo().getIndexOfThisSubtask();
        int parallelism = context.getTaskInfo().getNumberOfParallelSubtasks();

        SinkWriterMetricGroup metrics = context.metricGroup();
        this.rowsWritten = metrics.counter("rowsWritten");
        this.rowsSkippedByConflict = metrics.counter("rowsSkippedByConflict");
        this.transactionsPrepared = metrics.counter("transactionsPrepared");
        this.transactionsRolledBack = metrics.counter("transactionsRolledBack");
        this.numRecordsSend = metrics.getNumRecordsSendCounter();

        // A fresh start keeps nothing: every prepared transaction of this sink has label >= 1.
        long restoredCheckpointId = context.getRestoredCheckpointId().orElse(0L);
        this.lastSnapshotCheckpointId = restoredCheckpointId;

        Connection opened = null;
        try {
            opened = endpoint.connect();
            try (Statement session = opened.createStatement()) {
                session.execute(
                        "SET application_name = 'onceflow sink "
                                + TransactionId.prefixOf(namespace, sinkName)
                                + subtask
                                + "'");
                session.execute("SET lock_timeout = " + lockTimeout.toMillis());
            }
            PreparedTransactionCapacity.check(opened, parallelism);
            markers.createIfAbsent(opened);
            rollBackLingeringTransactions(
                    opened, restoredCheckpointId, parallelism, recoveredStates);
            opened.setAutoCommit(false);
            this.batch = new RowBatch<>(opened, statement);
            this.connection = opened;
        } catch (SQLException e) {
            closeQuietly(opened);
            throw new IOException(
                    "Cannot start the PostgreSQL sink "
                            + sinkName
                            + " (subtask "
                            + subtask
                            + ") on "
                            + endpoint.jdbcUrl()
                            + ": "
                            + e.getMessage(),
                    e);
        } catch (RuntimeException e) {
            closeQuietly(opened);
            throw e;
        }
    }

    /**
     * Rolls back what the failed or cancelled run prepared after the checkpoint being restored:
     * those transactions belong to checkpoints that never completed, and their records will be
     * written again from the restored source position. Transactions with a label at or below the
     * restored checkpoint belong to completed checkpoints; the committer commits them from its
     * restored state, so they are left alone.
     *
     * <p>This subtask cleans up after every old subtask {@code s} with {@code s % parallelism ==
     * subtask}, which covers the subtasks that no longer exist after a scale-in and never touches
     * the transactions another current subtask is about to create.
     */
    private void rollBackLingeringTransactions(
            Connection connection,
            long restoredCheckpointId,
            int parallelism,
            Collection<PostgresWriterState> recoveredStates)
            throws SQLException {
        for (TransactionId lingering : preparedTransactions(connection, namespace, sinkName)) {
            if (lingering.subtask() % parallelism == subtask
                    && lingering.checkpointId() > restoredCheckpointId) {
                rollBack(connection, lingering);
            }
        }
        // Nothing writes under a former name any more, so whichever subtask restored a state
        // naming it may clean up all of its subtasks; another subtask doing the same is harmless.
        Set<PostgresWriterState> formerNames = new LinkedHashSet<>(recoveredStates);
        formerNames.remove(new PostgresWriterState(namespace, sinkName));
        for (PostgresWriterState former : formerNames) {
            LOG.warn(
                    "PostgreSQL sink {} was restored from state written as {}:{}; rolling back"
                            + " the lingering transactions of that name too.",
                    sinkName,
                    former.namespace(),
                    former.sinkName());
            for (TransactionId lingering :
                    preparedTransactions(connection, former.namespace(), former.sinkName())) {
                if (lingering.checkpointId() > restoredCheckpointId) {
                    rollBack(connection, lingering);
                }
            }
        }
    }

    private static List<TransactionId> preparedTransactions(
            Connection connection, String namespace, String sinkName) throws SQLException {
        String prefix = TransactionId.prefixOf(namespace, sinkName);
        List<TransactionId> found = new ArrayList<>();
        try (PreparedStatement query =
                connection.prepareStatement(
                        "SELECT gid FROM pg_prepared_xacts"
                                + " WHERE database = current_database() AND left(gid, ?) = ?")) {
            query.setInt(1, prefix.length());
            query.setString(2, prefix);
            try (ResultSet result = query.executeQuery()) {
                while (result.next()) {
                    Optional<TransactionId> id = TransactionId.parse(result.getString(1));
                    id.filter(t -> t.belongsTo(namespace, sinkName)).ifPresent(found::add);
                }
            }
        }
        return found;
    }

    private void rollBack(Connection connection, TransactionId lingering) throws SQLException {
        try (Statement rollback = connection.createStatement()) {
            rollback.execute("ROLLBACK PREPARED " + lingering.sqlLiteral());
            transactionsRolledBack.inc();
            LOG.info(
                    "Rolled back prepared transaction {} of a checkpoint that did not complete.",
                    lingering);
        } catch (SQLException e) {
            if (PostgresErrors.isTransactionGone(e) || PostgresErrors.isTransactionBusy(e)) {
                LOG.debug(
                        "Prepared transaction {} is already being finished elsewhere.", lingering);
                return;
            }
            throw e;
        }
    }

    @Override
    public void write(IN element, Context context) throws IOException {
        try {
            batch.add(element);
        } catch (SQLException e) {
            throw new IOException(
                    "Cannot bind a record to the statement of PostgreSQL sink "
                            + sinkName
                            + ": "
                            + e.getMessage(),
                    e);
        }
        rowsInTransaction++;
        if (batch.size() >= batchSize) {
            send(false);
        }
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
        send(true);
    }

    /** Sends the rows held: all of them, or those that fill whole statements when the batch is full. */
    private void send(boolean all) throws IOException {
        if (batch.size() == 0) {
            return;
        }
        RowBatch.Sent sent;
        try {
            sent = all ? batch.send() : batch.sendWholeStatements();
        } catch (SQLException e) {
            throw batchFailure(e);
        }
        rowsSkippedInTransaction += sent.unchanged();
        rowsSkippedByConflict.inc(sent.unchanged());
        rowsWritten.inc(sent.changed());
        numRecordsSend.inc(sent.changed());
    }

    private IOException batchFailure(SQLException e) {
        // PostgreSQL's batch exception only says "call getNextException"; the cause is there.
        SQLException cause =
                e instanceof BatchUpdateException && e.getNextException() != null
                        ? e.getNextException()
                        : e;
        String hint =
                PostgresErrors.isLockTimeout(cause)
                        ? " A row this batch writes is locked, possibly by a prepared transaction"
                                + " of this sink that waits for its checkpoint to complete (the"
                                + " same key written in two checkpoints); the restore after this"
                                + " failure commits that transaction first."
                        : "";
        IOException failure =
                new IOException(
                        "Writing "
                                + batch.size()
                                + " rows with PostgreSQL sink "
                                + sinkName
                                + " failed: "
                                + cause.getMessage()
                                + hint,
                        cause);
        if (cause != e) {
            failure.addSuppressed(e);
        }
        return failure;
    }

    @Override
    public Collection<PostgresCommittable> prepareCommit() throws IOException {
        if (rowsInTransaction == 0) {
            return List.of();
        }
        send(true);
        long label = lastSnapshotCheckpointId + 1;
        if (label <= lastPreparedCheckpointLabel) {
            throw new IllegalStateException(
                    "PostgreSQL sink "
                            + sinkName
                            + " was asked to prepare twice without a checkpoint snapshot in"
                            + " between, which would reuse transaction label "
                            + label
                            + ".");
        }
        TransactionId id = new TransactionId(namespace, sinkName, subtask, label);
        UUID token = UUID.randomUUID();
        try {
            markers.write(connection, id, token);
            try (Statement prepare = connection.createStatement()) {
                prepare.execute("PREPARE TRANSACTION " + id.sqlLiteral());
            }
        } catch (SQLException e) {
            throw new IOException(
                    "Cannot prepare transaction " + id + " of PostgreSQL sink: " + e.getMessage(),
                    e);
        }
        lastPreparedCheckpointLabel = label;
        transactionsPrepared.inc();
        if (rowsSkippedInTransaction > 0) {
            LOG.warn(
                    "{} of {} rows in transaction {} changed nothing (statement's conflict"
                            + " clause); upstream sent records that were already written.",
                    rowsSkippedInTransaction,
                    rowsInTransaction,
                    id);
        }
        LOG.debug("Prepared transaction {} with {} rows.", id, rowsInTransaction);
        rowsInTransaction = 0;
        rowsSkippedInTransaction = 0;
        return List.of(new PostgresCommittable(id.gid(), token, System.currentTimeMillis()));
    }

    @Override
    public List<PostgresWriterState> snapshotState(long checkpointId) {
        lastSnapshotCheckpointId = checkpointId;
        return List.of(new PostgresWriterState(namespace, sinkName));
    }

    @Override
    public void close() throws Exception {
        // The open transaction (not prepared) dies with the connection; prepared ones survive it,
        // which is what the committer and the next restore rely on.
        try {
            if (rowsInTransaction > 0) {
                connection.rollback();
            }
        } catch (SQLException e) {
            LOG.debug("Rolling back the open transaction on close failed.", e);
        } finally {
            closeQuietly(batch);
            closeQuietly(connection);
        }
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
