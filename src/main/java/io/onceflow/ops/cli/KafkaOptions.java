package io.onceflow.ops.cli;

import picocli.CommandLine.Option;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** Connection options shared by every subcommand that talks to Kafka ({@code @Mixin}). */
public final class KafkaOptions {

    @Option(
            names = "--bootstrap-servers",
            required = true,
            paramLabel = "HOST:PORT[,...]",
            description = "Kafka brokers to connect to.")
    String bootstrapServers;

    @Option(
            names = "--kafka-property",
            paramLabel = "KEY=VALUE",
            description =
                    "Extra Kafka client setting, e.g. security.protocol=SSL; repeatable."
                            + " Settings a command relies on (acks, idempotence, isolation"
                            + " level) cannot be overridden.")
    Map<String, String> properties = new LinkedHashMap<>();

    /**
     * Client settings: the command's defaults, then the user's {@code --kafka-property}
     * settings, then what the command needs for its guarantees, which always wins.
     */
    public Map<String, Object> clientConfig(
            Map<String, Object> defaults, Map<String, Object> enforced) {
        Map<String, Object> config = new HashMap<>(defaults);
        config.put("bootstrap.servers", bootstrapServers);
        config.putAll(properties);
        config.putAll(enforced);
        return config;
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }
}
