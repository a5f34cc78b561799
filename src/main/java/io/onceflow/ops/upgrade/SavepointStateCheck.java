package io.onceflow.ops.upgrade;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.onceflow.ops.cluster.FlinkDistribution;
import io.onceflow.ops.cluster.FlinkRestException;
import io.onceflow.ops.jobs.JobSpec;
import io.onceflow.ops.upgrade.isolated.JobInspector;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.flink.state.api.runtime.SavepointLoader;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.net.MalformedURLException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The upgrade's state check: a savepoint against the graph and state types of a new job jar,
 * before anything is restored.
 *
 * <ul>
 *   <li>Every operator with state in the savepoint must be in the new graph, matched by the
 *       operator id a restore matches by (the hash of its uid, {@code OperatorIdentifier.forUid}
 *       of the State Processor API). Missing ones refuse the upgrade, naming the uid and its
 *       states, unless dropping state is allowed (Flink's {@code allowNonRestoredState}).
 *   <li>Every state's serializer snapshot, read with the new jar's classes, must be readable by
 *       the serializer those classes give: the same resolution Flink runs at restore. For Avro
 *       types that is Avro's schema resolution, new schema reading old data; the report names
 *       the fields that break it (or, when compatible, the fields that changed).
 * </ul>
 *
 * <p>The new jar is loaded as the cluster would load it: child first, over a class loader that
 * holds only the cluster's Flink jars (the {@link FlinkDistribution}) and the State Processor
 * API, never the CLI's own classpath, where the job's connectors and an older build of the job's
 * own classes would shadow the new jar's. {@link JobInspector} does the work inside that loader.
 *
 * <p>What it cannot see: a new version declaring a different type for an existing state name,
 * since state descriptors are created when operators open, not in the graph. Flink refuses such a
 * restore itself, and the upgrade then falls back to the old version.
 *
 * <p>Building a graph runs the jar's main, as {@code flink run} does (for payments that opens the
 * lake catalog); one build per jar and arguments is kept until {@link #close()}.
 */
public final class SavepointStateCheck implements StateCheck, AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BRIDGE_PACKAGE = JobInspector.class.getPackageName() + ".";

    private final List<URL> isolatedClassPath;
    private final Map<String, Inspector> inspectors = new HashMap<>();

    public SavepointStateCheck(FlinkDistribution distribution) {
        List<URL> urls = new ArrayList<>();
        for (Path jar : distribution.jars()) {
            String name = jar.getFileName().toString();
            // Logging stays the CLI's: its slf4j and log4j serve the isolated classes too.
            if (!name.startsWith("log4j-") && !name.startsWith("slf4j-")) {
                urls.add(url(jar));
            }
        }
        urls.add(codeSource(SavepointLoader.class));
        this.isolatedClassPath = List.copyOf(urls);
    }

    @Override
    public synchronized CheckReport check(String savepoint, JobSpec newVersion, boolean allowDroppingState) {
        Inspector inspector = inspector(newVersion);
        JsonNode graph = inspector.graph;
        JsonNode state = JSON_read(inspector.call("savepoint", savepoint));
        return evaluate(savepoint, graph, state, allowDroppingState);
    }

    /** The verdict from the graph's and the savepoint's descriptions (see {@link JobInspector}). */
    static CheckReport evaluate(String savepoint, JsonNode graph, JsonNode state, boolean allowDroppingState) {
        Set<String> newIds = new HashSet<>();
        graph.path("operators").forEach(op -> newIds.add(op.path("id").asText()));
        List<String> problems = new ArrayList<>();
        List<String> dropped = new ArrayList<>();
        List<String> migrations = new ArrayList<>();
        int stateful = 0;
        int states = 0;
        for (JsonNode operator : state.path("operators")) {
            if (!operator.path("hasState").asBoolean()) {
                continue;
            }
            stateful++;
            String label = label(operator);
            List<String> names = new ArrayList<>();
            operator.path("states").forEach(s -> names.add(s.path("name").asText()));
            if (operator.path("coordinatorState").asBoolean()) {
                names.add("(coordinator state)");
            }
            states += operator.path("states").size();
            if (!newIds.contains(operator.path("id").asText())) {
                String sentence = "operator " + label + " has state " + CheckReport.joinNames(names)
                        + " in the savepoint but is not in the new job";
                if (allowDroppingState) {
                    dropped.add(sentence);
                } else {
                    problems.add(sentence + " (restoring would drop it; --allow-dropping-state accepts that)");
                }
                continue;
            }
            for (JsonNode s : operator.path("states")) {
                String what = "state '" + s.path("name").asText() + "' (" + s.path("kind").asText() + ") of operator " + label;
                if (s.hasNonNull("error")) {
                    problems.add(what + ": " + s.path("error").asText());
                    continue;
                }
                for (JsonNode serializer : s.path("serializers")) {
                    String verdict = serializer.path("verdict").asText();
                    String role = serializer.path("key").asText().replace("_SERIALIZER", "").toLowerCase(java.util.Locale.ROOT);
                    if (verdict.equals("INCOMPATIBLE")) {
                        List<String> details = avroDetails(serializer, false);
                        if (details.isEmpty()) {
                            details = List.of(serializer.hasNonNull("error")
                                    ? serializer.path("error").asText()
                                    : "its " + role + " serializer " + simpleName(serializer.path("type").asText()) + " cannot read the old data");
                        }
                        problems.add(what + " cannot be read by the new job: " + String.join(", ", details));
                    } else if (verdict.equals("COMPATIBLE_AFTER_MIGRATION")) {
                        List<String> changes = avroDetails(serializer, true);
                        migrations.add(what + " migrates" + (changes.isEmpty() ? "" : ": " + String.join(", ", changes)));
                    }
                }
            }
        }
        return new CheckReport(savepoint, stateful, states, problems, dropped, migrations);
    }

    private static String label(JsonNode operator) {
        String uid = operator.path("uid").asText(null);
        String name = operator.path("name").asText(null);
        if (uid != null && !uid.isEmpty()) {
            return "'" + uid + "'";
        }
        return "'" + (name == null ? "?" : name) + "' (no uid, id " + operator.path("id").asText() + ")";
    }

    /**
     * Avro's own words for each incompatibility (reader = new schema, writer = old), located by
     * field name; or, for a compatible change, the fields added and removed.
     */
    static List<String> avroDetails(JsonNode serializer, boolean compatible) {
        List<String> details = new ArrayList<>();
        for (JsonNode avro : serializer.path("avro")) {
            if (!avro.hasNonNull("writerSchema") || !avro.hasNonNull("readerSchema")) {
                continue;
            }
            Schema writer = new Schema.Parser().parse(avro.path("writerSchema").asText());
            Schema reader = new Schema.Parser().parse(avro.path("readerSchema").asText());
            if (compatible) {
                details.addAll(fieldChanges(writer, reader));
                continue;
            }
            var result = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getResult();
            for (var incompatibility : result.getIncompatibilities()) {
                details.add("field " + fieldPath(reader, incompatibility.getLocation()) + " of " + reader.getName()
                        + ": " + incompatibility.getType() + " (" + incompatibility.getMessage() + ")");
            }
        }
        return details;
    }

    private static List<String> fieldChanges(Schema writer, Schema reader) {
        List<String> changes = new ArrayList<>();
        if (writer.getType() != Schema.Type.RECORD || reader.getType() != Schema.Type.RECORD) {
            return changes;
        }
        for (Schema.Field field : reader.getFields()) {
            if (writer.getField(field.name()) == null) {
                changes.add(reader.getName() + " gains field '" + field.name() + "'"
                        + (field.hasDefaultValue() ? " (default " + field.defaultVal() + ")" : ""));
            } else if (!Objects.equals(writer.getField(field.name()).schema(), field.schema())) {
                changes.add(reader.getName() + "." + field.name() + " changes type");
            }
        }
        for (Schema.Field field : writer.getFields()) {
            if (reader.getField(field.name()) == null) {
                changes.add(reader.getName() + " drops field '" + field.name() + "'");
            }
        }
        return changes;
    }

    /** "/fields/2/type" in the reader schema as "'note'"; the raw location when it does not resolve. */
    static String fieldPath(Schema reader, String location) {
        List<String> names = new ArrayList<>();
        try {
            Schema current = reader;
            String[] tokens = location.split("/");
            for (int i = 0; i < tokens.length; i++) {
                switch (tokens[i]) {
                    case "fields" -> {
                        Schema.Field field = current.getFields().get(Integer.parseInt(tokens[++i]));
                        names.add(field.name());
                        current = field.schema();
                    }
                    case "items" -> current = current.getElementType();
                    case "values" -> current = current.getValueType();
                    case "types" -> current = current.getTypes().get(Integer.parseInt(tokens[++i]));
                    default -> { }
                }
            }
        } catch (RuntimeException e) {
            return "at " + location;
        }
        return names.isEmpty() ? "at " + location : "'" + String.join(".", names) + "'";
    }

    private static String simpleName(String className) {
        return className.substring(className.lastIndexOf('.') + 1);
    }

    // ------------------------------------------------------------------ the isolated inspector

    private Inspector inspector(JobSpec spec) {
        String key;
        try {
            key = spec.jar() + "@" + Files.getLastModifiedTime(spec.jar()).toMillis() + "|" + spec.entryClass() + "|" + spec.programArgs();
        } catch (IOException e) {
            throw new FlinkRestException("Cannot read the jar " + spec.jar() + ": " + e.getMessage(), e);
        }
        Inspector inspector = inspectors.get(key);
        if (inspector == null) {
            inspector = new Inspector(isolatedClassPath, spec);
            inspectors.put(key, inspector);
        }
        return inspector;
    }

    private static JsonNode JSON_read(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public synchronized void close() {
        inspectors.values().forEach(Inspector::close);
        inspectors.clear();
    }

    private static final class Inspector {
        private final IsolatedLoader loader;
        private final Object target;
        private final JsonNode graph;

        Inspector(List<URL> classPath, JobSpec spec) {
            this.loader = new IsolatedLoader(classPath.toArray(URL[]::new), SavepointStateCheck.class.getClassLoader());
            try {
                Class<?> type = loader.loadClass(JobInspector.class.getName());
                this.target = type.getConstructor(String.class, String.class, String[].class)
                        .newInstance(spec.jar().toString(), spec.entryClass(), spec.programArgs().toArray(String[]::new));
            } catch (InvocationTargetException e) {
                closeLoader();
                throw new FlinkRestException("Cannot build the job graph of " + spec.jar().getFileName() + ": " + rootMessage(e.getCause()) + ".", e.getCause());
            } catch (ReflectiveOperationException e) {
                closeLoader();
                throw new IllegalStateException("The isolated job inspector cannot be loaded", e);
            }
            this.graph = JSON_read(call("graph"));
        }

        String call(String method, String... args) {
            try {
                if (args.length == 0) {
                    return (String) target.getClass().getMethod(method).invoke(target);
                }
                return (String) target.getClass().getMethod(method, String.class).invoke(target, (Object) args[0]);
            } catch (InvocationTargetException e) {
                throw new FlinkRestException("The state check could not read " + (args.length == 0 ? "the graph" : args[0]) + ": " + rootMessage(e.getCause()) + ".", e.getCause());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }

        void close() {
            try {
                target.getClass().getMethod("close").invoke(target);
            } catch (ReflectiveOperationException ignored) {
                // temporary files of the program only
            }
            closeLoader();
        }

        private void closeLoader() {
            try {
                loader.close();
            } catch (IOException ignored) {
                // jar handles only
            }
        }
    }

    /**
     * Flink's jars and the State Processor API over the platform class loader, plus two
     * exceptions: logging comes from the CLI's loader (one logging setup), and the inspector's own
     * package is defined here from the CLI's class files, so it links against these Flink classes.
     */
    private static final class IsolatedLoader extends URLClassLoader {
        static {
            ClassLoader.registerAsParallelCapable();
        }

        private final ClassLoader cli;

        IsolatedLoader(URL[] urls, ClassLoader cli) {
            super("onceflow-state-check", urls, ClassLoader.getPlatformClassLoader());
            this.cli = cli;
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith("org.slf4j.") || name.startsWith("org.apache.logging.") || name.startsWith("org.apache.log4j.")) {
                return cli.loadClass(name);
            }
            if (name.startsWith(BRIDGE_PACKAGE)) {
                synchronized (getClassLoadingLock(name)) {
                    Class<?> loaded = findLoadedClass(name);
                    if (loaded == null) {
                        String resource = name.replace('.', '/') + ".class";
                        try (InputStream in = cli.getResourceAsStream(resource)) {
                            if (in == null) {
                                throw new ClassNotFoundException(name);
                            }
                            byte[] bytes = in.readAllBytes();
                            loaded = defineClass(name, bytes, 0, bytes.length);
                        } catch (IOException e) {
                            throw new ClassNotFoundException(name, e);
                        }
                    }
                    if (resolve) {
                        resolveClass(loaded);
                    }
                    return loaded;
                }
            }
            return super.loadClass(name, resolve);
        }
    }

    private static URL url(Path path) {
        try {
            return path.toUri().toURL();
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static URL codeSource(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toUri().toURL();
        } catch (URISyntaxException | MalformedURLException | RuntimeException e) {
            throw new IllegalStateException("Cannot locate the jar of " + type.getName(), e);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        String line = message.replaceAll("\\s+", " ").strip();
        return line.endsWith(".") ? line.substring(0, line.length() - 1) : line;
    }
}
