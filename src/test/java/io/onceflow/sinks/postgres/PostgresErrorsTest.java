package io.onceflow.sinks.postgres;

import org.junit.jupiter.api.Test;

import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

class PostgresErrorsTest {

    private static SQLException withState(String state) {
        return new SQLException("failure", state);
    }

    @Test
    void lostConnectionsShutdownsAndResourceShortagesAreTransient() {
        assertThat(PostgresErrors.isTransient(withState("08006"))).isTrue();
        assertThat(PostgresErrors.isTransient(withState("08001"))).isTrue();
        assertThat(PostgresErrors.isTransient(withState("57P01"))).isTrue();
        assertThat(PostgresErrors.isTransient(withState("57P03"))).isTrue();
        assertThat(PostgresErrors.isTransient(withState("53300"))).isTrue();
    }

    @Test
    void missingTransactionsAndPermissionsAreNotTransient() {
        assertThat(PostgresErrors.isTransient(withState("42704"))).isFalse();
        assertThat(PostgresErrors.isTransient(withState("42501"))).isFalse();
        assertThat(PostgresErrors.isTransient(withState("23505"))).isFalse();
        assertThat(PostgresErrors.isTransactionGone(withState("42704"))).isTrue();
    }
}
