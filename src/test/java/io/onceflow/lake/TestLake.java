package io.onceflow.lake;

import io.onceflow.config.Secret;
import io.onceflow.postgres.PostgresEndpoint;
import io.onceflow.testing.TestServices;
import io.onceflow.testing.TestServices.PostgresDatabase;

import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.encryption.EncryptedOutputFile;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.types.Types;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/** A lake for one test: a fresh catalog database and a fresh local warehouse directory. */
public final class TestLake implements AutoCloseable {

    /** Midnight UTC of the first day the test rows fall on. */
    static final Instant DAY_ZERO = Instant.parse("2025-06-01T00:00:00Z");

    private static final AtomicInteger WRITER_IDS = new AtomicInteger();

    final PostgresDatabase database;
    final Path warehouse;
    final LakeSettings settings;
    final LakeCatalog catalog;

    private TestLake(PostgresDatabase database, Path warehouse, LakeSettings settings) {
        this.database = database;
        this.warehouse = warehouse;
        this.settings = settings;
        this.catalog = LakeCatalog.open(settings, endpoint());
    }

    static TestLake create(String prefix) {
        PostgresDatabase database = TestServices.newDatabase(prefix);
        Path warehouse = TestServices.newDirectory("wh");
        return new TestLake(database, warehouse, LakeSettings.defaults().withWarehouse(warehouse.toUri().toString()));
    }

    PostgresEndpoint endpoint() {
        return new PostgresEndpoint(database.jdbcUrl(), database.user(), Secret.none());
    }

    /** Another catalog on the same database and warehouse, as a second job would open. */
    LakeCatalog openAnother() {
        return LakeCatalog.open(settings, endpoint());
    }

    @Override
    public void close() {
        catalog.close();
    }

    /**
     * A {@code payments.results} row for number {@code n}: offset {@code n} of partition {@code n
     * % 3} of {@code payments.requests}, processed on day {@code n % 3} after {@link #DAY_ZERO}.
     */
    static Record paymentResult(Schema schema, long n) {
        GenericRecord row = GenericRecord.create(schema);
        Instant processed = DAY_ZERO.plusSeconds(86_400L * (n % 3) + n);
        row.setField("idempotency_key", "key-" + n);
        row.setField("customer_id", "customer-" + (n % 17));
        row.setField("payment_id", "payment-" + n);
        row.setField("status", "COMPLETED");
        row.setField("merchant_id", "merchant-1");
        row.setField("amount_minor", 100 + n);
        row.setField("currency", "EUR");
        row.setField("requested_at", OffsetDateTime.ofInstant(processed.minusSeconds(1), ZoneOffset.UTC));
        row.setField("processed_at", OffsetDateTime.ofInstant(processed, ZoneOffset.UTC));
        row.setField("source_topic", "payments.requests");
        row.setField("source_partition", (int) (n % 3));
        row.setField("source_offset", n);
        return row;
    }

    /** Writes {@code rows} into one file per partition and commits them as one snapshot. */
    public static List<DataFile> append(Table table, List<Record> rows) {
        List<DataFile> written = write(table, rows);
        AppendFiles append = table.newAppend();
        written.forEach(append::appendFile);
        append.commit();
        return written;
    }

    /** Writes {@code rows} into one file per partition, committing nothing. */
    static List<DataFile> write(Table table, List<Record> rows) {
        table.refresh();
        Schema schema = table.schema();
        InternalRecordWrapper wrapper = new InternalRecordWrapper(schema.asStruct());
        Map<PartitionKey, List<Record>> byPartition = new LinkedHashMap<>();
        for (Record row : rows) {
            PartitionKey key = new PartitionKey(table.spec(), schema);
            key.partition(wrapper.wrap(row));
            byPartition.computeIfAbsent(key, k -> new ArrayList<>()).add(row);
        }
        OutputFileFactory files =
                OutputFileFactory.builderFor(table, WRITER_IDS.incrementAndGet(), 1)
                        .format(FileFormat.PARQUET)
                        .build();
        GenericAppenderFactory appenders = new GenericAppenderFactory(schema, table.spec());
        List<DataFile> written = new ArrayList<>();
        try {
            for (Map.Entry<PartitionKey, List<Record>> partition : byPartition.entrySet()) {
                EncryptedOutputFile out = files.newOutputFile(table.spec(), partition.getKey());
                DataWriter<Record> writer = appenders.newDataWriter(out, FileFormat.PARQUET, partition.getKey());
                try (writer) {
                    partition.getValue().forEach(writer::write);
                }
                written.add(writer.toDataFile());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return written;
    }

    /** Paths of the data files the table's current snapshot references. */
    static Set<String> liveDataFiles(Table table) {
        table.refresh();
        Set<String> paths = new HashSet<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
            tasks.forEach(task -> paths.add(task.file().location()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return paths;
    }

    /** The column {@code name} of {@code schema}, failing when it is absent. */
    static Types.NestedField column(Schema schema, String name) {
        Types.NestedField field = schema.findField(name);
        if (field == null) {
            throw new AssertionError("No column " + name + " in " + schema);
        }
        return field;
    }
}
