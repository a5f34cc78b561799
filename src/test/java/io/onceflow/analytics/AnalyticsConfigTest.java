package io.onceflow.analytics;

import io.onceflow.config.ConfigException;
import io.onceflow.config.ConfigLoader;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The shipped {@code jobs/analytics.yaml} loads, and mistakes fail at submission with one sentence. */
class AnalyticsConfigTest {

    private static final String MINIMAL = String.join("\n",
            "job: {name: a, namespace: a, parallelism: 1, checkpoint-interval: 1s}",
            "kafka: {bootstrap-servers: 'k:9092', group-id: a}",
            "topics: {events: analytics.events, dead-letters: analytics.dlq}",
            "postgres: {url: 'jdbc:postgresql://db:5432/onceflow', user: onceflow}");

    @Test
    void theShippedConfigurationLoads() {
        AnalyticsConfig config = AnalyticsConfig.load(Path.of("jobs/analytics.yaml"), Map.of("windows.allowed-lateness", "2m"));

        assertThat(config.topics().events()).isEqualTo("analytics.events");
        assertThat(config.windows().size()).isEqualTo(Duration.ofMinutes(1));
        assertThat(config.windows().allowedLateness()).isEqualTo(Duration.ofMinutes(2));
        assertThat(config.enrichersOf("purchase")).containsExactly(Enrichers.DEVICE_CLASS, Enrichers.USER_PROFILE);
        assertThat(config.enrichersOf("click")).containsExactly(Enrichers.DEVICE_CLASS);
        assertThat(config.dedup().ttl()).isEqualTo(Duration.ofHours(24));
    }

    @Test
    void defaultsFillEveryOptionalSection() {
        AnalyticsConfig config = ConfigLoader.parse(MINIMAL, "test", Map.of(), AnalyticsConfig.class);

        assertThat(config.enrichers()).isEmpty();
        assertThat(config.validation().maxClockSkew()).isEqualTo(Duration.ofMinutes(5));
        assertThat(config.eventTime().maxOutOfOrderness()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.userLookup().capacity()).isEqualTo(100);
    }

    @Test
    void anUnknownEventTypeOrEnricherIsRefused() {
        assertThatThrownBy(() -> ConfigLoader.parse(MINIMAL + "\nenrichers: {screen_view: [device-class]}",
                        "test", Map.of(), AnalyticsConfig.class))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'screen_view', which has no schema");
        assertThatThrownBy(() -> ConfigLoader.parse(MINIMAL + "\nenrichers: {click: [geo-ip]}",
                        "test", Map.of(), AnalyticsConfig.class))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("names the enricher 'geo-ip'");
    }

    @Test
    void theEventTypesAreTheSchemasUnderSchemasAnalytics() {
        assertThat(EventTypes.schemas().keySet())
                .containsExactlyInAnyOrderElementsOf(List.of("page_view", "click", "add_to_cart", "purchase", "signup"));
    }
}
