package io.onceflow.sinks.postgres;

import io.onceflow.postgres.PostgresEndpoint;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * An at-least-once PostgreSQL sink: the same statement as {@link PostgresSink}, sent the same way
 * ({@link RowBatch}) and committed in ordinary transactions whenever a batch is full and at every
 * checkpoint barrier ({@link SinkWriter#flush}), so rows become visible at once and a restore
 * writes again the rows since the last checkpoint. No prepared transactions, no commit markers.
 *
 * <p>Only what the benchmark compares the two-phase-commit sink against: with a statement that
 * is idempotent ({@code ON CONFLICT DO NOTHING}) the replayed rows are skipped, with an upsert
 * they are applied again ({@code analytics_minute.updates} then counts them twice).
 */
public final class AutoCommitPostgresSink<IN> implements Sink<IN> {

    private static final long serialVersionUID = 1L;

    private final PostgresEndpoint endpoint;
    private final PostgresStatement<IN> statement;
    private final int batchSize;

    public AutoCommitPostgresSink(PostgresEndpoint endpoint, PostgresStatement<IN> statement, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("The batch size must be at least 1 but is " + batchSize + ".");
        }
        this.endpoint = endpoint;
        this.statement = statement;
        this.batchSize = batchSize;
    }

    @Override
    public SinkWriter<IN> createWriter(WriterInitContext context) throws IOException {
        try {
            return new Writer<>(endpoint.connect(), statement, batchSize);
        } catch (SQLException e) {
            throw new IOException("Cannot connect to " + endpoint, e);
        }
    }

    private static final class Writer<IN> implements SinkWriter<IN> {
        private final Connection connection;
        private final RowBatch<IN> batch;
        private final int batchSize;

        Writer(Connection connection, PostgresStatement<IN> statement, int batchSize) throws SQLException {
            this.connection = connection;
            connection.setAutoCommit(false);
            this.batch = new RowBatch<>(connection, statement);
            this.batchSize = batchSize;
        }

        @Override
        public void write(IN element, Context context) throws IOException {
            try {
                batch.add(element);
                if (batch.size() >= batchSize) {
                    batch.sendWholeStatements();
                    connection.commit();
                }
            } catch (SQLException e) {
                throw new IOException("Writing to PostgreSQL failed", e);
            }
        }

        @Override
        public void flush(boolean endOfInput) throws IOException {
            try {
                commit();
            } catch (SQLException e) {
                throw new IOException("Committing to PostgreSQL failed", e);
            }
        }

        private void commit() throws SQLException {
            if (batch.size() > 0) {
                batch.send();
                connection.commit();
            }
        }

        @Override
        public void close() throws Exception {
            try (connection; batch) {
                if (!connection.isClosed()) {
                    connection.rollback();
                }
            }
        }
    }
}
