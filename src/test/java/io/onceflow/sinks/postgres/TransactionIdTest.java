package io.onceflow.sinks.postgres;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TransactionIdTest {

    @Test
    void gidSpellsNamespaceSinkSubtaskAndCheckpointAndParsesBack() {
        TransactionId id = new TransactionId("payments-prod", "ledger_v2", 3, 42);

        assertThat(id.gid()).isEqualTo("onceflow:payments-prod:ledger_v2:3:42");
        assertThat(TransactionId.parse(id.gid())).contains(id);
        assertThat(id.gid()).startsWith(TransactionId.prefixOf("payments-prod", "ledger_v2"));
    }

    @Test
    void longestPossibleGidFitsPostgresLimitOf200Bytes() {
        String longest = "n".repeat(64);
        TransactionId id = new TransactionId(longest, longest, 32767, Long.MAX_VALUE);

        assertThat(id.gid().getBytes(StandardCharsets.UTF_8).length).isLessThan(200);
        assertThat(TransactionId.parse(id.gid())).contains(id);
    }

    @Test
    void foreignOrMalformedGidsAreNotParsed() {
        assertThat(TransactionId.parse("local-services-1")).isEmpty();
        assertThat(TransactionId.parse("other:ns:sink:0:1")).isEmpty();
        assertThat(TransactionId.parse("onceflow:ns:sink:0")).isEmpty();
        assertThat(TransactionId.parse("onceflow:ns:sink:x:1")).isEmpty();
        assertThat(TransactionId.parse("onceflow:ns:sink:0:1:2")).isEmpty();
        assertThat(TransactionId.parse("onceflow:ns:sink:0:99999999999999999999")).isEmpty();
        assertThat(TransactionId.parse(null)).isEmpty();
    }

    @Test
    void namesThatCouldBreakTheGidOrItsQuotingAreRejected() {
        assertThat(TransactionId.isValidName("a:b")).isFalse();
        assertThat(TransactionId.isValidName("it's")).isFalse();
        assertThat(TransactionId.isValidName("")).isFalse();
        assertThat(TransactionId.isValidName("x".repeat(65))).isFalse();
        assertThatThrownBy(() -> new TransactionId("a'b", "sink", 0, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
