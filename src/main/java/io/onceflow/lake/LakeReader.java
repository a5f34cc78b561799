package io.onceflow.lake;

import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads a lake table's rows in this process, with Iceberg's generic reader: for tests and
 * reconciliation of modest tables (a big table wants a query engine).
 *
 * <pre>{@code
 * long n = LakeReader.count(table);
 * List<Record> today = LakeReader.rows(table, Expressions.greaterThanOrEqual("processed_at", "2025-06-01T00:00:00Z"));
 * today.get(0).getField("source_offset");
 * }</pre>
 *
 * Rows are those of the current snapshot, read at the moment of the call; timestamps with zone
 * come back as {@code OffsetDateTime} in UTC, strings as {@code String}, structs as {@link
 * Record}, lists and maps as Java collections.
 */
public final class LakeReader {

    private LakeReader() {}

    public static List<Record> rows(Table table) {
        return rows(table, Expressions.alwaysTrue());
    }

    /** The rows that match {@code filter}. */
    public static List<Record> rows(Table table, Expression filter) {
        List<Record> rows = new ArrayList<>();
        forEach(table, filter, row -> rows.add(row.copy()));
        return rows;
    }

    public static long count(Table table) {
        long[] n = {0};
        forEach(table, Expressions.alwaysTrue(), row -> n[0]++);
        return n[0];
    }

    /** Streams the rows that match {@code filter} without holding them (the row may be reused). */
    public static void forEach(Table table, Expression filter, Consumer<Record> action) {
        table.refresh();
        try (CloseableIterable<Record> rows = IcebergGenerics.read(table).where(filter).build()) {
            rows.forEach(action);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
