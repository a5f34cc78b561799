package io.onceflow.analytics;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.onceflow.analytics.model.AnalyticsMinute;
import io.onceflow.sinks.postgres.PostgresSink;
import io.onceflow.sinks.postgres.PostgresStatement;

import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.TreeMap;

/**
 * PostgreSQL's {@code analytics_minute} as the job writes it: each window firing is an upsert
 * keyed by (event type, window start), through the two-phase-commit {@link PostgresSink}, so a
 * late re-firing replaces the totals of the same row.
 *
 * <p>Revenue is a {@code jsonb} object per currency ({@code {"EUR": 129900, "USD": 4500}}):
 * amounts in different currencies are never added, and the row stays one per (type, minute), the
 * key the issue names, instead of one per currency with a currency column in the key.
 *
 * <p>{@code firing} is the window's firing number, {@code updates} counts the writes the row
 * received ({@code + 1} in the statement itself). Exactly-once shows in their equality: each
 * firing is committed once, so a row fired n times was written n times; a replayed or
 * duplicated transaction would make {@code updates} exceed {@code firing}. The statement never
 * leaves a row unchanged, so {@code rowsSkippedByConflict} stays zero by construction. An upsert
 * runs one row per statement ({@link PostgresStatement#of}): in one multi-row statement a
 * re-firing of the same row would fail it.
 *
 * <p>Pitfall: a prepared transaction holds its rows' locks until its checkpoint completes. A
 * re-firing of the same row in the next checkpoint waits for that commit; the writer therefore
 * sends its statements only at the checkpoint barrier (batch size above the rows of one
 * checkpoint), by which time the previous checkpoint's commit has normally run.
 */
public final class AnalyticsMinuteRows {

    static final String UPSERT =
            "INSERT INTO analytics_minute (event_type, window_start, events, unique_users, revenue_by_currency,"
                    + " firing, updates, updated_at)"
                    + " VALUES (?, ?, ?, ?, ?::jsonb, ?, 1, now())"
                    + " ON CONFLICT (event_type, window_start) DO UPDATE SET"
                    + " events = EXCLUDED.events, unique_users = EXCLUDED.unique_users,"
                    + " revenue_by_currency = EXCLUDED.revenue_by_currency, firing = EXCLUDED.firing,"
                    + " updates = analytics_minute.updates + 1, updated_at = now()";

    private static final ObjectMapper JSON = new ObjectMapper();

    private AnalyticsMinuteRows() {}

    public static PostgresStatement<AnalyticsMinute> statement() {
        return PostgresStatement.of(UPSERT, AnalyticsMinuteRows::bind);
    }

    public static PostgresSink<AnalyticsMinute> sink(AnalyticsConfig config) {
        return PostgresSink.<AnalyticsMinute>builder()
                .setEndpoint(config.postgres().endpoint())
                .setTransactionNamespace(config.job().namespace())
                .setSinkName("analytics-minute")
                .setStatement(statement())
                .setBatchSize(config.aggregateSink().batchSize())
                .build();
    }

    private static void bind(PostgresStatement.Row row, AnalyticsMinute minute) throws SQLException {
        row.setString(1, minute.getEventType());
        row.setObject(2, OffsetDateTime.ofInstant(minute.getWindowStart(), ZoneOffset.UTC));
        row.setLong(3, minute.getEvents());
        row.setLong(4, minute.getUniqueUsers());
        try {
            row.setString(5, JSON.writeValueAsString(new TreeMap<>(minute.getRevenueByCurrency())));
        } catch (JsonProcessingException e) {
            throw new SQLException("Revenue of " + minute.getEventType() + " cannot be written as JSON", e);
        }
        row.setInt(6, minute.getFiring());
    }
}
