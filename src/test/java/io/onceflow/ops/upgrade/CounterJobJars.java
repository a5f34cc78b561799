package io.onceflow.ops.upgrade;

import org.apache.avro.Schema;
import org.apache.avro.compiler.specific.SpecificCompiler;

import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * Builds versions of the upgrade tests' job jar ({@code upgrade-test-job/CounterJob.java}): the
 * Avro state type Counter generated from a schema with Avro's compiler, the job compiled against
 * it with javax.tools, and both jarred with the job's connector and format jars, the way the
 * shaded job jar carries them (the cluster's lib holds Flink only).
 */
final class CounterJobJars {

    static final String MAIN = "io.onceflow.upgradetest.CounterJob";

    /** Counter v1: the count, and a field the job never touches. */
    static final String V1 = """
            {"type": "record", "name": "Counter", "namespace": "io.onceflow.upgradetest", "fields": [
              {"name": "count", "type": "long"},
              {"name": "note", "type": "string", "default": ""}]}""";

    /** v2: gains a field with a default, which Avro resolves when reading v1 state. */
    static final String V2_FIELD_ADDED = """
            {"type": "record", "name": "Counter", "namespace": "io.onceflow.upgradetest", "fields": [
              {"name": "count", "type": "long"},
              {"name": "note", "type": "string", "default": ""},
              {"name": "lastSeen", "type": "long", "default": 0}]}""";

    /** v3: 'note' becomes an int, which no Avro rule reads from a string. */
    static final String V3_FIELD_RETYPED = """
            {"type": "record", "name": "Counter", "namespace": "io.onceflow.upgradetest", "fields": [
              {"name": "count", "type": "long"},
              {"name": "note", "type": "int", "default": 0}]}""";

    private static final List<Class<?>> DEPENDENCIES = List.of(
            org.apache.flink.connector.kafka.source.KafkaSource.class,
            org.apache.kafka.clients.consumer.KafkaConsumer.class,
            org.apache.flink.connector.base.DeliveryGuarantee.class,
            org.apache.flink.formats.avro.typeutils.AvroSerializer.class,
            Schema.class,
            com.fasterxml.jackson.core.JsonFactory.class,
            com.fasterxml.jackson.databind.ObjectMapper.class,
            com.fasterxml.jackson.annotation.JsonProperty.class);

    private CounterJobJars() {}

    /**
     * A jar of the job with Counter from {@code schema}, the counter operator's uid {@code
     * counterUid}, and, when {@code failOnOpen}, a counter that throws when it opens.
     */
    static Path build(Path directory, String name, String schema, String counterUid, boolean failOnOpen) {
        try {
            Path work = Files.createDirectories(directory.resolve(name));
            Path sources = Files.createDirectories(work.resolve("src"));
            Path classes = Files.createDirectories(work.resolve("classes"));
            new SpecificCompiler(new Schema.Parser().parse(schema)).compileToDestination(null, sources.toFile());
            String job = resource("upgrade-test-job/CounterJob.java")
                    .replace("/*COUNTER_UID*/\"counter\"", "\"" + counterUid + "\"")
                    .replace("/*OPEN*/", failOnOpen ? "if (true) { throw new IllegalStateException(\"this version cannot start\"); }" : "");
            Path jobSource = sources.resolve("io/onceflow/upgradetest/CounterJob.java");
            Files.createDirectories(jobSource.getParent());
            Files.writeString(jobSource, job);
            compile(sources, classes);
            Path jar = directory.resolve(name + ".jar");
            writeJar(jar, classes);
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void compile(Path sources, Path classes) throws IOException {
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(sources)) {
            files = walk.filter(p -> p.toString().endsWith(".java")).toList();
        }
        StringWriter diagnostics = new StringWriter();
        try (StandardJavaFileManager fileManager = compiler.getStandardFileManager(null, null, StandardCharsets.UTF_8)) {
            boolean ok = compiler.getTask(diagnostics, fileManager, null,
                    List.of("--release", "17", "-proc:none", "-classpath", System.getProperty("java.class.path"), "-d", classes.toString()),
                    null, fileManager.getJavaFileObjectsFromPaths(files)).call();
            if (!ok) {
                throw new IllegalStateException("The counter job does not compile:\n" + diagnostics);
            }
        }
    }

    private static void writeJar(Path jar, Path classes) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, MAIN);
        Set<String> written = new HashSet<>(Set.of("META-INF/", "META-INF/MANIFEST.MF"));
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            try (Stream<Path> walk = Files.walk(classes)) {
                for (Path file : walk.filter(Files::isRegularFile).toList()) {
                    String entry = classes.relativize(file).toString().replace('\\', '/');
                    written.add(entry);
                    out.putNextEntry(new JarEntry(entry));
                    Files.copy(file, out);
                    out.closeEntry();
                }
            }
            for (Class<?> dependency : DEPENDENCIES) {
                copyJar(location(dependency), out, written);
            }
        }
    }

    private static void copyJar(Path source, JarOutputStream out, Set<String> written) throws IOException {
        try (JarFile jar = new JarFile(source.toFile())) {
            var entries = jar.entries();
            while (entries.hasMoreElements()) {
                JarEntry entry = entries.nextElement();
                String name = entry.getName();
                if (entry.isDirectory() || name.startsWith("META-INF/") && (name.endsWith(".SF") || name.endsWith(".RSA")
                        || name.endsWith(".DSA") || name.equals("META-INF/MANIFEST.MF") || name.startsWith("META-INF/versions/"))
                        || name.endsWith("module-info.class") || !written.add(name)) {
                    continue;
                }
                out.putNextEntry(new JarEntry(name));
                try (InputStream in = jar.getInputStream(entry)) {
                    in.transferTo(out);
                }
                out.closeEntry();
            }
        }
    }

    private static Path location(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = CounterJobJars.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("No test resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

}
