package io.onceflow.ops.cli;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.appender.ConsoleAppender;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilder;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilderFactory;
import org.apache.logging.log4j.core.config.builder.impl.BuiltConfiguration;

/**
 * The CLI's own logging: warnings and errors, to standard error.
 *
 * <p>Whatever log4j2 configuration the classpath brings is replaced, because the launcher's
 * classpath holds kafka-test-common-runtime, whose {@code log4j2.yaml} logs INFO to standard
 * output: a dozen lines per Kafka client, mixed into the JSON lines of {@code consume}. An
 * explicit {@code -Dlog4j2.configurationFile} (or {@code LOG4J_CONFIGURATION_FILE}) is left
 * alone.
 */
public final class CliLogging {

    private CliLogging() {}

    /** {@code verbose}: Kafka's INFO lines too, to see what the clients are doing. */
    static void configure(boolean verbose) {
        if (System.getProperty("log4j2.configurationFile") != null
                || System.getenv("LOG4J_CONFIGURATION_FILE") != null) {
            return;
        }
        try {
            Configurator.reconfigure(stderrConfiguration(verbose));
        } catch (LinkageError noLog4jCore) {
            // Another logging backend is in charge; its configuration decides.
        }
    }

    private static BuiltConfiguration stderrConfiguration(boolean verbose) {
        ConfigurationBuilder<BuiltConfiguration> builder =
                ConfigurationBuilderFactory.newConfigurationBuilder();
        builder.setConfigurationName("onceflow-cli");
        builder.add(
                builder.newAppender("stderr", "Console")
                        .addAttribute("target", ConsoleAppender.Target.SYSTEM_ERR)
                        .add(
                                builder.newLayout("PatternLayout")
                                        .addAttribute("pattern", "%d{HH:mm:ss} %-5p %c{1}: %m%n")));
        builder.add(builder.newRootLogger(Level.WARN).add(builder.newAppenderRef("stderr")));
        builder.add(builder.newLogger("org.apache.kafka", verbose ? Level.INFO : Level.WARN));
        if (!verbose) {
            // Repeats "could not be established" every few hundred ms while a broker is down;
            // the command's own one-sentence failure says it once.
            builder.add(builder.newLogger("org.apache.kafka.clients.NetworkClient", Level.ERROR));
        }
        return builder.build(false);
    }

    /**
     * Sends every log line to {@code file} instead (the demo's own output is its summary); Flink
     * and Kafka at INFO, as an operator would want them when something looks wrong.
     */
    public static void toFile(java.nio.file.Path file) {
        if (System.getProperty("log4j2.configurationFile") != null
                || System.getenv("LOG4J_CONFIGURATION_FILE") != null) {
            return;
        }
        ConfigurationBuilder<BuiltConfiguration> builder =
                ConfigurationBuilderFactory.newConfigurationBuilder();
        builder.setConfigurationName("onceflow-demo");
        builder.add(
                builder.newAppender("file", "File")
                        .addAttribute("fileName", file.toString())
                        .addAttribute("append", true)
                        .add(
                                builder.newLayout("PatternLayout")
                                        .addAttribute("pattern", "%d{HH:mm:ss,SSS} %-5p %c{1} [%t] %m%n")));
        builder.add(builder.newRootLogger(Level.INFO).add(builder.newAppenderRef("file")));
        builder.add(builder.newLogger("org.apache.kafka", Level.WARN));
        builder.add(builder.newLogger("kafka", Level.WARN));
        try {
            Configurator.reconfigure(builder.build(false));
        } catch (LinkageError noLog4jCore) {
            // Another logging backend is in charge; its configuration decides.
        }
    }
}
