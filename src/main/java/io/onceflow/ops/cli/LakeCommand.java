package io.onceflow.ops.cli;

import io.onceflow.config.ConfigException;
import io.onceflow.lake.LakeCatalog;
import io.onceflow.lake.LakeConfig;
import io.onceflow.lake.LakeMaintenance;
import io.onceflow.lake.LakeStats;
import org.apache.flink.configuration.MemorySize;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchTableException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;

/** {@code onceflow lake}: the Iceberg tables of the data lake. */
@Command(
        name = "lake",
        mixinStandardHelpOptions = true,
        synopsisSubcommandLabel = "COMMAND",
        description = "The data lake's Iceberg tables: sizes and maintenance.",
        subcommands = {LakeCommand.Stats.class, LakeCommand.Maintain.class})
final class LakeCommand implements Callable<Integer> {

    @ParentCommand OnceflowCli cli;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(
                spec.commandLine(),
                "Missing command: choose one of " + String.join(", ", spec.subcommands().keySet()));
    }

    /** Where the lake is: a job's YAML (its postgres and lake sections) and overrides. */
    static final class Options {
        @Option(
                names = "--config",
                required = true,
                paramLabel = "FILE",
                description = "A job's YAML file; its postgres and lake sections say where the lake is.")
        Path config;

        @Option(
                names = "--set",
                paramLabel = "KEY=VALUE",
                description = "Override a postgres.* or lake.* setting, e.g. lake.warehouse=file:///data/lake.")
        Map<String, String> overrides = new LinkedHashMap<>();

        @Parameters(index = "0", paramLabel = "TABLE", description = "The table, e.g. payments.results.")
        String table;

        <T> T withTable(CommandSpec spec, Function<Opened, T> work) {
            LakeConfig lake;
            try {
                lake = LakeConfig.load(config, overrides);
            } catch (ConfigException e) {
                throw new ParameterException(spec.commandLine(), OnceflowCli.withoutFinalStop(e.getMessage()));
            }
            TableIdentifier identifier = TableIdentifier.parse(table);
            try (LakeCatalog catalog = LakeCatalog.open(lake.lake(), lake.catalogEndpoint())) {
                Table opened;
                try {
                    opened = catalog.table(identifier);
                } catch (NoSuchTableException e) {
                    throw new CliFailure(
                            "Table " + identifier + " does not exist in lake catalog " + lake.lake().name() + ".");
                }
                return work.apply(new Opened(lake, opened));
            }
        }
    }

    record Opened(LakeConfig config, Table table) {}

    @Command(
            name = "stats",
            mixinStandardHelpOptions = true,
            description = "Prints a table's snapshots, rows, data files, bytes and partitions.")
    static final class Stats implements Callable<Integer> {

        @ParentCommand LakeCommand lake;

        @Spec CommandSpec spec;

        @Mixin Options options;

        @Override
        public Integer call() {
            String text = options.withTable(spec, opened -> LakeStats.of(opened.table()).toText());
            lake.cli.io().out().print(text);
            return 0;
        }
    }

    @Command(
            name = "maintain",
            mixinStandardHelpOptions = true,
            description = {
                "Compacts a table's small data files, merges its small manifests, then expires its"
                        + " old snapshots.",
                "Safe while a job writes the table. The snapshot a running job's sink needs to"
                        + " restore is never expired. The jobs' commits never merge manifests, so"
                        + " run this regularly (deploy/k8s/lake-maintenance-cronjob.yaml)."
            })
    static final class Maintain implements Callable<Integer> {

        @ParentCommand LakeCommand lake;

        @Spec CommandSpec spec;

        @Mixin Options options;

        @Option(
                names = "--target-file-size",
                paramLabel = "SIZE",
                description = "Size to compact files to, e.g. 128mb. Default: lake.target-file-size.")
        String targetFileSize;

        @Option(
                names = "--expire-older-than",
                paramLabel = "DURATION",
                converter = DurationConverter.class,
                description = "Expire snapshots older than this, e.g. 7d. Default: lake.snapshot-max-age.")
        Duration expireOlderThan;

        @Option(
                names = "--retain-last",
                paramLabel = "N",
                description = "Keep at least the last N snapshots. Default: lake.snapshots-to-keep.")
        Integer retainLast;

        @Option(names = "--no-compaction", description = "Leave the data files as they are.")
        boolean noCompaction;

        @Option(names = "--no-manifest-rewrite", description = "Leave the manifests as they are.")
        boolean noManifestRewrite;

        @Option(names = "--no-expiry", description = "Keep every snapshot.")
        boolean noExpiry;

        @Override
        public Integer call() {
            if (retainLast != null && retainLast < 1) {
                throw new ParameterException(spec.commandLine(), "--retain-last must be at least 1");
            }
            Long target = targetFileSize == null ? null : parseSize();
            String report = options.withTable(spec, opened -> {
                StringBuilder out = new StringBuilder();
                var settings = opened.config().lake();
                if (!noCompaction) {
                    long size = target != null ? target : settings.targetFileSize();
                    LakeMaintenance.Compaction c = LakeMaintenance.compact(opened.table(), size);
                    out.append(String.format("compaction: %d files rewritten into %d%n", c.filesRewritten(), c.filesAdded()));
                }
                if (!noManifestRewrite) {
                    LakeMaintenance.ManifestRewrite m = LakeMaintenance.rewriteManifests(opened.table());
                    out.append(String.format(
                            "manifests: %d rewritten into %d%n", m.manifestsRewritten(), m.manifestsAdded()));
                }
                if (!noExpiry) {
                    Duration age = expireOlderThan != null ? expireOlderThan : settings.snapshotMaxAge();
                    int keep = retainLast != null ? retainLast : settings.snapshotsToKeep();
                    LakeMaintenance.Expiry e = LakeMaintenance.expireSnapshots(opened.table(), Instant.now().minus(age), keep);
                    out.append(String.format(
                            "expiry: %d of %d snapshots expired (older than %s, last %d kept)%n",
                            e.snapshotsExpired(), e.snapshotsBefore(), e.effectiveCutoff(), keep));
                }
                return out.toString();
            });
            lake.cli.io().out().print(report);
            return 0;
        }

        private long parseSize() {
            try {
                return MemorySize.parse(targetFileSize.strip().toLowerCase(Locale.ROOT)).getBytes();
            } catch (IllegalArgumentException e) {
                throw new ParameterException(
                        spec.commandLine(), "--target-file-size must be a size such as 128mb, not '" + targetFileSize + "'");
            }
        }
    }
}
