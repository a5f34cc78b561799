package io.onceflow.local;

import io.onceflow.config.Secret;
import io.onceflow.postgres.Migrations;
import io.onceflow.postgres.PostgresEndpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The services a job needs, all real and all on this machine: a KRaft Kafka broker, a PostgreSQL
 * server with the project's schema, and the payment gateway simulator. What {@code onceflow
 * demo} and the benchmarks start; data lives under one directory so a second start finds it
 * again.
 *
 * <p>Ports are the usual ones when free (Kafka 9092, PostgreSQL 5432, gateway 8089) and free ones
 * otherwise, so a machine that already runs Kafka or PostgreSQL can still run the demo.
 */
public final class LocalEnvironment implements AutoCloseable {

    public static final String DATABASE = "onceflow";

    private final LocalKafka kafka;
    private final LocalPostgres postgres;
    private final GatewaySimulator gateway;

    private LocalEnvironment(LocalKafka kafka, LocalPostgres postgres, GatewaySimulator gateway) {
        this.kafka = kafka;
        this.postgres = postgres;
        this.gateway = gateway;
    }

    /** Preferred ports; each falls back to a free one when taken. */
    public record Ports(int kafka, int postgres, int gateway) {
        public static Ports usual() {
            return new Ports(9092, 5432, 8089);
        }
    }

    /** Gateway behaviour: a seed and the shares of declines and transient errors. */
    public record GatewayProfile(long seed, double declineRate, double transientErrorRate, Duration latency) {
        public static GatewayProfile realistic() {
            return new GatewayProfile(42, 0.04, 0.02, Duration.ofMillis(5));
        }
    }

    /** Starts the broker, the database (schema migrated) and the gateway; stops what started if one fails. */
    public static LocalEnvironment start(
            Path dataDirectory, Ports ports, GatewayProfile gatewayProfile, List<String> topics, int partitions)
            throws Exception {
        Files.createDirectories(dataDirectory);
        List<AutoCloseable> started = new ArrayList<>();
        try {
            LocalKafka kafka = LocalKafka.start(dataDirectory.resolve("kafka"), portOrFree(ports.kafka()));
            started.add(kafka);
            kafka.createTopics(partitions, topics);
            LocalPostgres postgres =
                    LocalPostgres.start(dataDirectory.resolve("postgres"), portOrFree(ports.postgres()));
            started.add(postgres);
            postgres.createDatabase(DATABASE);
            LocalEnvironment environment = new LocalEnvironment(kafka, postgres, null);
            Migrations.apply(environment.postgresEndpoint());
            GatewaySimulator gateway =
                    GatewaySimulator.builder()
                            .seed(gatewayProfile.seed())
                            .declineRate(gatewayProfile.declineRate())
                            .transientErrorRate(gatewayProfile.transientErrorRate())
                            .latency(gatewayProfile.latency())
                            .port(portOrFree(ports.gateway()))
                            .start();
            return new LocalEnvironment(kafka, postgres, gateway);
        } catch (Exception e) {
            for (AutoCloseable service : started) {
                try {
                    service.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private static int portOrFree(int preferred) {
        return preferred > 0 && FreePorts.isFree(preferred) ? preferred : FreePorts.pick();
    }

    public LocalKafka kafka() {
        return kafka;
    }

    public LocalPostgres postgres() {
        return postgres;
    }

    public GatewaySimulator gateway() {
        return gateway;
    }

    /** The project database: trusted local connection, no password. */
    public PostgresEndpoint postgresEndpoint() {
        return new PostgresEndpoint(postgres.jdbcUrl(DATABASE), postgres.user(), Secret.none());
    }

    @Override
    public void close() throws Exception {
        Exception failure = null;
        for (AutoCloseable service : new AutoCloseable[] {gateway, kafka, postgres}) {
            try {
                if (service != null) {
                    service.close();
                }
            } catch (Exception e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
