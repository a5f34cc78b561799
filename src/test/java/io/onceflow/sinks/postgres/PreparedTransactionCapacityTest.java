package io.onceflow.sinks.postgres;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PreparedTransactionCapacityTest {

    @Test
    void disabledPreparedTransactionsGiveTheSettingTheNeedAndTheFix() {
        assertThatThrownBy(() -> PreparedTransactionCapacity.check(0, 2))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage(
                        "PostgreSQL's max_prepared_transactions is 0 but this sink at parallelism"
                                + " 2 needs at least 4 (one prepared transaction per subtask"
                                + " waiting for its commit while the next is prepared), so set"
                                + " max_prepared_transactions = 4 or more in postgresql.conf and"
                                + " restart PostgreSQL.");
    }

    @Test
    void oneLessThanTwiceTheParallelismIsTooLowAndTwiceIsEnough() {
        assertThatThrownBy(() -> PreparedTransactionCapacity.check(7, 4))
                .hasMessageContaining("max_prepared_transactions is 7")
                .hasMessageContaining("needs at least 8");
        assertThatCode(() -> PreparedTransactionCapacity.check(8, 4)).doesNotThrowAnyException();
    }
}
