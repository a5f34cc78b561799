package io.onceflow.ops.reconcile;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.onceflow.postgres.PostgresEndpoint;

import org.apache.iceberg.data.Record;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The per-type window totals of {@code analytics_minute}, recomputed from lake rows of {@code
 * analytics.events} the way the job's windows compute them: events, distinct actors ({@code
 * user_id}, else {@code anonymous:<anonymous_id>}), and purchase revenue per currency, over the
 * non-late rows of each (type, window start).
 */
public final class MinuteTotals {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One (type, window) row's content. */
    public record Minute(long events, long uniqueUsers, Map<String, Long> revenueByCurrency) {}

    private final long windowMillis;
    private final Map<String, Long> events = new HashMap<>();
    private final Map<String, Set<String>> users = new HashMap<>();
    private final Map<String, Map<String, Long>> revenue = new HashMap<>();

    public MinuteTotals(java.time.Duration window) {
        this.windowMillis = window.toMillis();
    }

    /** {@code type@windowStart}, the key of a row. */
    public static String key(String type, Instant windowStart) {
        return type + "@" + windowStart;
    }

    public Instant windowStart(Instant occurredAt) {
        long t = occurredAt.toEpochMilli();
        return Instant.ofEpochMilli(t - Math.floorMod(t, windowMillis));
    }

    /** The key of the window a lake row falls in. */
    public String keyOf(Record row) {
        Instant occurredAt = ((OffsetDateTime) row.getField("occurred_at")).toInstant();
        return key((String) row.getField("type"), windowStart(occurredAt));
    }

    /** Adds a lake row; late rows count in no window. */
    public void add(Record row) {
        if (Boolean.TRUE.equals(row.getField("late"))) {
            return;
        }
        String key = keyOf(row);
        events.merge(key, 1L, Long::sum);
        String userId = (String) row.getField("user_id");
        users.computeIfAbsent(key, k -> new HashSet<>()).add(userId != null ? userId : "anonymous:" + row.getField("anonymous_id"));
        Map<String, Long> perCurrency = revenue.computeIfAbsent(key, k -> new TreeMap<>());
        if ("purchase".equals(row.getField("type"))) {
            Record purchase = (Record) row.getField("purchase");
            perCurrency.merge((String) purchase.getField("currency"), (Long) purchase.getField("revenue_minor"), Long::sum);
        }
    }

    public Map<String, Minute> totals() {
        Map<String, Minute> totals = new TreeMap<>();
        events.forEach((key, n) -> totals.put(key, new Minute(n, users.get(key).size(), revenue.get(key))));
        return totals;
    }

    /** The rows of {@code analytics_minute} with window starts in {@code [from, to]}, by key. */
    public static Map<String, Minute> table(PostgresEndpoint postgres, Instant from, Instant to) {
        Map<String, Minute> table = new TreeMap<>();
        try (Connection connection = postgres.connect();
             PreparedStatement statement = connection.prepareStatement(
                     "SELECT event_type, window_start, events, unique_users, revenue_by_currency::text FROM analytics_minute"
                             + " WHERE window_start >= ? AND window_start <= ?")) {
            statement.setObject(1, OffsetDateTime.ofInstant(from, ZoneOffset.UTC));
            statement.setObject(2, OffsetDateTime.ofInstant(to, ZoneOffset.UTC));
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    Map<String, Long> revenueByCurrency = new TreeMap<>(JSON.readValue(rs.getString(5), new TypeReference<Map<String, Long>>() {}));
                    table.put(key(rs.getString(1), rs.getObject(2, OffsetDateTime.class).toInstant()),
                            new Minute(rs.getLong(3), rs.getLong(4), revenueByCurrency));
                }
            }
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("Cannot read analytics_minute at " + postgres + ": " + e.getMessage(), e);
        }
        return table;
    }
}
