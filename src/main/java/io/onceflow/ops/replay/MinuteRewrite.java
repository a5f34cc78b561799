package io.onceflow.ops.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.onceflow.analytics.AnalyticsConfig;
import io.onceflow.ingest.TopicRange;
import io.onceflow.lake.LakeCatalog;
import io.onceflow.lake.LakeTables;
import io.onceflow.ops.reconcile.AnalyticsReconciler;
import io.onceflow.ops.reconcile.MinuteTotals;
import io.onceflow.postgres.PostgresEndpoint;

import org.apache.iceberg.Table;
import org.apache.kafka.clients.consumer.KafkaConsumer;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;

/**
 * The second half of an analytics replay: the {@code analytics_minute} windows the range's events
 * fall in, replaced by their recomputation from the lake's non-late rows of those windows (the
 * replayed events and every other event of the same windows), in one PostgreSQL transaction.
 * A row whose content is already right is left alone ({@code updated_at} and {@code updates}
 * included), so a second replay of the range changes nothing; a changed row counts one more
 * {@code updates} than firings.
 */
public final class MinuteRewrite {

    static final String UPSERT =
            "INSERT INTO analytics_minute (event_type, window_start, events, unique_users, revenue_by_currency, firing, updates, updated_at)"
                    + " VALUES (?, ?, ?, ?, ?::jsonb, 1, 1, now())"
                    + " ON CONFLICT (event_type, window_start) DO UPDATE SET"
                    + " events = EXCLUDED.events, unique_users = EXCLUDED.unique_users,"
                    + " revenue_by_currency = EXCLUDED.revenue_by_currency,"
                    + " updates = analytics_minute.updates + 1, updated_at = now()"
                    + " WHERE (analytics_minute.events, analytics_minute.unique_users, analytics_minute.revenue_by_currency)"
                    + " IS DISTINCT FROM (EXCLUDED.events, EXCLUDED.unique_users, EXCLUDED.revenue_by_currency)";

    private static final ObjectMapper JSON = new ObjectMapper();

    private MinuteRewrite() {}

    /** Windows recomputed, and rows written (inserted or changed). */
    public record Result(int windows, int written) {}

    public static Result rewrite(AnalyticsConfig config, TopicRange range) {
        AnalyticsReconciler.RangeEvents events;
        try (KafkaConsumer<byte[], byte[]> consumer = TopicRange.consumer(config.kafka().bootstrapServers(), config.kafka().properties())) {
            events = AnalyticsReconciler.read(consumer, range);
        }
        var named = events.named();
        Map<String, MinuteTotals.Minute> recomputed;
        AnalyticsReconciler.LakeEvents lake;
        try (LakeCatalog catalog = LakeCatalog.open(config.lake(), config.lake().catalogEndpoint(config.postgres()))) {
            Table table = catalog.table(LakeTables.ANALYTICS_EVENTS);
            MinuteTotals totals = new MinuteTotals(config.windows().size());
            lake = AnalyticsReconciler.lakeEvents(table, named, named, totals);
            if (lake.firstWindow() == null) {
                return new Result(0, 0);
            }
            recomputed = AnalyticsReconciler.recompute(table, totals, lake.firstWindow(), lake.lastWindow(), config.windows().size());
        }
        PostgresEndpoint postgres = config.postgres().endpoint();
        int written = 0;
        try (Connection connection = postgres.connect()) {
            connection.setAutoCommit(false);
            try (PreparedStatement upsert = connection.prepareStatement(UPSERT)) {
                for (String key : lake.windows()) {
                    MinuteTotals.Minute minute = recomputed.get(key);
                    int at = key.lastIndexOf('@');
                    upsert.setString(1, key.substring(0, at));
                    upsert.setObject(2, OffsetDateTime.ofInstant(Instant.parse(key.substring(at + 1)), ZoneOffset.UTC));
                    upsert.setLong(3, minute.events());
                    upsert.setLong(4, minute.uniqueUsers());
                    upsert.setString(5, JSON.writeValueAsString(minute.revenueByCurrency()));
                    written += upsert.executeUpdate();
                }
                connection.commit();
            } catch (SQLException | com.fasterxml.jackson.core.JsonProcessingException e) {
                connection.rollback();
                throw e;
            }
        } catch (SQLException | com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("Cannot rewrite the analytics_minute windows at " + postgres + ": " + e.getMessage(), e);
        }
        return new Result(lake.windows().size(), written);
    }
}
