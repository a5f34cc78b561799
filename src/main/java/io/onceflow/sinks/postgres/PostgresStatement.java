package io.onceflow.sinks.postgres;

import java.io.Serializable;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Objects;

/**
 * The SQL a PostgreSQL sink runs for its records, and how a record fills its parameters. Two
 * shapes:
 *
 * <ul>
 *   <li>{@link #of}: any statement, one record per execution (an upsert, for example).
 *   <li>{@link #insert}: an {@code INSERT} of rows, which the sink sends up to {@value
 *       #MAX_ROWS_PER_STATEMENT} rows per statement ({@code VALUES (...), (...), ...}).
 *       PostgreSQL parses, binds and runs one statement for all of them: its processes took a
 *       third less CPU per payment so (14-16 µs against 22-24 in the bench, {@code
 *       docs/benchmarks-profile.md}, stop 17).
 * </ul>
 *
 * <pre>{@code
 * PostgresStatement<Payment> insert =
 *         PostgresStatement.insert(
 *                 "INSERT INTO payments (payment_id, amount_cents)",
 *                 "(?, ?)",
 *                 "ON CONFLICT (payment_id) DO NOTHING",
 *                 (row, payment) -> {
 *                     row.setString(1, payment.getPaymentId());
 *                     row.setLong(2, payment.getAmountCents());
 *                 });
 * }</pre>
 *
 * <p>Make the statement idempotent on the table's unique key ({@code ON CONFLICT ... DO NOTHING} or
 * {@code DO UPDATE}) as a second guard: the sink is exactly-once on its own, but records that
 * arrive twice from upstream, or a rewind to an older savepoint, would otherwise be written twice.
 * Rows that such a statement leaves unchanged are counted in the {@code rowsSkippedByConflict}
 * metric, exactly in both shapes: a multi-row statement's update count is the rows it inserted.
 * (pgjdbc's {@code reWriteBatchedInserts} builds multi-row statements too, but then reports every
 * row as {@code SUCCESS_NO_INFO}, which would blind that count.)
 *
 * <p>Pitfall: {@code ON CONFLICT ... DO UPDATE} fails when one statement changes the same row
 * twice, which a multi-row statement would do for two records with one key; {@link #insert}
 * refuses such a clause, so write upserts with {@link #of}.
 *
 * <p>The binder travels to the TaskManagers inside the job graph, so it must be serializable; a
 * lambda that captures nothing but serializable values is.
 *
 * @param <IN> type of the records
 */
public final class PostgresStatement<IN> implements Serializable {

    private static final long serialVersionUID = 2L;

    /** The most rows the sink puts in one statement of {@link #insert}, as pgjdbc's rewrite does. */
    public static final int MAX_ROWS_PER_STATEMENT = 128;

    /** PostgreSQL's protocol numbers a statement's parameters with 16 bits. */
    private static final int MAX_PARAMETERS = 32_767;

    /** Sets the parameters of one row from one record: index 1 is the row's first {@code ?}. */
    @FunctionalInterface
    public interface Binder<IN> extends Serializable {
        void bind(Row row, IN record) throws SQLException;
    }

    /**
     * The parameters of one row. The sink copies each value as it is set, so the record may be
     * reused once the binder returns.
     */
    public interface Row {
        /** A {@code varchar} parameter; {@code null} is SQL {@code NULL}. */
        void setString(int index, String value);

        void setLong(int index, long value);

        void setInt(int index, int value);

        /**
         * Any value pgjdbc's {@code setObject} takes ({@code UUID}, {@code OffsetDateTime},
         * ...); {@code null} is SQL {@code NULL}.
         */
        void setObject(int index, Object value);

        /** SQL {@code NULL} of a {@link java.sql.Types} type. */
        void setNull(int index, int sqlType);
    }

    private final String sql;
    private final String insertInto;
    private final String valuesRow;
    private final String conflictClause;
    private final int parametersPerRow;
    private final Binder<IN> binder;

    private PostgresStatement(
            String sql,
            String insertInto,
            String valuesRow,
            String conflictClause,
            int parametersPerRow,
            Binder<IN> binder) {
        this.sql = sql;
        this.insertInto = insertInto;
        this.valuesRow = valuesRow;
        this.conflictClause = conflictClause;
        this.parametersPerRow = parametersPerRow;
        this.binder = binder;
    }

