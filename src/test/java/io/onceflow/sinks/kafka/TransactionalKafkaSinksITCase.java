package io.onceflow.sinks.kafka;

import io.onceflow.config.ConfigException;
import io.onceflow.config.KafkaSettings;
import io.onceflow.local.FreePorts;
import io.onceflow.testing.TestServices;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The submission-time check of the transaction timeout against what real brokers allow. */
class TransactionalKafkaSinksITCase {

    private static KafkaSettings settings(String bootstrap, Duration transactionTimeout) {
        return new KafkaSettings(bootstrap, "group", "committed", transactionTimeout, Map.of());
    }

    @Test
    void aTimeoutWithinTheBrokersMaximumPassesAndTheMaximumIsReported() {
        var kafka = TestServices.kafka();
        assertThat(
                        TransactionalKafkaSinks.checkBrokersAllowTransactionTimeout(
                                settings(kafka.bootstrapServers(), Duration.ofMinutes(10))))
                .contains(Duration.ofMinutes(15));
    }

    @Test
    void aTimeoutAboveTheBrokersMaximumIsRefusedInOneSentence() {
        var kafka = TestServices.kafka();
        assertThatThrownBy(
                        () -> TransactionalKafkaSinks.checkBrokersAllowTransactionTimeout(
                                settings(kafka.bootstrapServers(), Duration.ofMinutes(20))))
                .isInstanceOf(ConfigException.class)
                .hasMessage(
                        "Setting 'kafka.transaction-timeout' (1200 s) is above the brokers'"
                                + " transaction.max.timeout.ms (900 s); lower it or raise the brokers' maximum.");
    }

    @Test
    void brokersThatCannotBeAskedAreNotAnError() {
        assertThat(
                        TransactionalKafkaSinks.checkBrokersAllowTransactionTimeout(
                                settings("127.0.0.1:" + FreePorts.pick(), Duration.ofMinutes(20))))
                .isEmpty();
    }
}
