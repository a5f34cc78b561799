package io.onceflow.sinks.postgres;

import io.onceflow.local.LocalPostgres;
import io.onceflow.sinks.postgres.SinkSubtask.Snapshot;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import static io.onceflow.sinks.postgres.SinkTestDatabase.INSERT;
import static io.onceflow.sinks.postgres.SinkTestDatabase.INSERT_IGNORING_DUPLICATES;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The writer and committer of {@link PostgresSink} inside Flink's real sink operators (test
 * harnesses), against a real PostgreSQL server, one scenario of the two-phase commit each.
 */
class PostgresSinkTransactionsITCase {

    private SinkTestDatabase db;

    @BeforeEach
    void createDatabase() throws Exception {
        db = SinkTestDatabase.create("pg_sink");
    }

    @AfterEach
    void releasePreparedTransactions() throws Exception {
        db.close();
    }

    @Test
    void snapshotWithoutCompletionLeavesAPreparedTransactionAndNothingVisible() throws Exception {
        try (SinkSubtask<Long> subtask = SinkSubtask.start(db.sink(INSERT).build(), 1, 0)) {
            subtask.write(1L, 2L, 3L);

            subtask.checkpoint(1);

            assertThat(db.preparedTransactions()).containsExactly(db.gid(0, 1));
            assertThat(db.numbers()).isEmpty();
            assertThat(db.marker(db.gid(0, 1))).isEmpty();
        }
        // A failure (the subtask going away) must not commit it either.
        assertThat(db.preparedTransactions()).containsExactly(db.gid(0, 1));
        assertThat(db.numbers()).isEmpty();
    }