    /**
     * A statement with {@code ?} parameters, run once per record and filled from it by {@code
     * binder}.
     *
     * @throws IllegalArgumentException when the SQL is empty or the binder missing
     */
    public static <IN> PostgresStatement<IN> of(String sql, Binder<IN> binder) {
        if (sql == null || sql.isBlank()) {
            throw new IllegalArgumentException("The statement's SQL is empty.");
        }
        checkBinder(binder);
        return new PostgresStatement<>(sql, null, null, null, 0, binder);
    }

    /**
     * An insert of one row per record, sent up to {@value #MAX_ROWS_PER_STATEMENT} rows per
     * statement: {@code insertInto VALUES valuesRow, valuesRow, ... conflictClause}.
     *
     * @param insertInto {@code INSERT INTO table (column, ...)}
     * @param valuesRow one row's values in brackets, {@code (?, ?, now())}; its parameters are
     *     its {@code ?} characters, which the binder fills from index 1
     * @param conflictClause {@code ON CONFLICT ... DO NOTHING}, or empty
     * @throws IllegalArgumentException when a part is missing or malformed, or the clause is a
     *     {@code DO UPDATE}
     */
    public static <IN> PostgresStatement<IN> insert(
            String insertInto, String valuesRow, String conflictClause, Binder<IN> binder) {
        if (insertInto == null || !insertInto.strip().toUpperCase(Locale.ROOT).startsWith("INSERT INTO ")) {
            throw new IllegalArgumentException(
                    "The insert must start with 'INSERT INTO table (columns)' but is '" + insertInto + "'.");
        }
        String row = valuesRow == null ? "" : valuesRow.strip();
        int parameters = (int) row.chars().filter(c -> c == '?').count();
        if (!row.startsWith("(") || !row.endsWith(")") || parameters == 0) {
            throw new IllegalArgumentException(
                    "The insert's row must be its values in brackets with at least one '?', like '(?, ?)',"
                            + " but is '" + valuesRow + "'.");
        }
        String conflict = conflictClause == null ? "" : conflictClause.strip();
        if (conflict.toUpperCase(Locale.ROOT).replaceAll("\\s+", " ").contains("DO UPDATE")) {
            throw new IllegalArgumentException(
                    "An upsert (ON CONFLICT ... DO UPDATE) cannot change a row twice in one statement,"
                            + " which several rows per statement would risk; write it with"
                            + " PostgresStatement.of, one row per statement.");
        }
        checkBinder(binder);
        String into = insertInto.strip();
        return new PostgresStatement<>(
                into + " VALUES " + row + (conflict.isEmpty() ? "" : " " + conflict),
                into, row, conflict, parameters, binder);
    }

    private static void checkBinder(Binder<?> binder) {
        if (binder == null) {
            throw new IllegalArgumentException("The statement's binder is missing.");
        }
    }

    /** The statement for one record. */
    public String sql() {
        return sql;
    }

    public Binder<IN> binder() {
        return binder;
    }

    /**
     * The most records one statement takes: 1 for {@link #of}; for {@link #insert}, {@value
     * #MAX_ROWS_PER_STATEMENT} or fewer when the rows' parameters would pass PostgreSQL's limit.
     */
    int maxRowsPerStatement() {
        if (insertInto == null) {
            return 1;
        }
        return Math.min(MAX_ROWS_PER_STATEMENT, Integer.highestOneBit(MAX_PARAMETERS / parametersPerRow));
    }

    /** Parameters of one record's row; 0 for {@link #of}, whose statement the binder alone knows. */
    int parametersPerRow() {
        return parametersPerRow;
    }

    /** The statement for {@code rows} records. */
    String sql(int rows) {
        if (rows < 1 || rows > maxRowsPerStatement()) {
            throw new IllegalArgumentException(
                    "A statement of " + rows + " rows; this one takes 1 to " + maxRowsPerStatement() + ".");
        }
        if (rows == 1) {
            return sql;
        }
        StringBuilder text = new StringBuilder(insertInto.length() + rows * (valuesRow.length() + 2) + 64);
        text.append(insertInto).append(" VALUES ").append(valuesRow);
        for (int i = 1; i < rows; i++) {
            text.append(", ").append(valuesRow);
        }
        if (!conflictClause.isEmpty()) {
            text.append(' ').append(conflictClause);
        }
        return text.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PostgresStatement<?> other
                && sql.equals(other.sql)
                && Objects.equals(insertInto, other.insertInto)
                && binder.equals(other.binder);
    }

    @Override
    public int hashCode() {
        return Objects.hash(sql, insertInto, binder);
    }

    @Override
    public String toString() {
        return insertInto == null ? sql : sql + " (up to " + maxRowsPerStatement() + " rows per statement)";
    }
}
