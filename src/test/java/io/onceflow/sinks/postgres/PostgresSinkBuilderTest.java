package io.onceflow.sinks.postgres;

import io.onceflow.config.Secret;
import io.onceflow.postgres.PostgresEndpoint;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PostgresSinkBuilderTest {

    private static PostgresSinkBuilder<Long> complete() {
        return PostgresSink.<Long>builder()
                .setEndpoint(
                        new PostgresEndpoint(
                                "jdbc:postgresql://db:5432/app", "app", Secret.fromEnv("PW")))
                .setTransactionNamespace("payments-prod")
                .setSinkName("ledger")
                .setStatement(
                        PostgresStatement.of(
                                "INSERT INTO t (n) VALUES (?)", (row, n) -> row.setLong(1, n)));
    }

    private static void assertRejected(
            UnaryOperator<PostgresSinkBuilder<Long>> change, String message) {
        assertThatThrownBy(() -> change.apply(complete()).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    @Test
    void completeBuilderGivesASinkWithItsNames() {
        PostgresSink<Long> sink = complete().build();

        assertThat(sink.transactionNamespace()).isEqualTo("payments-prod");
        assertThat(sink.sinkName()).isEqualTo("ledger");
    }

    @Test
    void eachMissingOrInvalidValueIsNamedInOneSentence() {
        assertRejected(
                b -> b.setEndpoint(null), "The PostgreSQL endpoint is missing; call setEndpoint.");
        assertRejected(
                b -> b.setTransactionNamespace(null),
                "The transaction namespace is missing; call setTransactionNamespace with a name"
                        + " unique to this deployment.");
        assertRejected(
                b -> b.setTransactionNamespace("prod:eu"),
                "The transaction namespace \"prod:eu\" must be 1 to 64 letters, digits, '_', '.'"
                        + " or '-'.");
        assertRejected(b -> b.setSinkName(null), "The sink name is missing; call setSinkName.");
        assertRejected(
                b -> b.setSinkName("ledger sink"),
                "The sink name \"ledger sink\" must be 1 to 64 letters, digits, '_', '.' or '-'.");
        assertRejected(b -> b.setStatement(null), "The statement is missing; call setStatement.");
        assertRejected(b -> b.setBatchSize(0), "The batch size must be at least 1 but is 0.");
        assertRejected(
                b -> b.setMarkerTable("Markers; DROP TABLE x"),
                "The marker table \"Markers; DROP TABLE x\" must be a lower-case unquoted table"
                        + " name, optionally schema-qualified.");
        assertRejected(
                b -> b.setMarkerRetention(Duration.ofMinutes(5)),
                "The marker retention must be at least 1 hour but is PT5M.");
        assertRejected(
                b -> b.setLockTimeout(Duration.ofSeconds(-1)),
                "The lock timeout must be zero (wait forever) or positive but is PT-1S.");
    }

    @Test
    void statementNeedsSqlAndBinder() {
        assertThatThrownBy(() -> PostgresStatement.of(" ", (row, n) -> {}))
                .hasMessage("The statement's SQL is empty.");
        assertThatThrownBy(() -> PostgresStatement.of("SELECT 1", null))
                .hasMessage("The statement's binder is missing.");
    }

    @Test
    void schemaQualifiedMarkerTableIsAccepted() {
        assertThat(complete().setMarkerTable("ops.sink_markers").build()).isNotNull();
    }
}
