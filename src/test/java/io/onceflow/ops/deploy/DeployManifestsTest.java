package io.onceflow.ops.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.onceflow.analytics.AnalyticsConfig;
import io.onceflow.lake.LakeConfig;
import io.onceflow.lake.LakeTables;
import io.onceflow.ops.cli.CliArguments;
import io.onceflow.ops.jobs.JobSpec;
import io.onceflow.payments.PaymentsConfig;
import org.apache.flink.util.TimeUtils;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The production deploy files against the job files they deploy, since no Kubernetes runs here:
 * one FlinkDeployment per {@code jobs/*.yaml} and no other, each in savepoint upgrade mode with
 * RocksDB incremental checkpoints retained on cancellation, the job's parallelism and checkpoint
 * interval, a fixed max parallelism, Prometheus metrics and resources, and arguments that give
 * the job its own file, as the image lays it out, with overrides of settings that exist; the image
 * on the project's Flink version; the dashboard on metrics that exist; a maintenance CronJob for
 * each job's lake table, with that job's image, settings and secret, and arguments the CLI takes.
 */
class DeployManifestsTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path JOBS = Path.of("jobs");
    private static final Path MANIFESTS = Path.of("deploy/k8s");
    private static final String SUFFIX = "-flinkdeployment.yaml";
    private static final String IMAGE_JOBS = "/opt/flink/usrlib/jobs/";

    @Test
    void everyJobHasAManifestAndEveryManifestAJob() throws IOException {
        Set<String> jobs = names(JOBS, ".yaml");
        Set<String> manifests = names(MANIFESTS, SUFFIX);
        assertThat(jobs).as("job files in jobs/").isNotEmpty();
        assertThat(manifests).as("FlinkDeployments in deploy/k8s for the job files " + jobs).isEqualTo(jobs);
    }

    @TestFactory
    Stream<DynamicTest> eachManifestMatchesItsJobFile() throws IOException {
        return names(MANIFESTS, SUFFIX).stream().map(job -> DynamicTest.dynamicTest(job, () -> checkManifest(job)));
    }

    private static void checkManifest(String job) throws Exception {
        JsonNode jobFile = YAML.readTree(JOBS.resolve(job + ".yaml").toFile());
        JsonNode manifest = YAML.readTree(MANIFESTS.resolve(job + SUFFIX).toFile());
        assertThat(manifest.path("apiVersion").asText()).isEqualTo("flink.apache.org/v1beta1");
        assertThat(manifest.path("kind").asText()).isEqualTo("FlinkDeployment");
        JsonNode spec = manifest.path("spec");
        JsonNode flink = spec.path("flinkConfiguration");
        JsonNode jobSpec = spec.path("job");

        // Upgrades go through savepoints and never drop state silently.
        assertThat(jobSpec.path("upgradeMode").asText()).isEqualTo("savepoint");
        assertThat(jobSpec.path("allowNonRestoredState").asBoolean(false)).isFalse();
        assertThat(flink.path("state.backend.type").asText()).isEqualTo("rocksdb");
        assertThat(flink.path("execution.checkpointing.incremental").asText()).isEqualTo("true");
        assertThat(flink.path("execution.checkpointing.externalized-checkpoint-retention").asText()).isEqualTo("RETAIN_ON_CANCELLATION");
        assertThat(flink.path("execution.checkpointing.savepoint-dir").asText()).isNotBlank();
        assertThat(flink.path("execution.checkpointing.dir").asText()).isNotBlank();
        assertThat(flink.path("pipeline.max-parallelism").asInt()).as("a fixed max parallelism (key groups)").isPositive();
        assertThat(flink.path("metrics.reporter.prom.factory.class").asText())
                .isEqualTo("org.apache.flink.metrics.prometheus.PrometheusReporterFactory");

        // The job file as the manifest's arguments make it.
        List<String> args = texts(jobSpec.path("args"));
        assertThat(args).as("job.args").containsSubsequence("--config", IMAGE_JOBS + job + ".yaml");
        Map<String, String> overrides = overrides(args);
        overrides.keySet().forEach(key -> assertThat(exists(jobFile, key))
                .as("--set %s names a setting of jobs/%s.yaml", key, job).isTrue());
        JsonNode effective = withOverrides(jobFile, overrides);

        int parallelism = effective.path("job").path("parallelism").asInt();
        assertThat(jobSpec.path("parallelism").asInt()).as("parallelism").isEqualTo(parallelism);
        assertThat(flink.path("pipeline.max-parallelism").asInt()).isGreaterThanOrEqualTo(parallelism);
        assertThat(TimeUtils.parseDuration(flink.path("execution.checkpointing.interval").asText()))
                .as("checkpoint interval")
                .isEqualTo(TimeUtils.parseDuration(effective.path("job").path("checkpoint-interval").asText()));
        String namespace = effective.path("job").path("namespace").asText();
        assertThat(namespace).as("job.namespace (transactional id prefix)").isNotBlank();

        // The jar and entry class the image holds.
        assertThat(jobSpec.path("jarURI").asText()).isEqualTo("local:///opt/flink/usrlib/onceflow-job.jar");
        String entryClass = jobSpec.path("entryClass").asText();
        assertThat(Class.forName(entryClass).getMethod("main", String[].class)).isNotNull();

        for (String role : List.of("jobManager", "taskManager")) {
            JsonNode resource = spec.path(role).path("resource");
            assertThat(resource.path("memory").asText()).as(role + " memory").isNotBlank();
            assertThat(resource.path("cpu").asDouble()).as(role + " cpu").isPositive();
        }

        // The entry class is the job's own, the one the CLI submits it with.
        assertThat(entryClass).as("entryClass of " + job).isEqualTo(JobSpec.knownEntryClass(job).orElse("(no known entry class)"));
        // The job's own loader accepts the file with the manifest's overrides.
        int loadedParallelism = switch (job) {
            case "payments" -> {
                assertThat(entryClass).isEqualTo(io.onceflow.payments.PaymentsJob.class.getName());
                yield PaymentsConfig.load(JOBS.resolve("payments.yaml"), overrides).job().parallelism();
            }
            case "analytics" -> {
                assertThat(entryClass).isEqualTo(io.onceflow.analytics.AnalyticsJob.class.getName());
                yield AnalyticsConfig.load(JOBS.resolve("analytics.yaml"), overrides).job().parallelism();
            }
            default -> throw new AssertionError("No configuration loader known for job '" + job + "': add it here.");
        };
        assertThat(loadedParallelism).isEqualTo(jobSpec.path("parallelism").asInt());
    }

    @Test
    void eachJobsLakeTableIsMaintainedOnAScheduleWithTheJobsOwnSettings() throws Exception {
        List<JsonNode> cronJobs;
        try (var documents = YAML.readValues(YAML.createParser(MANIFESTS.resolve("lake-maintenance-cronjob.yaml").toFile()), JsonNode.class)) {
            cronJobs = documents.readAll();
        }
        Map<String, String> maintainedTableByJob = new LinkedHashMap<>();
        for (JsonNode cronJob : cronJobs) {
            String name = cronJob.path("metadata").path("name").asText();
            assertThat(cronJob.path("apiVersion").asText()).as(name).isEqualTo("batch/v1");
            assertThat(cronJob.path("kind").asText()).as(name).isEqualTo("CronJob");
            assertThat(cronJob.path("spec").path("concurrencyPolicy").asText())
                    .as("%s: two runs on one table would race each other's commits", name).isEqualTo("Forbid");
            JsonNode containers = cronJob.path("spec").path("jobTemplate").path("spec").path("template").path("spec").path("containers");
            assertThat(containers).as(name).hasSize(1);
            JsonNode container = containers.get(0);
            List<String> command = texts(container.path("command"));
            assertThat(command).as(name).startsWith("java", "-cp", "/opt/flink/usrlib/onceflow-job.jar:/opt/flink/lib/*");
            assertThat(Class.forName(command.get(command.size() - 1)).getMethod("main", String[].class)).isNotNull();

            List<String> args = texts(container.path("args"));
            assertThat(CliArguments.commands(args)).as("%s: the CLI accepts %s", name, args).containsExactly("lake", "maintain");
            int config = args.indexOf("--config");
            assertThat(config).as(name).isNotNegative();
            String job = Path.of(args.get(config + 1)).getFileName().toString().replaceFirst("\\.yaml$", "");
            assertThat(args.get(config + 1)).as(name).isEqualTo(IMAGE_JOBS + job + ".yaml");
            maintainedTableByJob.put(job, args.get(args.size() - 1));

            // The same image, catalog and warehouse as the job that writes the table.
            JsonNode deployment = YAML.readTree(MANIFESTS.resolve(job + SUFFIX).toFile());
            assertThat(container.path("image").asText()).as(name).isEqualTo(deployment.path("spec").path("image").asText());
            Map<String, String> jobOverrides = overrides(texts(deployment.path("spec").path("job").path("args")));
            Map<String, String> overrides = overrides(args);
            assertThat(overrides).as(name).containsKeys("postgres.url", "lake.warehouse");
            assertThat(jobOverrides).as("%s: --set values of the %s FlinkDeployment", name, job).containsAllEntriesOf(overrides);
            assertThat(secretVariables(container)).as(name)
                    .isEqualTo(secretVariables(deployment.path("spec").path("podTemplate").path("spec").path("containers").get(0)));
            // The opens every Flink JVM on Java 17 needs, as the launcher passes them.
            String javaOptions = "";
            for (JsonNode variable : container.path("env")) {
                if (variable.path("name").asText().equals("JDK_JAVA_OPTIONS")) {
                    javaOptions = variable.path("value").asText();
                }
            }
            assertThat(javaOptions.split("\\s+")).as("%s: JDK_JAVA_OPTIONS", name).contains(launcherOpens());
            assertThat(LakeConfig.load(JOBS.resolve(job + ".yaml"), overrides).lake().warehouse())
                    .isEqualTo(overrides.get("lake.warehouse"));
        }
        assertThat(maintainedTableByJob).isEqualTo(Map.of(
                "payments", LakeTables.PAYMENT_RESULTS.toString(),
                "analytics", LakeTables.ANALYTICS_EVENTS.toString()));
        assertThat(maintainedTableByJob.keySet()).as("every job in jobs/").isEqualTo(names(JOBS, ".yaml"));
    }

    @Test
    void theImageIsTheProjectsFlinkWithTheJarAndJobFilesWhereTheManifestsLookForThem() throws IOException {
        String dockerfile = Files.readString(Path.of("deploy/docker/Dockerfile"));
        String pom = Files.readString(Path.of("pom.xml"));
        Matcher flinkVersion = Pattern.compile("<flink.version>([^<]+)</flink.version>").matcher(pom);
        assertThat(flinkVersion.find()).isTrue();
        assertThat(dockerfile).containsPattern("(?m)^FROM flink:" + Pattern.quote(flinkVersion.group(1)) + "-java17$");
        assertThat(dockerfile).containsPattern("(?m)^COPY .*target/onceflow-\\*-job\\.jar /opt/flink/usrlib/onceflow-job\\.jar$");
        assertThat(dockerfile).containsPattern("(?m)^COPY .*jobs/ " + Pattern.quote(IMAGE_JOBS) + "$");
        for (String job : names(JOBS, ".yaml")) {
            assertThat(dockerfile).as("the image build checks that jobs/%s.yaml is in it", job)
                    .contains("test -f " + IMAGE_JOBS + job + ".yaml");
        }
    }

    @Test
    void theDashboardShowsMetricsTheJobsRegisterOrFlinkReports() throws IOException {
        JsonNode dashboard = JSON.readTree(Path.of("deploy/grafana/onceflow-dashboard.json").toFile());
        List<String> expressions = new ArrayList<>();
        dashboard.path("panels").forEach(panel -> panel.path("targets").forEach(t -> expressions.add(t.path("expr").asText())));
        assertThat(expressions).isNotEmpty();
        String all = String.join("\n", expressions);

        String sources = sources();
        Set<String> flinkOwn = Set.of("pendingRecords", "KafkaSourceReader_KafkaConsumer_records_lag_max");
        Matcher operatorMetric = Pattern.compile("flink_taskmanager_job_task_operator_([A-Za-z_]+)").matcher(all);
        Set<String> referenced = new TreeSet<>();
        while (operatorMetric.find()) {
            referenced.add(operatorMetric.group(1));
        }
        for (String metric : referenced) {
            String registered = metric.startsWith("results_") ? "results" : metric;
            assertThat(flinkOwn.contains(metric) || sources.contains("\"" + registered + "\""))
                    .as("operator metric %s is registered by the code or reported by Flink", metric).isTrue();
        }
        // What the issue asks the dashboard to show.
        assertThat(all).contains("results_", "deadLetters", "gatewayLatencyMillis", "gatewayCircuitState", "customerCacheHitRate",
                "lastCheckpointDuration", "lastCheckpointSize", "rowsWritten", "transactionsCommitted", "rowsSkippedByConflict",
                "pendingRecords", "backPressuredTimeMsPerSecond");
    }

    private static Set<String> names(Path directory, String suffix) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(suffix))
                    .map(n -> n.substring(0, n.length() - suffix.length()))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(item -> texts.add(item.asText()));
        return texts;
    }

    /** A container's environment variables that come from secrets: name → secret/key. */
    private static Map<String, String> secretVariables(JsonNode container) {
        Map<String, String> secrets = new LinkedHashMap<>();
        container.path("env").forEach(variable -> {
            JsonNode secret = variable.path("valueFrom").path("secretKeyRef");
            if (!secret.isMissingNode()) {
                secrets.put(variable.path("name").asText(), secret.path("name").asText() + "/" + secret.path("key").asText());
            }
        });
        return secrets;
    }

    /** The {@code --add-opens} flags {@code deploy/onceflow} starts every JVM of the CLI with. */
    private static String[] launcherOpens() throws IOException {
        Matcher flag = Pattern.compile("--add-opens=\\S+").matcher(Files.readString(Path.of("deploy/onceflow")));
        List<String> flags = new ArrayList<>();
        while (flag.find()) {
            flags.add(flag.group());
        }
        assertThat(flags).as("deploy/onceflow's --add-opens").isNotEmpty();
        return flags.toArray(String[]::new);
    }

    private static Map<String, String> overrides(List<String> args) {
        Map<String, String> overrides = new LinkedHashMap<>();
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).equals("--set")) {
                String[] pair = args.get(++i).split("=", 2);
                assertThat(pair).as("--set takes KEY=VALUE").hasSize(2);
                overrides.put(pair[0], pair[1]);
            }
        }
        return overrides;
    }

    private static boolean exists(JsonNode tree, String dottedKey) {
        JsonNode node = tree;
        for (String part : dottedKey.split("\\.")) {
            node = node.path(part);
        }
        return !node.isMissingNode();
    }

    private static JsonNode withOverrides(JsonNode tree, Map<String, String> overrides) {
        JsonNode copy = tree.deepCopy();
        overrides.forEach((key, value) -> {
            String[] parts = key.split("\\.");
            var node = (com.fasterxml.jackson.databind.node.ObjectNode) copy;
            for (int i = 0; i < parts.length - 1; i++) {
                node = (com.fasterxml.jackson.databind.node.ObjectNode) node.path(parts[i]);
            }
            node.put(parts[parts.length - 1], value);
        });
        return copy;
    }

    private static String sources() throws IOException {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                all.append(Files.readString(file));
            }
        }
        return all.toString();
    }
}
