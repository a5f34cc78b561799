package io.onceflow.sinks.postgres;

import io.onceflow.postgres.PostgresEndpoint;

import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;

/**
 * Writes records into PostgreSQL exactly once, with PostgreSQL's own two-phase commit ({@code
 * PREPARE TRANSACTION} / {@code COMMIT PREPARED}) tied to Flink's checkpoints.
 *
 * <pre>{@code
 * PostgresSink<Payment> sink =
 *         PostgresSink.<Payment>builder()
 *                 .setEndpoint(new PostgresEndpoint(url, "payments", Secret.fromEnv("PGPASS")))
 *                 .setTransactionNamespace("payments-prod")
 *                 .setSinkName("payments")
 *                 .setStatement(
 *                         PostgresStatement.insert(
 *                                 "INSERT INTO payments (payment_id, amount_cents)",
 *                                 "(?, ?)",
 *                                 "ON CONFLICT (payment_id) DO NOTHING",
 *                                 (row, payment) -> {
 *                                     row.setString(1, payment.getPaymentId());
 *                                     row.setLong(2, payment.getAmountCents());
 *                                 }))
 *                 .build();
 * payments.sinkTo(sink).name("payments to PostgreSQL").uid("payments-postgres-sink");
 * }</pre>
 *
 * <h2>Guarantee</h2>
 *
 * <p>With checkpointing enabled, each row becomes visible exactly once, at the latest when the
 * checkpoint after it completes. Each writer subtask writes its records into one PostgreSQL
 * transaction per checkpoint and prepares it when the checkpoint barrier arrives; the committer
 * runs {@code COMMIT PREPARED} only when Flink reports that checkpoint complete, never while the
 * snapshot is being taken. A checkpoint that fails therefore leaves its transactions prepared but
 * invisible, and the restore rolls them back. (This is what {@code flink-connector-jdbc}'s XA sink
 * gets wrong: it commits inside {@code snapshotState} and duplicates rows when that checkpoint then
 * fails.) Without checkpointing, or in batch mode, everything is committed at the end of input.
 *
 * <h2>Transaction names</h2>
 *
 * <p>A prepared transaction is named {@code onceflow:<namespace>:<sink>:<subtask>:<label>}. The
 * label is the id of the checkpoint the writer took its last snapshot for, plus one: the
 * transaction written after snapshot C is labelled C+1, the first after a restore from R is R+1,
 * and the first of a fresh start is 1, as in the Kafka sink. The label never exceeds the id of the
 * checkpoint that finally carries the transaction (checkpoints the subtask never saw only make that
 * id larger).
 *
 * <h2>What a restore rolls back, and why that is safe</h2>
 *
 * <p>When a writer starts from checkpoint R it rolls back every prepared transaction of its
 * namespace and sink whose label is greater than R, for every old subtask {@code s} with {@code s %
 * parallelism == this subtask}, so that a scale-in also cleans up after the subtasks that no longer
 * exist; a fresh start rolls back all of them. It never rolls back a label at or below R.
 *
 * <p>Why: a transaction labelled L was begun after the subtask's snapshot for checkpoint L-1 (or
 * after restoring L-1) and is carried by the subtask's next snapshot, for a checkpoint C >= L.
 *
 * <ul>
 *   <li>If L > R, then C > R: the transaction belongs to a checkpoint after R, which is not part of
 *       the state being restored, and its records will be written again from the restored source
 *       position. Rolling it back is what exactly-once requires.
 *   <li>If L <= R, the attempt that wrote it also took a snapshot for R (R completed, and an
 *       attempt restored from R itself only writes labels above R), after the one for L-1, so C <=
 *       R: the transaction belongs to R or an earlier checkpoint. It is committed already or part
 *       of the restored committer state, and the committer commits it during the restore. Rolling
 *       it back would lose rows of a completed checkpoint.
 * </ul>
 *
 * <h2>Proof of commit</h2>
 *
 * <p>When a committer finds a transaction gone ({@code COMMIT PREPARED} reports that it does not
 * exist) it has to know whether it committed or was rolled back. Each transaction therefore upserts
 * a marker row (gid, random token) into {@value TransactionMarkers#DEFAULT_TABLE}, which the sink
 * creates if absent, before it is prepared. A marker holding the committable's token proves the
 * commit; anything else fails the job with a message, because the rows of that checkpoint would
 * otherwise be lost without anyone noticing. Committers delete markers older than the retention (7
 * days by default) at most once an hour: restoring a checkpoint or savepoint older than the
 * retention whose transactions are gone cannot be proven and fails loudly.
 *
 * <h2>Pitfalls</h2>
 *
 * <ul>
 *   <li>The namespace must be unique per deployment on the PostgreSQL server: a second job under
 *       the same namespace and sink name rolls back the first one's transactions, and a fresh start
 *       (no checkpoint restored) under an existing namespace rolls back what a previous run left
 *       prepared, including transactions of its last completed checkpoint that were not yet
 *       committed. Restore the last checkpoint, or start with a new namespace.
 *   <li>PostgreSQL must allow prepared transactions: {@code max_prepared_transactions} of at least
 *       2 x parallelism for this sink (more with concurrent checkpoints, plus whatever else on the
 *       server prepares transactions). The writer checks it at start-up.
 *   <li>Prepared transactions hold their row locks until committed, i.e. until the checkpoint
 *       completes. A record whose unique key equals a row of such a transaction waits for that
 *       commit. When the waiting writer runs in the same task as the committer that would commit
 *       (same subtask, chained), the wait cannot end; the lock timeout (30 s by default) turns it
 *       into a failure, and the restore commits the prepared transaction first. Keep checkpoints
 *       short when the same key arrives repeatedly.
 *   <li>Rows become visible with checkpoint latency; a prepared transaction also holds back
 *       VACUUM's horizon until it commits.
 *   <li>Make the statement idempotent on its unique key as a second guard (see {@link
 *       PostgresStatement}); it does not replace the two-phase commit but catches upstream
 *       duplicates and rewinds to older savepoints.
 * </ul>
 *
 * <h2>Metrics</h2>
 *
 * <p>Writer: {@code rowsWritten}, {@code rowsSkippedByConflict} (statement changed nothing, e.g.
 * {@code ON CONFLICT DO NOTHING}; also logged once per transaction at WARN), {@code
 * transactionsPrepared}, {@code transactionsRolledBack}. Committer: {@code transactionsCommitted},
 * {@code lastCommitLatencyMillis} (from prepare to commit), plus Flink's own committable counters.
 *
 * @param <IN> type of the records
 * @see PostgresSinkBuilder
 */
