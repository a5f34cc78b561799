package io.onceflow.enrichment.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GatewayRequestTest {

    @ParameterizedTest
    @ValueSource(strings = {"", "has space", "line\nbreak", "é"})
    void idempotencyKeyMustBeAValidHeaderValue(String key) {
        assertThatThrownBy(() -> new GatewayRequest(key, "p", "c", "m", 1, "EUR"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(
                        "The idempotency key must be 1 to 255 visible ASCII characters");
    }

    @Test
    void idempotencyKeyMayHave255CharactersButNotMore() {
        assertThat(new GatewayRequest("k".repeat(255), "p", "c", "m", 1, "EUR").idempotencyKey())
                .hasSize(255);
        assertThatThrownBy(() -> new GatewayRequest("k".repeat(256), "p", "c", "m", 1, "EUR"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void amountMustBePositiveAndCurrencyThreeCapitals() {
        assertThatThrownBy(() -> new GatewayRequest("k", "p", "c", "m", 0, "EUR"))
                .hasMessage("The amount must be positive but is 0.");
        assertThatThrownBy(() -> new GatewayRequest("k", "p", "c", "m", 1, "eur"))
                .hasMessage(
                        "The currency must be three capital letters (ISO 4217) but is \"eur\".");
        assertThatThrownBy(() -> new GatewayRequest("k", " ", "c", "m", 1, "EUR"))
                .hasMessage("The payment id is empty.");
    }

    @Test
    void approvalCannotCarryADeclineReason() {
        assertThatThrownBy(
                        () ->
                                new GatewayDecision(
                                        GatewayDecision.Outcome.APPROVED, "gw_1", "card_declined"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(GatewayDecision.declined("gw_1", null).declineReason()).isNull();
    }
}
