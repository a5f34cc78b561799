package io.onceflow.enrichment.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class GatewayOptionsTest {

    private static GatewayOptions.Builder valid() {
        return GatewayOptions.builder().baseUrl("https://gateway.example.com");
    }

    @Test
    void survivesJavaSerializationLikeTheJobGraphDoes() throws Exception {
        GatewayOptions options =
                valid().requestTimeout(Duration.ofMillis(1500))
                        .connectTimeout(Duration.ofMillis(400))
                        .maxConnections(16)
                        .httpVersion(GatewayOptions.HttpVersion.HTTP_2)
                        .failureRateThresholdPercent(25)
                        .slidingWindowSize(50)
                        .minimumNumberOfCalls(20)
                        .waitDurationInOpenState(Duration.ofSeconds(30))
                        .permittedCallsInHalfOpenState(5)
                        .build();

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(options);
        }
        Object copy;
        try (ObjectInputStream in =
                new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            copy = in.readObject();
        }

        assertThat(copy).isEqualTo(options).hasToString(options.toString());
        assertThat(((GatewayOptions) copy).slidingWindowSize()).isEqualTo(50);
        assertThat(((GatewayOptions) copy).httpVersion()).isEqualTo(GatewayOptions.HttpVersion.HTTP_2);
    }

    @Test
    void eachHttpVersionIsFoundByItsSpellingAndNothingElseIs() {
        for (GatewayOptions.HttpVersion version : GatewayOptions.HttpVersion.values()) {
            assertThat(GatewayOptions.HttpVersion.spelled(version.spelling())).isSameAs(version);
        }
        assertThat(GatewayOptions.HttpVersion.spelled("1.1")).isEqualTo(GatewayOptions.HttpVersion.HTTP_1_1);
        assertThat(GatewayOptions.HttpVersion.spelled("2")).isEqualTo(GatewayOptions.HttpVersion.HTTP_2);
        assertThat(GatewayOptions.HttpVersion.spelled("2.0")).isNull();
        assertThat(GatewayOptions.HttpVersion.spelled(null)).isNull();
    }

    @Test
    void defaultsNeedOnlyABaseUrlAndTrailingSlashesAreDropped() {
        GatewayOptions options =
                GatewayOptions.builder().baseUrl("http://127.0.0.1:8089/psp//").build();

        assertThat(options.baseUrl()).isEqualTo("http://127.0.0.1:8089/psp");
        assertThat(options.requestTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(options.httpVersion()).isEqualTo(GatewayOptions.HttpVersion.HTTP_1_1);
        assertThat(options.minimumNumberOfCalls()).isLessThanOrEqualTo(options.slidingWindowSize());
        assertThat(options.toBuilder().build()).isEqualTo(options);
    }

    @ParameterizedTest
    @CsvSource({"1, 1", "100, 1", "101, 2", "200, 2"})
    void http2OpensAConnectionPerHundredAttemptsInFlight(int maxConnections, int connections) {
        assertThat(valid().maxConnections(maxConnections).build().http2Connections())
                .isEqualTo(connections);
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
                bad(b -> b.baseUrl(null), "The gateway base URL is missing."),
                bad(
                        b -> b.baseUrl("ftp://gateway.example.com"),
                        "must start with http:// or https://."),
                bad(b -> b.baseUrl("http://exa mple.com"), "is not a valid URL."),
                bad(b -> b.baseUrl("http:///v1"), "names no host."),
                bad(
                        b -> b.baseUrl("https://gw.example.com/?a=b"),
                        "must not have a query or fragment."),
                bad(
                        b -> b.requestTimeout(Duration.ZERO),
                        "The request timeout must be at least 1 ms but is PT0S."),
                bad(
                        b -> b.requestTimeout(null),
                        "The request timeout must be at least 1 ms but is missing."),
                bad(
                        b -> b.connectTimeout(Duration.ofMillis(-1)),
                        "The connect timeout must be at least 1 ms"),
                bad(
                        b ->
                                b.requestTimeout(Duration.ofSeconds(1))
                                        .connectTimeout(Duration.ofSeconds(2)),
                        "The connect timeout (PT2S) must not exceed the request timeout (PT1S)"),
                bad(
                        b -> b.maxConnections(0),
                        "The maximum number of connections must be at least 1 but is 0."),
                bad(b -> b.httpVersion(null), "The HTTP version is missing."),
                bad(
                        b -> b.failureRateThresholdPercent(0),
                        "failure rate threshold must be above 0 and at most 100"),
                bad(b -> b.failureRateThresholdPercent(101), "at most 100 percent but is 101.0."),
                bad(b -> b.failureRateThresholdPercent(Float.NaN), "but is NaN."),
                bad(
                        b -> b.slidingWindowSize(0),
                        "The sliding window size must be at least 1 call but is 0."),
                bad(b -> b.minimumNumberOfCalls(0), "The minimum number of calls must be from 1"),
                bad(
                        b -> b.slidingWindowSize(5).minimumNumberOfCalls(6),
                        "from 1 to the sliding window size (5) but is 6."),
                bad(
                        b -> b.waitDurationInOpenState(Duration.ZERO),
                        "The wait duration in open state must be at least 1 ms"),
                bad(
                        b -> b.permittedCallsInHalfOpenState(0),
                        "The permitted calls in half-open state must be at least 1"));
    }

    private static Arguments bad(UnaryOperator<GatewayOptions.Builder> change, String sentence) {
        return Arguments.of(change, sentence);
    }

    @ParameterizedTest
    @MethodSource("badValues")
    void eachBadValueIsNamedInASentence(
            UnaryOperator<GatewayOptions.Builder> change, String sentence) {
        assertThatThrownBy(() -> change.apply(valid()).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(sentence);
    }

    @Test
    void allBadValuesAreReportedAtOnce() {
        assertThatThrownBy(
                        () ->
                                GatewayOptions.builder()
                                        .slidingWindowSize(0)
                                        .permittedCallsInHalfOpenState(0)
                                        .build())
                .hasMessageContaining("The gateway base URL is missing.")
                .hasMessageContaining("The sliding window size must be at least 1 call but is 0.")
                .hasMessageContaining(
                        "The permitted calls in half-open state must be at least 1 but is 0.");
    }
}