    @Test
    void completedCheckpointMakesEachRowVisibleOnce() throws Exception {
        PostgresSink<Long> sink = db.sink(INSERT).setBatchSize(2).build();
        try (SinkSubtask<Long> subtask = SinkSubtask.start(sink, 1, 0)) {
            subtask.write(1L, 2L, 3L, 4L, 5L);
            subtask.checkpoint(1);
            subtask.complete(1);

            assertThat(db.numbers()).containsExactly(1L, 2L, 3L, 4L, 5L);
            assertThat(db.preparedTransactions()).isEmpty();
            PostgresCommittable first = subtask.committablesSent().get(0);
            assertThat(first.transactionId()).isEqualTo(db.gid(0, 1));
            assertThat(db.marker(first.transactionId())).contains(first.token());

            // No records, no transaction: nothing is prepared and nothing sent to the committer.
            subtask.checkpoint(2);
            assertThat(db.preparedTransactions()).isEmpty();
            assertThat(subtask.committablesSent()).hasSize(1);
            subtask.complete(2);

            // The transaction begun after snapshot 2 is labelled 3.
            subtask.write(6L);
            subtask.checkpoint(3);
            // Same connection, next transaction: still invisible until its checkpoint completes.
            assertThat(db.preparedTransactions()).containsExactly(db.gid(0, 3));
            assertThat(db.numbers()).containsExactly(1L, 2L, 3L, 4L, 5L);
            subtask.complete(3);

            assertThat(subtask.committablesSent())
                    .extracting(PostgresCommittable::transactionId)
                    .containsExactly(db.gid(0, 1), db.gid(0, 3));
            assertThat(db.numbers()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
            assertThat(subtask.writerCounter("rowsWritten")).isEqualTo(6);
            assertThat(subtask.writerCounter("transactionsPrepared")).isEqualTo(2);
            assertThat(subtask.committerCounter("transactionsCommitted")).isEqualTo(2);
        }
    }

    @Test
    void commitRepeatedAfterRestoreIsProvenCommittedByTheMarker() throws Exception {
        PostgresSink<Long> sink = db.sink(INSERT).build();
        Snapshot checkpoint1;
        try (SinkSubtask<Long> subtask = SinkSubtask.start(sink, 1, 0)) {
            subtask.write(1L, 2L);
            checkpoint1 = subtask.checkpoint(1);
            subtask.complete(1);
        }
        assertThat(db.numbers()).containsExactly(1L, 2L);

        // The committer state of checkpoint 1 still holds the committable; restoring commits again.
        try (SinkSubtask<Long> restored = SinkSubtask.restore(sink, 1, 0, checkpoint1)) {
            assertThat(restored.committerCounter("alreadyCommittedCommittables")).isEqualTo(1);
            assertThat(restored.committerCounter("failedCommittables")).isZero();
            assertThat(restored.committerCounter("transactionsCommitted")).isZero();
        }
        assertThat(db.numbers()).containsExactly(1L, 2L);
    }

    @Test
    void transactionRolledBackBehindTheSinksBackFailsTheCommitLoudly() throws Exception {
        try (SinkSubtask<Long> subtask = SinkSubtask.start(db.sink(INSERT).build(), 1, 0)) {
            subtask.write(1L, 2L);
            subtask.checkpoint(1);
            db.execute("ROLLBACK PREPARED '" + db.gid(0, 1) + "'");

            assertThat(innermostCause(catchThrowable(() -> subtask.complete(1))))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(
                            "Prepared transaction "
                                    + db.gid(0, 1)
                                    + " (checkpoint 1, subtask 0)"
                                    + " is gone and cannot be proven committed")
                    .hasMessageContaining("there is no marker for it")
                    .hasMessageContaining("its rows are lost unless it committed");
        }
        assertThat(db.numbers()).isEmpty();
    }

    @Test
    void markerWithAnotherTokenDoesNotProveTheCommit() throws Exception {
        PostgresSink<Long> sink = db.sink(INSERT).build();
        Snapshot checkpoint1;
        try (SinkSubtask<Long> subtask = SinkSubtask.start(sink, 1, 0)) {
            subtask.write(1L);
            checkpoint1 = subtask.checkpoint(1);
            subtask.complete(1);
        }
        // What a reuse of the gid after a rewind to an older savepoint leaves behind.
        db.execute("UPDATE " + TransactionMarkers.DEFAULT_TABLE + " SET token = gen_random_uuid()");

        assertThat(
                        innermostCause(
                                catchThrowable(
                                        () ->
                                                SinkSubtask.restore(sink, 1, 0, checkpoint1)
                                                        .close())))
                .hasMessageContaining("is gone and cannot be proven committed")
                .hasMessageContaining("holds another token");
    }

    @Test
    void restoreRollsBackLabelsAboveTheRestoredCheckpointAndKeepsTheOthersForTheCommitter()
            throws Exception {
        PostgresSink<Long> sink = db.sink(INSERT).build();
        Snapshot checkpoint2;
        try (SinkSubtask<Long> subtask = SinkSubtask.start(sink, 1, 0)) {
            subtask.write(1L);
            subtask.checkpoint(1);
            subtask.write(2L);
            checkpoint2 = subtask.checkpoint(2);
            subtask.write(3L);
            subtask.checkpoint(3);
        }
        assertThat(db.preparedTransactions())
                .containsExactlyInAnyOrder(db.gid(0, 1), db.gid(0, 2), db.gid(0, 3));

        // Writer first, so that what it keeps is visible before the committer commits it.
        try (SinkSubtask<Long> restored = SinkSubtask.unrestored(sink, 1, 0)) {
            restored.restoreWriter(checkpoint2);
            assertThat(db.preparedTransactions())
                    .containsExactlyInAnyOrder(db.gid(0, 1), db.gid(0, 2));
            assertThat(restored.writerCounter("transactionsRolledBack")).isEqualTo(1);

            restored.restoreCommitter(checkpoint2);
            assertThat(db.preparedTransactions()).isEmpty();
            assertThat(db.numbers()).containsExactly(1L, 2L);

            // Checkpoint 3 is written again; its gid is reused with a new token.
            restored.write(3L);
            restored.checkpoint(3);
            restored.complete(3);
            PostgresCommittable rewritten = restored.committablesSent().get(0);
            assertThat(rewritten.transactionId()).isEqualTo(db.gid(0, 3));
            assertThat(db.marker(db.gid(0, 3))).contains(rewritten.token());
        }
        assertThat(db.numbers()).containsExactly(1L, 2L, 3L);
    }

    @Test
    void scaleInRollsBackTheLingeringTransactionsOfSubtasksThatNoLongerExist() throws Exception {
        PostgresSink<Long> sink = db.sink(INSERT).build();
        List<Snapshot> checkpoint1 = new ArrayList<>();
        List<SinkSubtask<Long>> oldSubtasks = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                oldSubtasks.add(SinkSubtask.start(sink, 3, i));
            }
            for (int i = 0; i < 3; i++) {
                oldSubtasks.get(i).write(10L + i);
                checkpoint1.add(oldSubtasks.get(i).checkpoint(1));
            }
            for (SinkSubtask<Long> subtask : oldSubtasks) {
                subtask.complete(1);
                subtask.write(20L + oldSubtasks.indexOf(subtask));
                subtask.checkpoint(2);
            }
        } finally {
            for (SinkSubtask<Long> subtask : oldSubtasks) {
                subtask.close();
            }
        }
        assertThat(db.preparedTransactions())
                .containsExactlyInAnyOrder(db.gid(0, 2), db.gid(1, 2), db.gid(2, 2));

