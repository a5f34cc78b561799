package io.onceflow.analytics;

import io.onceflow.analytics.model.AnalyticsRecord;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class UserProfileLookupTest {

    @Test
    void theRecordItCompletesWithHasItsOwnEnrichmentAndSharesTheEvent() {
        AnalyticsRecord input = TestEvents.click("e-1", "u-1", Instant.parse("2026-11-26T10:00:00Z"));
        input.getEnrichment().setDeviceClass("mobile");
        input.getEnrichment().setMissing(List.of("earlier-enricher"));

        AnalyticsRecord out = UserProfileLookup.withOwnEnrichment(input);
        out.getEnrichment().setCountry("DE");
        out.getEnrichment().setMissing(List.of("earlier-enricher", Enrichers.USER_PROFILE));
        out.setLate(true);

        assertThat(out).isNotSameAs(input);
        assertThat(out.getEvent()).isSameAs(input.getEvent());
        assertThat(out.getSource()).isEqualTo(input.getSource());
        assertThat(out.getReceivedAt()).isEqualTo(input.getReceivedAt());
        assertThat(out.getEnrichment().getDeviceClass()).isEqualTo("mobile");
        assertThat(input.getEnrichment().getCountry()).isNull();
        assertThat(input.getEnrichment().getMissing()).containsExactly("earlier-enricher");
        assertThat(input.getLate()).isFalse();
    }

    @Test
    void theCohortIsTheIsoWeekOfTheSignupInUtc() {
        assertThat(UserProfileLookup.cohort(OffsetDateTime.parse("2025-04-02T10:00:00+02:00"))).isEqualTo("2025-W14");
        assertThat(UserProfileLookup.cohort(OffsetDateTime.parse("2025-01-01T00:30:00+01:00"))).isEqualTo("2025-W01");
        assertThat(UserProfileLookup.cohort(null)).isNull();
    }
}