public final class PostgresSink<IN>
        implements Sink<IN>,
                SupportsCommitter<PostgresCommittable>,
                SupportsWriterState<IN, PostgresWriterState> {

    private static final long serialVersionUID = 1L;

    private final PostgresEndpoint endpoint;
    private final String namespace;
    private final String sinkName;
    private final PostgresStatement<IN> statement;
    private final int batchSize;
    private final String markerTable;
    private final Duration markerRetention;
    private final Duration lockTimeout;

    PostgresSink(
            PostgresEndpoint endpoint,
            String namespace,
            String sinkName,
            PostgresStatement<IN> statement,
            int batchSize,
            String markerTable,
            Duration markerRetention,
            Duration lockTimeout) {
        this.endpoint = endpoint;
        this.namespace = namespace;
        this.sinkName = sinkName;
        this.statement = statement;
        this.batchSize = batchSize;
        this.markerTable = markerTable;
        this.markerRetention = markerRetention;
        this.lockTimeout = lockTimeout;
    }

    /** Starts building a sink; see {@link PostgresSinkBuilder} for the options. */
    public static <IN> PostgresSinkBuilder<IN> builder() {
        return new PostgresSinkBuilder<>();
    }

    @Override
    public PostgresWriter<IN> createWriter(WriterInitContext context) throws IOException {
        return restoreWriter(context, List.of());
    }

    @Override
    public PostgresWriter<IN> restoreWriter(
            WriterInitContext context, Collection<PostgresWriterState> recoveredState)
            throws IOException {
        return new PostgresWriter<>(
                endpoint,
                namespace,
                sinkName,
                statement,
                batchSize,
                new TransactionMarkers(markerTable),
                lockTimeout,
                context,
                recoveredState);
    }

    @Override
    public SimpleVersionedSerializer<PostgresWriterState> getWriterStateSerializer() {
        return new PostgresWriterStateSerializer();
    }

    @Override
    public Committer<PostgresCommittable> createCommitter(CommitterInitContext context) {
        return new PostgresCommitter(
                endpoint,
                namespace,
                sinkName,
                new TransactionMarkers(markerTable),
                markerRetention,
                context.getTaskInfo().getIndexOfThisSubtask(),
                context.getTaskInfo().getNumberOfParallelSubtasks(),
                context.metricGroup());
    }

    @Override
    public SimpleVersionedSerializer<PostgresCommittable> getCommittableSerializer() {
        return new PostgresCommittableSerializer();
    }

    public String transactionNamespace() {
        return namespace;
    }

    public String sinkName() {
        return sinkName;
    }

    @Override
    public String toString() {
        return "PostgresSink{"
                + TransactionId.prefixOf(namespace, sinkName)
                + " "
                + endpoint.jdbcUrl()
                + ", "
                + statement
                + "}";
    }
}
