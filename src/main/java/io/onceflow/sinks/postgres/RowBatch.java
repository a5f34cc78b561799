package io.onceflow.sinks.postgres;

import org.apache.flink.util.IOUtils;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The rows of a {@link PostgresStatement} that a sink writer holds until it sends them: each
 * record's parameters are copied as the binder sets them (so a record object reused upstream is
 * safe), and sent, in order, in as few statements as the statement allows: for an {@link
 * PostgresStatement#insert insert} a row count is split into powers of two up to its most rows per
 * statement (300 rows: 128, 128, 32, 8, 4), each count with its own prepared statement, kept for
 * the connection's life so that pgjdbc prepares it on the server once; for {@link
 * PostgresStatement#of} one execution per row. Either way one JDBC batch per statement shape, so
 * a send is a few round trips however many rows it holds, and one when they fill whole statements
 * ({@link #sendWholeStatements}).
 *
 * <p>Not thread-safe; one per writer and connection. It never commits: the writer owns the
 * transaction.
 *
 * @param <IN> type of the records
 */
public final class RowBatch<IN> implements AutoCloseable {

    /** What one {@link #send} did. */
    public record Sent(long rows, long unchanged) {
        /** Rows the statements inserted or changed. */
        public long changed() {
            return rows - unchanged;
        }
    }

    private static final Object NULL_VARCHAR = new SqlNull(Types.VARCHAR);
    private static final Object NULL_OTHER = new SqlNull(Types.OTHER);

    private final Connection connection;
    private final PostgresStatement<IN> statement;
    /** Index k: the statement of 2^k rows, prepared on first use. */
    private final PreparedStatement[] byPowerOfTwo;
    private final List<Object[]> rows = new ArrayList<>();
    private final Recorder recorder = new Recorder();

    /** Rows of {@code statement} to send over {@code connection}. */
    public RowBatch(Connection connection, PostgresStatement<IN> statement) {
        this.connection = connection;
        this.statement = statement;
        this.byPowerOfTwo = new PreparedStatement[Integer.numberOfTrailingZeros(statement.maxRowsPerStatement()) + 1];
    }

    /**
     * Binds one record and holds its row.
     *
     * @throws SQLException when the binder fails, or sets other parameters than the row has
     */
    public void add(IN record) throws SQLException {
        recorder.start(statement.parametersPerRow());
        statement.binder().bind(recorder, record);
        rows.add(recorder.finish());
    }

    /** Rows held, not yet sent. */
    public int size() {
        return rows.size();
    }

    /**
     * Sends every row held, in order, and forgets them once PostgreSQL has run them all. After a
     * failure the rows are still held but some of them may have been written: the caller rolls
     * the transaction back (the sink writers fail, and the restore writes them again).
     */
    public Sent send() throws SQLException {
        return send(rows.size());
    }

    /**
     * Sends the rows that fill whole statements of the most rows, in one round trip, and keeps
     * the rest for the next send; all rows when they fill none. A writer whose batch is full calls
     * this, so that a batch size that is no multiple of a statement's rows (500 against 128) costs
     * no extra round trips for the smaller statements of its remainder.
     */
    public Sent sendWholeStatements() throws SQLException {
        int rowsPerStatement = statement.maxRowsPerStatement();
        int whole = rows.size() / rowsPerStatement * rowsPerStatement;
        return send(whole == 0 ? rows.size() : whole);
    }

    private Sent send(int total) throws SQLException {
        if (total == 0) {
            return new Sent(0, 0);
        }
        long unchanged = 0;
        int sent = 0;
        for (int power = byPowerOfTwo.length - 1; power >= 0 && sent < total; power--) {
            int rowsPerStatement = 1 << power;
            if (total - sent < rowsPerStatement) {
                continue;
            }
            PreparedStatement prepared = prepared(power);
            int statements = 0;
            while (total - sent >= rowsPerStatement) {
                for (int row = 0; row < rowsPerStatement; row++) {
                    bind(prepared, row * statement.parametersPerRow(), rows.get(sent + row));
                }
                prepared.addBatch();
                sent += rowsPerStatement;
                statements++;
            }
            int[] counts = prepared.executeBatch();
            if (counts.length != statements) {
                throw new SQLException(
                        "PostgreSQL answered " + counts.length + " update counts for " + statements + " statements.");
            }
            for (int count : counts) {
                // SUCCESS_NO_INFO (-2) tells nothing, so it never counts as unchanged.
                if (count >= 0) {
                    unchanged += rowsPerStatement - count;
                }
            }
        }
        rows.subList(0, total).clear();
        return new Sent(total, unchanged);
    }

    private PreparedStatement prepared(int power) throws SQLException {
        if (byPowerOfTwo[power] == null) {
            byPowerOfTwo[power] = connection.prepareStatement(statement.sql(1 << power));
        }
        return byPowerOfTwo[power];
    }

    private static void bind(PreparedStatement prepared, int offset, Object[] values) throws SQLException {
        for (int i = 0; i < values.length; i++) {
            Object value = values[i];
            if (value instanceof SqlNull sqlNull) {
                prepared.setNull(offset + i + 1, sqlNull.type());
            } else {
                prepared.setObject(offset + i + 1, value);
            }
        }
    }

    /** Drops the rows held and closes the prepared statements; the connection stays open. */
    @Override
    public void close() throws Exception {
        rows.clear();
        try {
            IOUtils.closeAll(byPowerOfTwo);
        } finally {
            Arrays.fill(byPowerOfTwo, null);
        }
    }

    private record SqlNull(int type) {}

    /**
     * Copies a binder's values into a fresh array per row. For {@link PostgresStatement#of} the
     * row has as many parameters as the highest index set.
     */
    private static final class Recorder implements PostgresStatement.Row {
        private static final Object UNSET = new Object();

        private Object[] values = new Object[16];
        private int expected;
        private int highest;

        void start(int parameters) {
            expected = parameters;
            highest = 0;
            if (values.length < parameters) {
                values = new Object[parameters];
            }
            Arrays.fill(values, UNSET);
        }

        Object[] finish() throws SQLException {
            if (expected > 0 && highest != expected) {
                throw new SQLException(
                        "The binder set parameters up to " + highest + " of a row that has " + expected + ".");
            }
            for (int i = 0; i < highest; i++) {
                if (values[i] == UNSET) {
                    throw new SQLException("The binder left parameter " + (i + 1) + " of the row unset.");
                }
            }
            return Arrays.copyOf(values, highest);
        }

        private void set(int index, Object value) {
            if (index < 1) {
                throw new IllegalArgumentException("Parameter " + index + ": a row's parameters count from 1.");
            }
            if (expected > 0 && index > expected) {
                throw new IllegalArgumentException("Parameter " + index + " of a row that has " + expected + ".");
            }
            if (index > values.length) {
                int grownFrom = values.length;
                values = Arrays.copyOf(values, Math.max(index, grownFrom * 2));
                Arrays.fill(values, grownFrom, values.length, UNSET);
            }
            values[index - 1] = value;
            highest = Math.max(highest, index);
        }

        @Override
        public void setString(int index, String value) {
            set(index, value == null ? NULL_VARCHAR : value);
        }

        @Override
        public void setLong(int index, long value) {
            set(index, value);
        }

        @Override
        public void setInt(int index, int value) {
            set(index, value);
        }

        @Override
        public void setObject(int index, Object value) {
            set(index, value == null ? NULL_OTHER : value);
        }

        @Override
        public void setNull(int index, int sqlType) {
            set(index, new SqlNull(sqlType));
        }
    }
}
