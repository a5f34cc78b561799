package io.onceflow.lake;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.onceflow.config.ConfigException;
import io.onceflow.config.ConfigLoader;
import io.onceflow.config.PostgresSettings;
import io.onceflow.postgres.PostgresEndpoint;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

import static io.onceflow.config.ConfigException.required;

/**
 * The lake's part of a job's YAML: its {@code postgres} and {@code lake} sections, the other
 * sections ignored, for tools that work on the lake of any job ({@code onceflow lake ...}). A
 * job's own configuration record holds a {@link LakeSettings} field named {@code lake} instead.
 *
 * @param lake {@code lake: {}} or no section at all means every default
 */
public record LakeConfig(PostgresSettings postgres, LakeSettings lake) implements Serializable {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    public LakeConfig {
        lake = lake == null ? LakeSettings.defaults() : lake;
        if (lake.catalogPostgres() == null) {
            required(postgres, "postgres");
        }
    }

    /** The catalog's database: {@code lake.catalog-postgres}, else {@code postgres}. */
    public PostgresEndpoint catalogEndpoint() {
        return lake.catalogEndpoint(postgres);
    }

    /** Reads the lake's sections of {@code file}, with {@code overrides} ({@code lake.name=x}). */
    public static LakeConfig load(Path file, Map<String, String> overrides) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException("Configuration file " + file + " does not exist.");
        } catch (IOException e) {
            throw new ConfigException("Cannot read configuration file " + file + ": " + e.getMessage());
        }
        return parse(text, file.toString(), overrides);
    }

    /** Binds the lake's sections of YAML {@code text} (named {@code origin} in messages). */
    public static LakeConfig parse(String text, String origin, Map<String, String> overrides) {
        JsonNode tree;
        try {
            tree = YAML.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ConfigException(origin + " is not valid YAML (line " + e.getLocation().getLineNr() + ").");
        }
        if (tree == null || !tree.isObject()) {
            throw new ConfigException(origin + " must be a YAML mapping of settings.");
        }
        ObjectNode sections = YAML.createObjectNode();
        for (String section : new String[] {"postgres", "lake"}) {
            if (tree.has(section)) {
                sections.set(section, tree.get(section));
            }
        }
        overrides.keySet().forEach(key -> ConfigException.check(
                key.startsWith("postgres.") || key.startsWith("lake."),
                "Only postgres.* and lake.* settings apply to the lake, not '" + key + "'."));
        try {
            return ConfigLoader.parse(YAML.writeValueAsString(sections), origin, overrides, LakeConfig.class);
        } catch (JsonProcessingException e) {
            throw new ConfigException(origin + " cannot be read: " + e.getOriginalMessage() + ".");
        }
    }
}
