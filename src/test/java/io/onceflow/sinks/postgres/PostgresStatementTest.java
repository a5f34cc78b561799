package io.onceflow.sinks.postgres;

import org.junit.jupiter.api.Test;

import java.util.Collections;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PostgresStatementTest {

    private static final PostgresStatement<Long> NUMBERS =
            PostgresStatement.insert(
                    "INSERT INTO numbers (n, at)", "(?, now())", "ON CONFLICT (n) DO NOTHING", (row, n) -> row.setLong(1, n));

    @Test
    void anInsertRepeatsItsRowForEachRecordOfAStatement() {
        assertThat(NUMBERS.sql()).isEqualTo("INSERT INTO numbers (n, at) VALUES (?, now()) ON CONFLICT (n) DO NOTHING");
        assertThat(NUMBERS.sql(1)).isEqualTo(NUMBERS.sql());
        assertThat(NUMBERS.sql(3))
                .isEqualTo("INSERT INTO numbers (n, at) VALUES (?, now()), (?, now()), (?, now()) ON CONFLICT (n) DO NOTHING");
        assertThat(NUMBERS.parametersPerRow()).isEqualTo(1);
        assertThat(NUMBERS.maxRowsPerStatement()).isEqualTo(PostgresStatement.MAX_ROWS_PER_STATEMENT);
        assertThat(PostgresStatement.insert("INSERT INTO numbers (n)", "(?)", "", (row, n) -> {}).sql(2))
                .isEqualTo("INSERT INTO numbers (n) VALUES (?), (?)");
    }

    @Test
    void rowsWithManyParametersGetFewerRowsPerStatementThanPostgresLimit() {
        String row = "(" + String.join(", ", Collections.nCopies(300, "?")) + ")";
        PostgresStatement<Long> wide = PostgresStatement.insert("INSERT INTO wide (a)", row, "", (r, n) -> {});

        // 32,767 parameters at most: 109 rows would fit; a power of two below that
        assertThat(wide.maxRowsPerStatement()).isEqualTo(64);
        assertThatThrownBy(() -> wide.sql(65)).hasMessage("A statement of 65 rows; this one takes 1 to 64.");
    }

    @Test
    void anyOtherStatementRunsOneRecordAtATime() {
        PostgresStatement<Long> upsert = PostgresStatement.of(
                "INSERT INTO t (n) VALUES (?) ON CONFLICT (n) DO UPDATE SET n = EXCLUDED.n", (row, n) -> row.setLong(1, n));

        assertThat(upsert.maxRowsPerStatement()).isEqualTo(1);
        assertThat(upsert.sql(1)).isEqualTo(upsert.sql());
        assertThatThrownBy(() -> upsert.sql(2)).hasMessage("A statement of 2 rows; this one takes 1 to 1.");
    }

    @Test
    void anInsertThatCouldChangeARowTwiceInOneStatementIsRefused() {
        assertThatThrownBy(() -> PostgresStatement.insert(
                        "INSERT INTO t (n)", "(?)", "ON CONFLICT (n) DO\n UPDATE SET n = EXCLUDED.n", (row, n) -> {}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("An upsert (ON CONFLICT ... DO UPDATE) cannot change a row twice in one statement");
    }

    @Test
    void aMalformedInsertGetsOneSentence() {
        assertThatThrownBy(() -> PostgresStatement.insert("UPDATE t", "(?)", "", (row, n) -> {}))
                .hasMessage("The insert must start with 'INSERT INTO table (columns)' but is 'UPDATE t'.");
        assertThatThrownBy(() -> PostgresStatement.insert("INSERT INTO t (n)", "?, ?", "", (row, n) -> {}))
                .hasMessage("The insert's row must be its values in brackets with at least one '?', like '(?, ?)',"
                        + " but is '?, ?'.");
        assertThatThrownBy(() -> PostgresStatement.insert("INSERT INTO t (n)", "(now())", "", (row, n) -> {}))
                .hasMessageContaining("at least one '?'");
        assertThatThrownBy(() -> PostgresStatement.insert("INSERT INTO t (n)", "(?)", "", null))
                .hasMessage("The statement's binder is missing.");
    }

    @Test
    void aBinderThatMissesTheRowsParametersIsCaughtBeforeAnythingIsSent() throws Exception {
        PostgresStatement<Long> pair = PostgresStatement.insert(
                "INSERT INTO pairs (a, b)", "(?, ?)", "", (row, n) -> row.setLong(n.intValue(), n));
        // nothing is prepared or sent by add(), so no connection is needed
        try (RowBatch<Long> batch = new RowBatch<>(null, pair)) {
            assertThatThrownBy(() -> batch.add(3L)).hasMessage("Parameter 3 of a row that has 2.");
            assertThatThrownBy(() -> batch.add(0L)).hasMessage("Parameter 0: a row's parameters count from 1.");
            assertThatThrownBy(() -> batch.add(1L)).hasMessage("The binder set parameters up to 1 of a row that has 2.");
            assertThatThrownBy(() -> batch.add(2L)).hasMessage("The binder left parameter 1 of the row unset.");
            assertThat(batch.size()).isZero();
        }
    }
}