        // Parallelism 2 from checkpoint 1: subtask 1 owns old subtask 1 only (1 % 2),
        // subtask 0 owns old subtasks 0 and 2 (0 % 2, 2 % 2).
        try (SinkSubtask<Long> newSubtask1 = SinkSubtask.unrestored(sink, 2, 1);
                SinkSubtask<Long> newSubtask0 = SinkSubtask.unrestored(sink, 2, 0)) {
            newSubtask1.restoreWriter(Snapshot.rescaled(checkpoint1, 2, 1));
            assertThat(db.preparedTransactions())
                    .containsExactlyInAnyOrder(db.gid(0, 2), db.gid(2, 2));

            newSubtask0.restoreWriter(Snapshot.rescaled(checkpoint1, 2, 0));
            assertThat(db.preparedTransactions()).isEmpty();
            assertThat(newSubtask0.writerCounter("transactionsRolledBack")).isEqualTo(2);
        }
        assertThat(db.numbers()).containsExactly(10L, 11L, 12L);
    }

    @Test
    void restoreAfterTheSinkWasRenamedRollsBackLingeringTransactionsOfTheOldName()
            throws Exception {
        Snapshot checkpoint1;
        try (SinkSubtask<Long> subtask = SinkSubtask.start(db.sink(INSERT).build(), 1, 0)) {
            subtask.write(1L);
            checkpoint1 = subtask.checkpoint(1);
            subtask.complete(1);
            subtask.write(2L);
            subtask.checkpoint(2);
        }
        assertThat(db.preparedTransactions()).containsExactly(db.gid(0, 2));

        PostgresSink<Long> renamed = db.sink(INSERT).setSinkName("numbers-v2").build();
        try (SinkSubtask<Long> restored = SinkSubtask.restore(renamed, 1, 0, checkpoint1)) {
            assertThat(db.preparedTransactions()).isEmpty();
            assertThat(restored.writerCounter("transactionsRolledBack")).isEqualTo(1);
        }
        assertThat(db.numbers()).containsExactly(1L);
    }

    @Test
    void startFailsNamingTheSettingWhenTheServerAllowsTooFewPreparedTransactions() {
        int parallelism = LocalPostgres.MAX_PREPARED_TRANSACTIONS / 2 + 1;

        assertThat(
                        innermostCause(
                                catchThrowable(
                                        () ->
                                                SinkSubtask.start(
                                                        db.sink(INSERT).build(), parallelism, 0))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage(
                        "PostgreSQL's max_prepared_transactions is "
                                + LocalPostgres.MAX_PREPARED_TRANSACTIONS
                                + " but this sink at parallelism "
                                + parallelism
                                + " needs at least "
                                + 2 * parallelism
                                + " (one prepared transaction per subtask waiting for its commit"
                                + " while the next is prepared), so set max_prepared_transactions"
                                + " = "
                                + 2 * parallelism
                                + " or more in postgresql.conf and restart PostgreSQL.");
    }

    @Test
    void commitInterruptedByAServerRestartIsRetriedAndCommitsOnce() throws Exception {
        LocalPostgres server = db.database().embeddedServer();
        assertThat(server)
                .as("this test restarts the embedded server; unset ONCEFLOW_TEST_POSTGRES_URL")
                .isNotNull();
        try (SinkSubtask<Long> subtask = SinkSubtask.start(db.sink(INSERT).build(), 1, 0)) {
            subtask.write(1L);
            subtask.checkpoint(1);
            subtask.complete(1); // the committer now holds a connection the restart will break
            subtask.write(2L);
            subtask.checkpoint(2);

            server.restart();
            assertThat(db.preparedTransactions()).containsExactly(db.gid(0, 2));
            subtask.complete(2);

            assertThat(subtask.committerCounter("retriedCommittables")).isPositive();
            assertThat(subtask.committerCounter("transactionsCommitted")).isEqualTo(2);
            assertThat(subtask.committerCounter("failedCommittables")).isZero();
        }
        assertThat(db.preparedTransactions()).isEmpty();
        assertThat(db.numbers()).containsExactly(1L, 2L);
    }

    @Test
    void rowsTheStatementLeavesUnchangedAreCountedAsSkippedByConflict() throws Exception {
        try (SinkSubtask<Long> subtask =
                SinkSubtask.start(db.sink(INSERT_IGNORING_DUPLICATES).build(), 1, 0)) {
            subtask.write(1L, 2L);
            subtask.checkpoint(1);
            subtask.complete(1);
            subtask.write(2L, 3L, 3L, 4L);
            subtask.checkpoint(2);
            subtask.complete(2);

            assertThat(subtask.writerCounter("rowsSkippedByConflict")).isEqualTo(2);
            assertThat(subtask.writerCounter("rowsWritten")).isEqualTo(4);
        }
        assertThat(db.numbers()).containsExactly(1L, 2L, 3L, 4L);
    }

    @Test
    void multiRowStatementsCountEveryRowTheyLeaveUnchanged() throws Exception {
        // 607 rows: when 300 are held, two statements of 128 rows go and 44 rows wait; at the
        // checkpoint the last 95 go as statements of 64, 16, 8, 4, 2 and 1
        PostgresSink<Long> sink = db.multiRowSink("ON CONFLICT (n) DO NOTHING").setBatchSize(300).build();
        List<Long> firstBatch = LongStream.range(0, 300).map(i -> i % 250).boxed().toList();
        List<Long> secondBatch = LongStream.range(200, 500).boxed().toList();
        try (SinkSubtask<Long> subtask = SinkSubtask.start(sink, 1, 0)) {
            subtask.write(firstBatch.toArray(Long[]::new));
            subtask.write(secondBatch.toArray(Long[]::new));
            subtask.write(500L, 501L, 502L, 0L, 503L, 504L, 505L);
            subtask.checkpoint(1);
            subtask.complete(1);

            // repeated in the first batch: 250..299 → 0..49 (50); the second: 200..249 (50); then 0
            assertThat(subtask.writerCounter("rowsSkippedByConflict")).isEqualTo(101);
            assertThat(subtask.writerCounter("rowsWritten")).isEqualTo(506);
        }
        assertThat(db.numbers()).isEqualTo(LongStream.range(0, 506).boxed().toList());
    }

    @Test
    void keyLockedByTheSubtasksOwnPreparedTransactionFailsAfterTheLockTimeoutNotNever()
            throws Exception {
        PostgresSink<Long> sink =
                db.sink(INSERT_IGNORING_DUPLICATES)
                        .setBatchSize(1)
                        .setLockTimeout(Duration.ofSeconds(1))
                        .build();
        Snapshot checkpoint1;
        try (SinkSubtask<Long> subtask = SinkSubtask.start(sink, 1, 0)) {
            subtask.write(1L);
            checkpoint1 = subtask.checkpoint(1);
            // Checkpoint 1 has not been reported complete, so its transaction holds key 1.
            assertThatThrownBy(() -> subtask.write(1L))
                    .hasMessageContaining("lock timeout")
                    .hasMessageContaining(
                            "the restore after this failure commits that transaction first");
        }

        try (SinkSubtask<Long> restored = SinkSubtask.restore(sink, 1, 0, checkpoint1)) {
            restored.write(1L);
            restored.checkpoint(2);
            restored.complete(2);
            assertThat(restored.writerCounter("rowsSkippedByConflict")).isEqualTo(1);
        }
        assertThat(db.numbers()).containsExactly(1L);
    }

    @Test
    void committerDeletesOnlyItsOwnMarkersOlderThanTheRetention() throws Exception {
        PostgresSink<Long> sink = db.sink(INSERT).setMarkerRetention(Duration.ofDays(7)).build();
        try (SinkSubtask<Long> subtask = SinkSubtask.start(sink, 1, 0)) {
            String markers = TransactionMarkers.DEFAULT_TABLE;
            String old = "now() - interval '8 days'";
            db.execute(
                    "INSERT INTO "
                            + markers
                            + " VALUES ('"
                            + db.gid(0, 90)
                            + "', gen_random_uuid(), '"
                            + db.namespace()
                            + "', 'numbers', 0, 90, "
                            + old
                            + "),"
                            + " ('"
                            + db.gid(0, 91)
                            + "', gen_random_uuid(), '"
                            + db.namespace()
                            + "', 'numbers', 0, 91, now() - interval '6 days'),"
                            + " ('onceflow:"
                            + db.namespace()
                            + ":other:0:90', gen_random_uuid(), '"
                            + db.namespace()
                            + "', 'other', 0, 90, "
                            + old
                            + ")");

            subtask.write(1L);
            subtask.checkpoint(1);
            subtask.complete(1);

            assertThat(db.marker(db.gid(0, 90))).isEmpty();
            assertThat(db.marker(db.gid(0, 91))).isPresent();
            assertThat(db.marker("onceflow:" + db.namespace() + ":other:0:90")).isPresent();
            assertThat(db.marker(db.gid(0, 1))).isPresent();
        }
    }

    /** The exception at the bottom of the cause chain: Flink's operators wrap the sink's own. */
    private static Throwable innermostCause(Throwable thrown) {
        assertThat(thrown).as("an exception").isNotNull();
        Throwable innermost = thrown;
        while (innermost.getCause() != null && innermost.getCause() != innermost) {
            innermost = innermost.getCause();
        }
        return innermost;
    }
}
