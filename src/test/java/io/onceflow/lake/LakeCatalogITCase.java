package io.onceflow.lake;

import io.onceflow.config.Secret;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.postgres.PostgresEndpoint;
import io.onceflow.testing.TestServices;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.data.RowData;
import org.apache.flink.util.InstantiationUtil;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.SerializableTable;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.hadoop.HadoopFileIO;
import org.apache.iceberg.hadoop.Util;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The JDBC catalog on a real PostgreSQL database, tables on a real local warehouse. */
class LakeCatalogITCase {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void ensuringTablesTwiceCreatesThemOnceWithTheDefinedLayout() {
        try (TestLake lake = TestLake.create("lake_cat")) {
            Table first = lake.catalog.ensureTable(LakeTables.paymentResults(lake.settings));
            Table again = lake.catalog.ensureTable(LakeTables.paymentResults(lake.settings));
            Table events = lake.catalog.ensureTable(LakeTables.analyticsEvents(lake.settings));
            lake.catalog.ensureTable(LakeTables.analyticsEvents(lake.settings));

            assertThat(again.uuid()).isEqualTo(first.uuid());
            assertThat(again.schema().sameSchema(first.schema())).isTrue();
            // A second ensure must not commit anything: the same metadata version.
            assertThat(metadataFile(again)).isEqualTo(metadataFile(first));
            assertThat(again.currentSnapshot()).isNull();

            Types.NestedField offset = TestLake.column(first.schema(), "source_offset");
            assertThat(offset.isRequired()).isTrue();
            assertThat(offset.type()).isEqualTo(Types.LongType.get());
            assertThat(TestLake.column(first.schema(), "status").type()).isEqualTo(Types.StringType.get());
            assertThat(TestLake.column(first.schema(), "processed_at").type())
                    .isEqualTo(Types.TimestampType.withZone());
            Types.NestedField original = TestLake.column(first.schema(), "original");
            assertThat(original.isOptional()).isTrue();
            assertThat(original.type().asStructType().field("status")).isNotNull();
            assertThat(first.spec().fields()).singleElement()
                    .satisfies(f -> assertThat(f.transform().toString()).isEqualTo("day"));
            assertThat(first.properties())
                    .containsEntry(TableProperties.WRITE_TARGET_FILE_SIZE_BYTES, Long.toString(128L << 20))
                    .containsEntry(TableProperties.DEFAULT_FILE_FORMAT, "parquet")
                    .containsEntry(TableProperties.WRITE_DISTRIBUTION_MODE, "none")
                    .containsEntry(LakeTables.DEDUP_KEY_PROPERTY, "source_topic,source_partition,source_offset");

            PartitionSpec eventsSpec = events.spec();
            assertThat(eventsSpec.fields()).extracting(f -> f.transform().toString())
                    .containsExactly("day", "identity");
            // One typed struct column per event type holds its properties (named by the type).
            Types.NestedField purchase = TestLake.column(events.schema(), "purchase");
            assertThat(purchase.isOptional()).isTrue();
            assertThat(purchase.type().asStructType().field("revenue_minor").type()).isEqualTo(Types.LongType.get());
            assertThat(TestLake.column(events.schema(), "enrichment_missing").type().isListType()).isTrue();
            assertThat(events.properties()).containsEntry(TableProperties.WRITE_DISTRIBUTION_MODE, "hash");

            assertThat(lake.catalog.catalog().listTables(Namespace.of("payments")))
                    .containsExactly(LakeTables.PAYMENT_RESULTS);
        }
    }

