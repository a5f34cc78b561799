package io.onceflow.sinks.postgres;

import java.io.Serializable;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Objects;

/**
 * The SQL a {@link PostgresSink} runs once per record, and how a record fills its parameters.
 *
 * <pre>{@code
 * PostgresStatement<Payment> insert =
 *         PostgresStatement.of(
 *                 "INSERT INTO payments (payment_id, amount_cents) VALUES (?, ?)"
 *                         + " ON CONFLICT (payment_id) DO NOTHING",
 *                 (statement, payment) -> {
 *                     statement.setString(1, payment.getPaymentId());
 *                     statement.setLong(2, payment.getAmountCents());
 *                 });
 * }</pre>
 *
 * <p>Make the statement idempotent on the table's unique key ({@code ON CONFLICT ... DO NOTHING} or
 * {@code DO UPDATE}) as a second guard: the sink is exactly-once on its own, but records that
 * arrive twice from upstream, or a rewind to an older savepoint, would otherwise be written twice.
 * Rows that such a statement leaves unchanged are counted in the {@code rowsSkippedByConflict}
 * metric.
 *
 * <p>The binder travels to the TaskManagers inside the job graph, so it must be serializable; a
 * lambda that captures nothing but serializable values is.
 *
 * @param <IN> type of the records
 */
public final class PostgresStatement<IN> implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Sets the parameters of the statement from one record. */
    @FunctionalInterface
    public interface Binder<IN> extends Serializable {
        void bind(PreparedStatement statement, IN record) throws SQLException;
    }

    private final String sql;
    private final Binder<IN> binder;

    private PostgresStatement(String sql, Binder<IN> binder) {
        this.sql = sql;
        this.binder = binder;
    }

    /**
     * A statement with {@code ?} parameters, filled from each record by {@code binder}.
     *
     * @throws IllegalArgumentException when the SQL is empty or the binder missing
     */
    public static <IN> PostgresStatement<IN> of(String sql, Binder<IN> binder) {
        if (sql == null || sql.isBlank()) {
            throw new IllegalArgumentException("The statement's SQL is empty.");
        }
        if (binder == null) {
            throw new IllegalArgumentException("The statement's binder is missing.");
        }
        return new PostgresStatement<>(sql, binder);
    }

    public String sql() {
        return sql;
    }

    public Binder<IN> binder() {
        return binder;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PostgresStatement<?> other
                && sql.equals(other.sql)
                && binder.equals(other.binder);
    }

    @Override
    public int hashCode() {
        return Objects.hash(sql, binder);
    }

    @Override
    public String toString() {
        return sql;
    }
}
