package io.onceflow.local;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;

/**
 * A real Kafka broker in KRaft mode (one combined broker and controller node) for the demo and
 * the tests, run in this JVM from the {@code org.apache.kafka:kafka_2.13} artifact: the same
 * {@code KafkaRaftServer} that {@code kafka.Kafka} starts.
 *
 * <p>Single-node settings: every internal topic has replication factor 1, and {@code
 * transaction.max.timeout.ms} stays at Kafka's default of 15 minutes, so jobs must set their
 * producers' {@code transaction.timeout.ms} below it. Topics are not auto-created: {@link
 * #createTopics} makes them with the partitions a job expects.
 *
 * <p>Restartable on the same port and log directory ({@link #restart()}): committed data and
 * open transactions survive, as they would on a real broker restart.
 */
public final class LocalKafka implements AutoCloseable {

    private final Path logDirectory;
    private final int port;
    private final int controllerPort;
    private KafkaRaftServer server;

    private LocalKafka(Path logDirectory, int port, int controllerPort) {
        this.logDirectory = logDirectory;
        this.port = port;
        this.controllerPort = controllerPort;
    }

    /**
     * Starts a broker listening on {@code 127.0.0.1:port} (0 picks a free port), keeping its log
     * in {@code logDirectory}; an already formatted directory is reused.
     */
    public static LocalKafka start(Path logDirectory, int port) throws Exception {
        LocalKafka kafka =
                new LocalKafka(
                        logDirectory, port == 0 ? FreePorts.pick() : port, FreePorts.pick());
        kafka.format();
        kafka.startServer();
        return kafka;
    }

    private Properties serverProperties() {
        Properties props = new Properties();
        props.put("process.roles", "broker,controller");
        props.put("node.id", "1");
        props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        props.put(
                "listeners",
                "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        props.put("controller.listener.names", "CONTROLLER");
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("log.dirs", logDirectory.toAbsolutePath().toString());
        props.put("auto.create.topics.enable", "false");
        props.put("num.partitions", "2");
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", "4");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("transaction.state.log.num.partitions", "4");
        props.put("share.coordinator.state.topic.replication.factor", "1");
        props.put("share.coordinator.state.topic.min.isr", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        props.put("log.message.timestamp.type", "CreateTime");
        return props;
    }

    private void format() throws Exception {
        Files.createDirectories(logDirectory);
        if (Files.exists(logDirectory.resolve("meta.properties"))) {
            return;
        }
        new Formatter()
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                .setNodeId(1)
                .setClusterId(Uuid.randomUuid().toString())
                .setControllerListenerName("CONTROLLER")
                .setMetadataLogDirectory(logDirectory.toAbsolutePath().toString())
                .addDirectory(logDirectory.toAbsolutePath().toString())
                .setHasDynamicQuorum(false)
                .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                .run();
    }

    private void startServer() {
        server = new KafkaRaftServer(KafkaConfig.fromProps(serverProperties(), false), Time.SYSTEM);
        server.startup();
        awaitReady();
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try (Admin admin = admin()) {
                admin.describeCluster().nodes().get();
                return;
            } catch (Exception e) {
                last = e;
            }
        }
        throw new IllegalStateException(
                "Kafka broker on port " + port + " did not answer within 60 s", last);
    }

    /** Stops the broker (as a clean shutdown) and starts it again on the same port and log. */
    public void restart() {
        stopServer();
        startServer();
    }

    private void stopServer() {
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
            server = null;
        }
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public Admin admin() {
        return Admin.create(
                Map.of(
                        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000,
                        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000));
    }

    /** Creates the topics with {@code partitions} partitions each; existing ones are left alone. */
    public void createTopics(int partitions, Collection<String> topics)
            throws ExecutionException, InterruptedException {
        createTopics(bootstrapServers(), partitions, topics);
    }

    /** Creates topics on any cluster; existing ones are left alone. */
    public static void createTopics(
            String bootstrapServers, int partitions, Collection<String> topics)
            throws ExecutionException, InterruptedException {
        try (Admin admin =
                Admin.create(
                        Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            List<NewTopic> newTopics =
                    topics.stream().map(t -> new NewTopic(t, partitions, (short) 1)).toList();
            for (var result : admin.createTopics(newTopics).values().values()) {
                try {
                    result.get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        stopServer();
    }

    /** Runs a broker in its own JVM: {@code LocalKafka <log-dir> <port>}; stops on SIGTERM. */
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: LocalKafka <log-directory> <port>");
            System.exit(2);
        }
        LocalKafka kafka = start(Path.of(args[0]), Integer.parseInt(args[1]));
        Runtime.getRuntime().addShutdownHook(new Thread(kafka::close, "local-kafka-shutdown"));
        System.out.println("Kafka broker ready on " + kafka.bootstrapServers());
        kafka.server.awaitShutdown();
    }
}
