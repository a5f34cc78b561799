package io.onceflow.testing;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The test services are the real thing: Kafka transactions and PostgreSQL prepared transactions work. */
class LocalServicesITCase {

    @Test
    void kafkaCommitsAndAbortsTransactions() throws Exception {
        var kafka = TestServices.kafka();
        String topic = "local-services-" + System.nanoTime();
        kafka.createTopics(1, List.of(topic));
        try (var producer =
                new KafkaProducer<String, String>(
                        Map.of(
                                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "local-services-tx",
                                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60_000),
                        new StringSerializer(),
                        new StringSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k", "aborted"));
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k", "committed"));
            producer.commitTransaction();
        }
        List<String> seen = new ArrayList<>();
        try (var consumer =
                new KafkaConsumer<String, String>(
                        Map.of(
                                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                                ConsumerConfig.GROUP_ID_CONFIG, "local-services"),
                        new StringDeserializer(),
                        new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (seen.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> seen.add(r.value()));
            }
        }
        assertThat(seen).containsExactly("committed");
    }

    @Test
    void postgresPreparesAndCommitsTransactions() throws Exception {
        var database = TestServices.newDatabase("local_services");
        try (Connection connection = database.connect();
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE t (id int PRIMARY KEY)");
            connection.setAutoCommit(false);
            statement.execute("INSERT INTO t VALUES (1)");
            statement.execute("PREPARE TRANSACTION 'local-services-1'");
            connection.setAutoCommit(true);
            ResultSet prepared =
                    statement.executeQuery(
                            "SELECT count(*) FROM pg_prepared_xacts WHERE gid = 'local-services-1'");
            prepared.next();
            assertThat(prepared.getInt(1)).isEqualTo(1);
            statement.execute("COMMIT PREPARED 'local-services-1'");
            ResultSet rows = statement.executeQuery("SELECT count(*) FROM t");
            rows.next();
            assertThat(rows.getInt(1)).isEqualTo(1);
        }
    }
}
