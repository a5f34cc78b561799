package io.onceflow.ops.reconcile;

import io.onceflow.ingest.TopicRange;
import io.onceflow.lake.LakeCatalog;
import io.onceflow.lake.LakeReader;
import io.onceflow.lake.LakeTables;
import io.onceflow.payments.PaymentsConfig;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.postgres.PostgresEndpoint;
import io.onceflow.records.DeadLetter;
import io.onceflow.records.SingleObjectCodec;
import io.onceflow.records.SourcePosition;

import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.kafka.clients.consumer.KafkaConsumer;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The payments job's audit for a range of {@code payments.requests}:
 *
 * <ul>
 *   <li><b>expected</b>: every request record of the range, by its position ({@code
 *       partition/offset}), minus those in {@code payments.dlq} (undecodable): each must have one
 *       result;
 *   <li>{@code payments.results} (read_committed) and the lake's {@code payments.results}: the
 *       results whose {@code source} is in the range, by position;
 *   <li>PostgreSQL {@code payments}: the rows whose source position is in the range, by payment id,
 *       against the payment ids of the COMPLETED and DECLINED results the topic holds for the range
 *       (which payments exist is the gateway's decision, recorded only in the results).
 * </ul>
 *
 * Results and dead letters are read from the first record stamped at or after the range's oldest
 * request: the job stamps them with their request's timestamp.
 */
public final class PaymentsReconciler {

    private static final Duration STALL = Duration.ofMinutes(1);

    private PaymentsReconciler() {}

    public static ReconcileReport reconcile(PaymentsConfig config, Instant from, Instant to, int examples) {
        var topics = config.topics();
        SingleObjectCodec codec = SingleObjectCodec.forTopicRecords();
        Set<String> requests = new HashSet<>();
        Set<String> deadLettered = new HashSet<>();
        Map<String, Integer> results = new HashMap<>();
        Set<String> decidedPayments = new HashSet<>();
        TopicRange range;
        try (KafkaConsumer<byte[], byte[]> consumer = TopicRange.consumer(config.kafka().bootstrapServers(), config.kafka().properties())) {
            range = TopicRange.of(consumer, topics.requests(), from, to);
            long[] oldest = {Long.MAX_VALUE};
            range.read(consumer, STALL, record -> {
                requests.add(key(record.partition(), record.offset()));
                oldest[0] = Math.min(oldest[0], record.timestamp());
            });
            Instant since = oldest[0] == Long.MAX_VALUE ? from : Instant.ofEpochMilli(oldest[0]);
            TopicRange.of(consumer, topics.deadLetters(), since, null).read(consumer, STALL, record -> {
                DeadLetter letter = codec.decode(record.value(), DeadLetter.class);
                SourcePosition source = letter.getSource();
                if (range.contains(source.getTopic(), source.getPartition(), source.getOffset())) {
                    deadLettered.add(key(source.getPartition(), source.getOffset()));
                }
            });
            TopicRange.of(consumer, topics.results(), since, null).read(consumer, STALL, record -> {
                PaymentResult result = codec.decode(record.value(), PaymentResult.class);
                SourcePosition source = result.getSource();
                if (range.contains(source.getTopic(), source.getPartition(), source.getOffset())) {
                    results.merge(key(source.getPartition(), source.getOffset()), 1, Integer::sum);
                    if (result.getStatus() == PaymentStatus.COMPLETED || result.getStatus() == PaymentStatus.DECLINED) {
                        decidedPayments.add(result.getPaymentId());
                    }
                }
            });
        }
        Set<String> expected = new HashSet<>(requests);
        expected.removeAll(deadLettered);

        PostgresEndpoint postgres = config.postgres().endpoint();
        Map<String, Integer> rows = paymentRows(postgres, range);
        Map<String, Integer> lakeRows = lakeRows(config, range);

        List<StoreCheck> stores = List.of(
                StoreCheck.compare("kafka " + topics.results(), expected, results, examples),
                StoreCheck.compare("postgres payments", decidedPayments, rows, examples),
                StoreCheck.compare("lake " + LakeTables.PAYMENT_RESULTS, expected, lakeRows, examples));
        return new ReconcileReport("payments", range.toString() + " (" + deadLettered.size() + " dead letters)", requests.size(), stores, null,
                PostgresChecks.preparedTransactions(postgres));
    }

    /** A record position as reconcile and replay key it: {@code partition/offset}. */
    public static String key(int partition, long offset) {
        return partition + "/" + offset;
    }

    private static Map<String, Integer> paymentRows(PostgresEndpoint postgres, TopicRange range) {
        Map<String, Integer> rows = new HashMap<>();
        String sql = "SELECT payment_id::text FROM payments WHERE source_topic = ? AND "
                + PostgresChecks.positionFilter(range, "source_partition", "source_offset");
        try (Connection connection = postgres.connect(); PreparedStatement statement = connection.prepareStatement(sql)) {
            PostgresChecks.bind(statement, range.topic());
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    rows.merge(rs.getString(1), 1, Integer::sum);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot read the payments table at " + postgres + ": " + e.getMessage(), e);
        }
        return rows;
    }

    private static Map<String, Integer> lakeRows(PaymentsConfig config, TopicRange range) {
        Map<String, Integer> rows = new HashMap<>();
        try (LakeCatalog lake = LakeCatalog.open(config.lake(), config.lake().catalogEndpoint(config.postgres()))) {
            LakeReader.forEach(lake.table(LakeTables.PAYMENT_RESULTS), lakeFilter(range), row -> {
                int partition = (Integer) row.getField("source_partition");
                long offset = (Long) row.getField("source_offset");
                if (range.contains(partition, offset)) {
                    rows.merge(key(partition, offset), 1, Integer::sum);
                }
            });
        }
        return rows;
    }

    /** The rows of {@code payments.results} whose source position is in the range. */
    public static Expression lakeFilter(TopicRange range) {
        Expression positions = Expressions.alwaysFalse();
        for (TopicRange.Partition p : range.partitions()) {
            if (p.size() > 0) {
                positions = Expressions.or(positions, Expressions.and(
                        Expressions.equal("source_partition", p.partition()),
                        Expressions.and(Expressions.greaterThanOrEqual("source_offset", p.start()),
                                Expressions.lessThan("source_offset", p.end()))));
            }
        }
        return Expressions.and(Expressions.equal("source_topic", range.topic()), positions);
    }
}