    @Test
    void twoJobsStartingAtOnceOnAFreshDatabaseCreateEachTableOnce() throws Exception {
        try (TestLake lake = TestLake.create("lake_race")) {
            // Both "jobs" open their own catalog at the same moment: the catalog tables, the V1
            // migration, the namespaces and the tables all race.
            String freshName = "race";
            LakeSettings settings =
                    new LakeSettings(lake.settings.warehouse(), freshName, null, null, null, null, null, null, null);
            CyclicBarrier start = new CyclicBarrier(2);
            ExecutorService threads = Executors.newFixedThreadPool(2);
            try {
                List<CompletableFuture<List<UUID>>> jobs = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    jobs.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            start.await(30, TimeUnit.SECONDS);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                        try (LakeCatalog catalog = LakeCatalog.open(settings, lake.endpoint())) {
                            UUID results = catalog.ensureTable(LakeTables.paymentResults(settings)).uuid();
                            UUID events = catalog.ensureTable(LakeTables.analyticsEvents(settings)).uuid();
                            return List.of(results, events);
                        }
                    }, threads));
                }
                List<UUID> first = jobs.get(0).get(2, TimeUnit.MINUTES);
                List<UUID> second = jobs.get(1).get(2, TimeUnit.MINUTES);
                assertThat(second).isEqualTo(first);
            } finally {
                threads.shutdownNow();
            }
            try (Connection c = lake.database.connect();
                    Statement s = c.createStatement();
                    ResultSet rows = s.executeQuery(
                            "SELECT table_namespace || '.' || table_name FROM iceberg_tables WHERE catalog_name = 'race' ORDER BY 1")) {
                List<String> tables = new ArrayList<>();
                while (rows.next()) {
                    tables.add(rows.getString(1));
                }
                assertThat(tables).containsExactly("analytics.events", "payments.results");
            }
        }
    }

    @Test
    void aFieldAddedToTheAvroSchemaBecomesAnOptionalColumnAndOldRowsStillRead() throws Exception {
        try (TestLake lake = TestLake.create("lake_evolve")) {
            Table v1 = lake.catalog.ensureTable(LakeTables.paymentResults(lake.settings));
            List<Record> oldRows = new ArrayList<>();
            LongStream.range(0, 6).forEach(n -> oldRows.add(TestLake.paymentResult(v1.schema(), n)));
            TestLake.append(v1, oldRows);

            org.apache.avro.Schema v2Avro = paymentResultWith(
                    "{\"name\": \"riskScore\", \"type\": [\"null\", \"double\"], \"default\": null}",
                    "{\"name\": \"leaderEpoch\", \"type\": [\"null\", \"int\"], \"default\": null}");
            Table v2 = lake.catalog.ensureTable(LakeTables.paymentResults(lake.settings, v2Avro));

            assertThat(TestLake.column(v2.schema(), "risk_score").isOptional()).isTrue();
            assertThat(TestLake.column(v2.schema(), "source_leader_epoch").type()).isEqualTo(Types.IntegerType.get());
            assertThat(v2.schema().columns()).hasSize(v1.schema().columns().size() + 2);

            Record newRow = TestLake.paymentResult(v2.schema(), 6);
            newRow.setField("risk_score", 0.25);
            TestLake.append(v2, List.of(newRow));

            List<Record> rows = LakeReader.rows(lake.catalog.table(LakeTables.PAYMENT_RESULTS));
            assertThat(rows).hasSize(7);
            assertThat(rows).filteredOn(r -> (long) r.getField("source_offset") < 6)
                    .hasSize(6)
                    .allSatisfy(r -> {
                        assertThat(r.getField("risk_score")).isNull();
                        assertThat(r.getField("idempotency_key")).asString().startsWith("key-");
                    });
            assertThat(rows).filteredOn(r -> (long) r.getField("source_offset") == 6)
                    .singleElement()
                    .satisfies(r -> assertThat(r.getField("risk_score")).isEqualTo(0.25));

            // A job still on the old Avro schema neither drops the new columns nor fails.
            Table stillV2 = lake.catalog.ensureTable(LakeTables.paymentResults(lake.settings));
            assertThat(stillV2.schema().findField("risk_score")).isNotNull();

            // Rows of the old records still fit the evolved table: the new columns are null.
            RowData row = LakeTables.paymentResultRows(stillV2.schema()).map(PaymentResultFixtures.numbered(6));
            assertThat(row.getArity()).isEqualTo(stillV2.schema().columns().size());
            int riskScore = stillV2.schema().columns().indexOf(stillV2.schema().findField("risk_score"));
            assertThat(row.isNullAt(riskScore)).isTrue();
        }
    }

    @Test
    void aRetypedFieldIsRefusedInOneSentence() throws Exception {
        try (TestLake lake = TestLake.create("lake_retype")) {
            lake.catalog.ensureTable(LakeTables.paymentResults(lake.settings));
            ObjectNode schema = (ObjectNode) JSON.readTree(PaymentResult.getClassSchema().toString());
            for (var field : schema.withArray("fields")) {
                if (field.get("name").asText().equals("amountMinor")) {
                    ((ObjectNode) field).put("type", "string");
                }
            }
            org.apache.avro.Schema retyped = new org.apache.avro.Schema.Parser().parse(schema.toString());

            assertThatThrownBy(() -> lake.catalog.ensureTable(LakeTables.paymentResults(lake.settings, retyped)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("Column amount_minor")
                    .hasMessageContaining("never retypes")
                    .satisfies(e -> assertOneSentence(e.getMessage()));
            assertThat(TestLake.column(lake.catalog.table(LakeTables.PAYMENT_RESULTS).schema(), "amount_minor").type())
                    .isEqualTo(Types.LongType.get());
        }
    }

    @Test
    void thePasswordIsReadWhereTheCatalogOpensAndNeverTravelsInTheJobGraph() throws Exception {
        try (TestLake lake = TestLake.create("lake_secret")) {
            // The embedded server trusts local connections, so any password opens it: the
            // marker shows where the password would have gone.
            String marker = "pw-" + UUID.randomUUID();
            Path passwordFile = TestServices.newDirectory("pw").resolve("password");
            Files.writeString(passwordFile, marker + "\n");
            PostgresEndpoint endpoint =
                    new PostgresEndpoint(lake.database.jdbcUrl(), lake.database.user(), Secret.fromFile(passwordFile.toString()));

            try (LakeCatalog catalog = LakeCatalog.open(lake.settings, endpoint)) {
                Table table = catalog.ensureTable(LakeTables.paymentResults(lake.settings));

                Configuration conf = new Configuration();
                conf.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.STREAMING);
                StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
                env.enableCheckpointing(1000);
                DataStream<RowData> rows = env.fromSequence(0, 10)
                        .map(n -> LakeTables.paymentResultRows(table.schema()).map(PaymentResultFixtures.numbered(n)))
                        .returns(LakeSinks.rowType(table.schema()));
                LakeSinks.append(rows, catalog, LakeTables.PAYMENT_RESULTS, "secret-test");

                byte[] jobGraph = InstantiationUtil.serializeObject(env.getStreamGraph().getJobGraph());
                byte[] shippedTable = InstantiationUtil.serializeObject(SerializableTable.copyOf(table));
                byte[] loader = InstantiationUtil.serializeObject(catalog.loader());
                for (byte[] shipped : List.of(jobGraph, shippedTable, loader)) {
                    assertThat(new String(shipped, StandardCharsets.ISO_8859_1)).doesNotContain(marker);
                }
                assertThat(new String(jobGraph, StandardCharsets.ISO_8859_1)).contains(passwordFile.toString());
            }

            // Unset until the catalog opens: building a loader reads nothing, opening it does.
            PostgresEndpoint unset = new PostgresEndpoint(
                    lake.database.jdbcUrl(), lake.database.user(), Secret.fromEnv("ONCEFLOW_TEST_UNSET_" + System.nanoTime()));
            var loader = LakeCatalog.loader(lake.settings, unset);
            assertThatThrownBy(loader::loadCatalog)
                    .hasMessageContaining("is not set; it holds a password");
        }
    }

    @Test
    void theTableShippedToWritersUsesTheForklessLocalFileSystem() throws Exception {
        try (TestLake lake = TestLake.create("lake_fs")) {
            Table table = lake.catalog.ensureTable(LakeTables.paymentResults(lake.settings));
            Table shipped = (Table) InstantiationUtil.clone((java.io.Serializable) SerializableTable.copyOf(table));

            assertThat(shipped.location()).startsWith("file:");
            assertThat(shipped.io()).isInstanceOf(HadoopFileIO.class);
            var conf = ((HadoopFileIO) shipped.io()).conf();
            assertThat(Util.getFs(new org.apache.hadoop.fs.Path(shipped.location()), conf))
                    .isInstanceOf(ForklessLocalFileSystem.class);
        }
    }

    @Test
    void anUnreachableCatalogDatabaseFailsInOneSentence() {
        PostgresEndpoint nowhere = new PostgresEndpoint(
                "jdbc:postgresql://127.0.0.1:1/none?connectTimeout=2", "nobody", Secret.none());
        assertThatThrownBy(() -> LakeCatalog.open(LakeSettings.defaults(), nowhere))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("Cannot reach the lake catalog database jdbc:postgresql://127.0.0.1:1/none")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    /** The PaymentResult schema with {@code topLevelField} added, and {@code sourceField} in source. */
    private static org.apache.avro.Schema paymentResultWith(String topLevelField, String sourceField) throws Exception {
        ObjectNode schema = (ObjectNode) JSON.readTree(PaymentResult.getClassSchema().toString());
        ArrayNode fields = schema.withArray("fields");
        for (var field : fields) {
            if (field.get("name").asText().equals("source")) {
                ((ObjectNode) field.get("type")).withArray("fields").add(JSON.readTree(sourceField));
            }
        }
        fields.add(JSON.readTree(topLevelField));
        return new org.apache.avro.Schema.Parser().parse(schema.toString());
    }

    private static String metadataFile(Table table) {
        return ((HasTableOperations) table).operations().current().metadataFileLocation();
    }

    static void assertOneSentence(String message) {
        assertThat(message).doesNotContain("\n").endsWith(".");
        assertThat(message.substring(0, message.length() - 1)).doesNotContain(". ");
    }
}
