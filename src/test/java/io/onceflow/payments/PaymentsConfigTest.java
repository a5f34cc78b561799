package io.onceflow.payments;

import io.onceflow.config.ConfigException;
import io.onceflow.config.ConfigLoader;
import io.onceflow.config.KafkaSettings;
import io.onceflow.config.RetrySettings;
import io.onceflow.config.Secret;
import io.onceflow.enrichment.gateway.GatewayOptions;
import io.onceflow.sinks.kafka.TransactionalKafkaSinks;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * {@code jobs/payments.yaml} as shipped, {@code --set} overrides, and what an operator reads when
 * a setting is wrong: one plain sentence that names the setting, nothing from Jackson or Java.
 */
class PaymentsConfigTest {

    private static final Path SHIPPED = Path.of("jobs/payments.yaml");

    @Test
    void theShippedFileLoadsWithTheValuesItSpells() {
        PaymentsConfig config = PaymentsConfig.load(SHIPPED, Map.of());

        assertThat(config.job().name()).isEqualTo("onceflow-payments");
        assertThat(config.job().namespace()).isEqualTo("onceflow-payments");
        assertThat(config.job().parallelism()).isEqualTo(2);
        assertThat(config.job().checkpointInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.job().checkpointTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(config.job().minPauseBetweenCheckpoints()).isEqualTo(Duration.ofMillis(200));
        assertThat(config.job().checkpointDirectory()).isEmpty();

        assertThat(config.kafka().bootstrapServers()).isEqualTo("127.0.0.1:9092");
        assertThat(config.kafka().groupId()).isEqualTo("onceflow-payments");
        assertThat(config.kafka().startingOffsets()).isEqualTo("committed");
        assertThat(config.kafka().transactionTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(config.kafka().properties()).isEmpty();

        assertThat(config.topics())
                .isEqualTo(
                        new PaymentsConfig.Topics(
                                "payments.requests",
                                "payments.results",
                                "payments.completed",
                                "payments.dlq"));

        assertThat(config.postgres().url()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/onceflow");
        assertThat(config.postgres().user()).isEqualTo("onceflow");
        assertThat(config.postgres().passwordEnv()).isEqualTo("ONCEFLOW_POSTGRES_PASSWORD");
        assertThat(config.postgres().passwordFile()).isNull();
        assertThat(config.postgres().endpoint().password())
                .isEqualTo(Secret.fromEnv("ONCEFLOW_POSTGRES_PASSWORD"));

        assertThat(config.validation())
                .isEqualTo(
                        new ValidationSettings(
                                10_000_000_000L,
                                64,
                                List.of(),
                                Duration.ofMinutes(5),
                                Duration.ofDays(2)));
        assertThat(config.idempotency().ttl()).isEqualTo(Duration.ofDays(7));

        assertThat(config.customerLookup().poolSize()).isEqualTo(4);
        assertThat(config.customerLookup().cacheSize()).isEqualTo(100_000L);
        assertThat(config.customerLookup().cacheTtl()).isEqualTo(Duration.ofMinutes(1));
        assertThat(config.customerLookup().timeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.customerLookup().capacity()).isEqualTo(100);
        assertThat(config.customerLookup().retry())
                .isEqualTo(
                        new RetrySettings(3, Duration.ofMillis(50), Duration.ofMillis(500), 2.0));

        assertThat(config.gateway().url()).isEqualTo("http://127.0.0.1:8089");
        assertThat(config.gateway().requestTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(config.gateway().connectTimeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.gateway().capacity()).isEqualTo(200);
        assertThat(config.gateway().maxWaitingPerCustomer()).isEqualTo(1000);
        assertThat(config.gateway().httpVersion()).isEqualTo("2");
        assertThat(config.gateway().options().httpVersion()).isEqualTo(GatewayOptions.HttpVersion.HTTP_2);
        assertThat(config.gateway().retry())
                .isEqualTo(
                        new RetrySettings(3, Duration.ofMillis(100), Duration.ofSeconds(2), 2.0));
        assertThat(config.gateway().circuitBreaker())
                .isEqualTo(
                        new PaymentsConfig.CircuitBreaker(50f, 50, 20, Duration.ofSeconds(5), 5));
        assertThat(config.postgresSink().batchSize()).isEqualTo(500);
        assertThat(config.job().unalignedCheckpoints()).isTrue();
    }

    @Test
    void theShippedFileBuildsTheGatewayOptionsAndPassesTheKafkaSinksCheck() {
        PaymentsConfig config = PaymentsConfig.load(SHIPPED, Map.of());

        assertThat(config.gateway().options()).isNotNull();
        config.kafka()
                .checkTransactionTimeout(config.job(), TransactionalKafkaSinks.RESTART_ALLOWANCE);
    }

    @Test
    void overridesApplyToAnySettingAndWinOverTheFile() {
        Map<String, String> overrides = new LinkedHashMap<>();
        overrides.put("kafka.bootstrap-servers", "broker-1:9093,broker-2:9093");
        overrides.put("job.parallelism", "8");
        overrides.put("job.checkpoint-interval", "30s");
        overrides.put("customer-lookup.retry.max-retries", "1");
        overrides.put("gateway.circuit-breaker.failure-rate-threshold", "25.5");
        overrides.put("kafka.properties.security.protocol", "SSL");
        overrides.put("validation.max-amount-minor", "500");

        PaymentsConfig config = PaymentsConfig.load(SHIPPED, overrides);

        assertThat(config.kafka().bootstrapServers()).isEqualTo("broker-1:9093,broker-2:9093");
        assertThat(config.job().parallelism()).isEqualTo(8);
        assertThat(config.job().checkpointInterval()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.customerLookup().retry().maxRetries()).isEqualTo(1);
        assertThat(config.customerLookup().retry().initialDelay())
                .as("the rest of the section stays as the file has it")
                .isEqualTo(Duration.ofMillis(50));
        assertThat(config.gateway().circuitBreaker().failureRateThreshold()).isEqualTo(25.5f);
        assertThat(config.validation().maxAmountMinor()).isEqualTo(500L);
        assertThat(config.kafka().properties())
                .as("Kafka's property names keep their dots")
                .containsExactly(Map.entry("security.protocol", "SSL"));
        assertThat(config.job().name()).isEqualTo("onceflow-payments");
    }

    @Test
    void leftOutOptionalSectionsTakeTheirDefaults() {
        PaymentsConfig config = parse(MINIMAL, "minimal.yaml");

        assertThat(config.validation()).isEqualTo(ValidationSettings.defaults());
        assertThat(config.idempotency().ttl()).isEqualTo(Duration.ofDays(7));
        assertThat(config.customerLookup().timeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.postgresSink().batchSize()).isEqualTo(500);
        assertThat(config.gateway().options().httpVersion()).isEqualTo(GatewayOptions.HttpVersion.HTTP_1_1);
        assertThat(config.job().checkpointTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(config.job().unalignedCheckpoints()).isFalse();
        assertThat(config.kafka().startingOffsets()).isEqualTo("committed");
        assertThat(config.postgres().endpoint().password()).isEqualTo(Secret.none());
    }

    private static final String MINIMAL =
            """
            job:
              name: payments
              namespace: payments-test
              parallelism: 1
              checkpoint-interval: 1s
            kafka:
              bootstrap-servers: localhost:9092
              group-id: payments
            topics:
              requests: r
              results: s
              completed: c
              dead-letters: d
            postgres:
              url: jdbc:postgresql://localhost:5432/payments
              user: payments
            gateway:
              url: http://localhost:8089
            """;

    /** A wrong setting, as a {@code --set} override of the shipped file, and what must be named. */
    static Stream<Arguments> badOverrides() {
        return Stream.of(
                bad("job.checkpoint-interval", "10 parsecs", "job.checkpoint-interval", "parsecs"),
                bad(
                        "customer-lookup.retry.initial-delay",
                        "soon",
                        "customer-lookup.retry.initial-delay",
                        "soon"),
                bad("job.parallelism", "two", "job.parallelism", "two"),
                bad("job.unaligned-checkpoints", "sometimes", "job.unaligned-checkpoints", "sometimes"),
                bad("validation.max-amount-minor", "1e99x", "validation.max-amount-minor", "1e99x"),
                bad("job.parallelism", "-1", "job.parallelism"),
                bad("job.parallelism", "0", "job.parallelism"),
                bad("job.namespace", "payments/prod", "job.namespace", "payments/prod"),
                bad("job.namespace", "payments prod", "job.namespace"),
                bad(
                        "postgres.password-file",
                        "/run/secrets/pg",
                        "postgres.password-env",
                        "postgres.password-file"),
                bad("postgres.url", "jdbc:mysql://db/onceflow", "postgres.url", "jdbc:mysql"),
                bad("postgres.url", "postgresql://127.0.0.1/onceflow", "postgres.url"),
                // 50 + 100 + 200 ms of backoff: a timeout of exactly that could never see the last
                // retry's answer.
                bad("customer-lookup.timeout", "350ms", "customer-lookup", "timeout", "350 ms"),
                bad("customer-lookup.retry.max-retries", "-1", "customer-lookup.retry", "retries"),
                bad("gateway.retry.multiplier", "0.5", "gateway.retry", "multiplier"),
                // 1 s interval + 2 min checkpoint timeout + 2 min restart allowance = 241 s.
                bad("kafka.transaction-timeout", "241s", "kafka.transaction-timeout", "241 s"),
                bad("kafka.transaction-timeout", "1m", "kafka.transaction-timeout"),
                bad("job.checkpoint-timeout", "10m", "kafka.transaction-timeout"),
                bad("kafka.starting-offsets", "beginning", "kafka.starting-offsets", "beginning"),
                bad("postgres-sink.batch-size", "0", "postgres-sink.batch-size"),
                bad("idempotency.ttl", "30s", "idempotency.ttl"),
                bad("gateway.capacity", "0", "gateway.capacity"),
                bad("gateway.http-version", "3", "gateway.http-version", "1.1 or 2"),
                bad("job.paralelism", "2", "job.paralelism", "parallelism", "checkpoint-interval"),
                bad("kafka.group", "x", "kafka.group", "group-id", "bootstrap-servers"),
                bad("extra.thing", "x", "extra"),
                bad("job", "x", "'job'", "section"),
                bad("job.name.first", "x", "job.name"),
                bad("validation.currencies", "EURO", "validation.currencies", "list"));
    }

    private static Arguments bad(String setting, String value, String... named) {
        return Arguments.of(setting, value, named);
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("badOverrides")
    void aBadSettingIsOneSentenceNamingIt(String setting, String value, String[] named) {
        ConfigException e =
                catchThrowableOfType(
                        ConfigException.class,
                        () -> PaymentsConfig.load(SHIPPED, Map.of(setting, value)));

        assertOneSentenceNaming(e, named);
    }

    @Test
    void justAboveTheBoundsIsAccepted() {
        PaymentsConfig config =
                PaymentsConfig.load(
                        SHIPPED,
                        Map.of(
                                "customer-lookup.timeout", "351ms",
                                "kafka.transaction-timeout", "242s"));

        assertThat(config.customerLookup().timeout()).isEqualTo(Duration.ofMillis(351));
        assertThat(config.kafka().transactionTimeout()).isEqualTo(Duration.ofSeconds(242));
    }

    @Test
    void theKafkaSinkRefusesATransactionTimeoutTheBrokerWouldCutShort() {
        PaymentsConfig config = PaymentsConfig.load(SHIPPED, Map.of());
        var tight = new KafkaSettings("localhost:9092", "g", null, Duration.ofSeconds(241), null);

        ConfigException e =
                catchThrowableOfType(
                        ConfigException.class,
                        () ->
                                TransactionalKafkaSinks.exactlyOnce(
                                        config.job(), tight, "kafka", List.of("t")));

        assertOneSentenceNaming(e, "kafka.transaction-timeout", "241 s");
    }

    static Stream<Arguments> missing() {
        return Stream.of(
                Arguments.of("topics:", "topics"),
                Arguments.of("job:", "job"),
                Arguments.of("  group-id: payments", "kafka.group-id"),
                Arguments.of("  dead-letters: d", "topics.dead-letters"),
                Arguments.of("  url: jdbc:postgresql://localhost:5432/payments", "postgres.url"),
                Arguments.of("  checkpoint-interval: 1s", "job.checkpoint-interval"),
                Arguments.of("  namespace: payments-test", "job.namespace"));
    }

    @ParameterizedTest(name = "without ''{0}''")
    @MethodSource("missing")
    void aMissingRequiredSectionOrSettingIsNamed(String line, String named) {
        String text = withoutLineOrSection(MINIMAL, line);

        ConfigException e =
                catchThrowableOfType(
                        ConfigException.class,
                        () -> parse(text, "minimal.yaml"));

        assertOneSentenceNaming(e, named, "required");
    }

    @Test
    void textThatIsNotYamlIsSaidToBeSo() {
        ConfigException e =
                catchThrowableOfType(
                        ConfigException.class,
                        () ->
                                parse("job: [unclosed\n  name: x\n", "broken.yaml"));

        assertOneSentenceNaming(e, "broken.yaml", "YAML", "line");
    }

    @Test
    void yamlThatIsNotAMappingIsSaidToBeSo() {
        for (String text : List.of("just a sentence", "- a\n- list\n", "")) {
            ConfigException e =
                    catchThrowableOfType(
                            ConfigException.class,
                            () -> parse(text, "odd.yaml"));
            assertOneSentenceNaming(e, "odd.yaml", "mapping");
        }
    }

    @Test
    void aMissingFileIsNamed(@org.junit.jupiter.api.io.TempDir Path directory) {
        Path absent = directory.resolve("absent.yaml");

        ConfigException e =
                catchThrowableOfType(
                        ConfigException.class, () -> PaymentsConfig.load(absent, Map.of()));

        assertOneSentenceNaming(e, absent.toString(), "does not exist");
    }

    @Test
    void aBadSettingInTheFileItselfIsNamedToo(@org.junit.jupiter.api.io.TempDir Path directory)
            throws IOException {
        Path file = directory.resolve("payments.yaml");
        Files.writeString(
                file, Files.readString(SHIPPED).replace("parallelism: 2", "parallelism: -3"));

        assertThatThrownBy(() -> PaymentsConfig.load(file, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("job.parallelism")
                .hasMessageContaining(file.toString());
    }

    private static PaymentsConfig parse(String text, String origin) {
        return ConfigLoader.parse(text, origin, Map.of(), PaymentsConfig.class);
    }

    private static final Pattern TWO_SENTENCES = Pattern.compile("[.!?]\\s+[A-Z]");

    private static void assertOneSentenceNaming(ConfigException e, String... named) {
        assertThat(e).as("a ConfigException").isNotNull();
        String message = e.getMessage();
        assertThat(message)
                .as("one line")
                .doesNotContain("\n")
                .as("a whole sentence")
                .endsWith(".")
                .as("nothing of the machinery behind it")
                .doesNotContain("com.fasterxml", "io.onceflow", "java.", "reference chain")
                .doesNotContain("[Source", "ArrayList", "Settings[")
                .doesNotContainIgnoringCase("exception");
        assertThat(TWO_SENTENCES.matcher(message).find()).as("one sentence: " + message).isFalse();
        for (String name : named) {
            assertThat(message).as("names " + name).contains(name);
        }
    }

    private static String withoutLineOrSection(String text, String line) {
        StringBuilder out = new StringBuilder();
        boolean skippingSection = false;
        for (String current : text.split("\n")) {
            if (current.equals(line)) {
                skippingSection = !line.startsWith(" ");
                continue;
            }
            if (skippingSection && current.startsWith(" ")) {
                continue;
            }
            skippingSection = false;
            out.append(current).append('\n');
        }
        assertThat(out.toString()).as("the line to remove is in the text").isNotEqualTo(text);
        return out.toString();
    }
}
