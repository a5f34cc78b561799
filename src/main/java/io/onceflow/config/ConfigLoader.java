package io.onceflow.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.apache.flink.util.TimeUtils;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads a job's YAML file ({@code jobs/<job>.yaml}) into its typed configuration record, at
 * submission time on the client.
 *
 * <p>Settings are kebab-case; durations are written as {@code 500ms}, {@code 10s}, {@code 5m},
 * {@code 7d}. Unknown settings are errors, since a misspelt setting silently ignored is how a
 * production job ends up with a default nobody chose. Overrides ({@code section.key=value}) are
 * applied to the file's tree before it is bound, so {@code --set kafka.bootstrap-servers=...}
 * works for any setting. Every problem becomes a {@link ConfigException} with one sentence.
 */
public final class ConfigLoader {

    private static final ObjectMapper YAML =
            new ObjectMapper(new YAMLFactory())
                    .setPropertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
                    .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                    .registerModule(
                            new SimpleModule("onceflow-durations")
                                    .addDeserializer(Duration.class, new DurationDeserializer()));

    private ConfigLoader() {}

    /** Reads {@code file} with {@code overrides} applied and binds it to {@code type}. */
    public static <T> T load(Path file, Map<String, String> overrides, Class<T> type) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException("Configuration file " + file + " does not exist.");
        } catch (IOException e) {
            throw new ConfigException("Cannot read configuration file " + file + ": " + e.getMessage());
        }
        return parse(text, file.toString(), overrides, type);
    }

    /** Binds YAML {@code text} (named {@code origin} in messages) to {@code type}. */
    public static <T> T parse(String text, String origin, Map<String, String> overrides, Class<T> type) {
        JsonNode tree;
        try {
            tree = YAML.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ConfigException(
                    origin + " is not valid YAML (line " + e.getLocation().getLineNr() + ").");
        }
        if (tree == null || !tree.isObject()) {
            throw new ConfigException(origin + " must be a YAML mapping of settings.");
        }
        JavaType rootType = YAML.constructType(type);
        overrides.forEach((key, value) -> applyOverride((ObjectNode) tree, rootType, key, value));
        try {
            return YAML.treeToValue(tree, type);
        } catch (UnrecognizedPropertyException e) {
            throw new ConfigException(
                    origin + " has an unknown setting '" + path(e) + "'; known here: "
                            + e.getKnownPropertyIds().stream().map(Object::toString).sorted()
                                    .collect(Collectors.joining(", ")) + ".");
        } catch (ValueInstantiationException e) {
            Throwable cause = e.getCause();
            String message = cause != null && cause.getMessage() != null ? cause.getMessage() : e.getOriginalMessage();
            throw new ConfigException(origin + ": " + inSection(path(e), message));
        } catch (InvalidFormatException e) {
            String expected =
                    e.getTargetType() == Duration.class
                            ? "a duration such as 500ms, 10s, 5m or 7d"
                            : "a valid " + e.getTargetType().getSimpleName();
            throw new ConfigException(
                    origin + ": setting '" + path(e) + "' has the value '" + e.getValue()
                            + "', which is not " + expected + ".");
        } catch (MismatchedInputException e) {
            throw new ConfigException(
                    origin + ": setting '" + path(e) + "' is not "
                            + describe(e.getTargetType()) + ".");
        } catch (JsonMappingException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ConfigException config) {
                throw new ConfigException(origin + ": " + config.getMessage());
            }
            throw new ConfigException(origin + ": setting '" + path(e) + "': " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw new ConfigException(origin + ": " + e.getOriginalMessage());
        }
    }

    private static void applyOverride(
            ObjectNode root, JavaType rootType, String dottedKey, String value) {
        String[] parts = dottedKey.split("\\.");
        ObjectNode node = root;
        JavaType nodeType = rootType;
        for (int i = 0; i < parts.length - 1; i++) {
            if (nodeType != null && nodeType.isMapLikeType()) {
                // A map's keys are names of their own and often dotted (Kafka's
                // security.protocol): the rest of the override is one key, not more sections.
                String key = String.join(".", Arrays.asList(parts).subList(i, parts.length));
                node.set(key, TextNode.valueOf(value));
                return;
            }
            nodeType = settingType(nodeType, parts[i]);
            JsonNode child = node.get(parts[i]);
            if (child == null || !child.isObject()) {
                child = node.putObject(parts[i]);
            }
            node = (ObjectNode) child;
        }
        node.set(parts[parts.length - 1], TextNode.valueOf(value));
    }

    /** The type of setting {@code name} of {@code section}, or null when it has none such. */
    private static JavaType settingType(JavaType section, String name) {
        if (section == null) {
            return null;
        }
        return YAML.getDeserializationConfig().introspect(section).findProperties().stream()
                .filter(property -> property.getName().equals(name))
                .map(BeanPropertyDefinition::getPrimaryType)
                .findFirst()
                .orElse(null);
    }

    /** What a setting of {@code type} is, in the words of the YAML file rather than of Java. */
    private static String describe(Class<?> type) {
        if (type == null) {
            return "valid";
        }
        if (Collection.class.isAssignableFrom(type)) {
            return "a list";
        }
        if (Map.class.isAssignableFrom(type)) {
            return "a mapping of names to values";
        }
        if (type.isRecord()) {
            return "a section of settings";
        }
        return "a valid " + type.getSimpleName();
    }

    /**
     * Sections that appear in several places (a retry, a lookup) name only their own setting, as
     * in "a retry's 'multiplier'"; the message then says which of them it is.
     */
    private static String inSection(String section, String message) {
        if (section.isEmpty()
                || message.isEmpty()
                || message.contains("'" + section + ".")
                || message.contains("'" + section + "'")) {
            return message;
        }
        return "in '" + section + "', " + Character.toLowerCase(message.charAt(0))
                + message.substring(1);
    }

    private static String path(JsonMappingException e) {
        return e.getPath().stream()
                .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining("."));
    }

    private static final class DurationDeserializer extends JsonDeserializer<Duration> {
        @Override
        public Duration deserialize(JsonParser parser, DeserializationContext context)
                throws IOException {
            String text = parser.getValueAsString();
            try {
                return TimeUtils.parseDuration(text);
            } catch (IllegalArgumentException | NullPointerException e) {
                // A Jackson exception, unlike a ConfigException, gets the setting's whole path
                // on its way out: "initial-delay" alone does not say which retry.
                throw InvalidFormatException.from(parser, "not a duration", text, Duration.class);
            }
        }
    }
}
