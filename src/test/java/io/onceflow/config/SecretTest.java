package io.onceflow.config;

import io.onceflow.postgres.PostgresEndpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A secret is a reference: it names where the password is and says nothing of the password. */
class SecretTest {

    private static final String PASSWORD = "pa55-w0rd-never-logged";

    @TempDir Path directory;

    @Test
    void anEnvironmentVariableIsReadWhereTheSecretIsResolved() {
        Map.Entry<String, String> variable = someSetEnvironmentVariable();
        Secret secret = Secret.fromEnv(variable.getKey());

        assertThat(secret.resolve()).isEqualTo(variable.getValue());
        assertThat(secret.toString())
                .contains(variable.getKey())
                .doesNotContain(variable.getValue());
    }

    @Test
    void aFileIsReadWithoutTheLineEndAnEditorOrEchoAdds() throws IOException {
        assertThat(Secret.fromFile(file("plain", PASSWORD)).resolve()).isEqualTo(PASSWORD);
        assertThat(Secret.fromFile(file("lf", PASSWORD + "\n")).resolve()).isEqualTo(PASSWORD);
        assertThat(Secret.fromFile(file("crlf", PASSWORD + "\r\n")).resolve()).isEqualTo(PASSWORD);
    }

    @Test
    void spacesThatArePartOfThePasswordAreKept() throws IOException {
        // Trimming them would turn a correct password file into a login failure nobody can see.
        assertThat(Secret.fromFile(file("spaces", " " + PASSWORD + " \n")).resolve())
                .isEqualTo(" " + PASSWORD + " ");
    }

    @Test
    void theValueAppearsNeitherInToStringNorInTheEndpointNorInTheSerializedForm()
            throws IOException {
        String path = file("secret", PASSWORD + "\n");
        Secret secret = Secret.fromFile(path);
        assertThat(secret.resolve()).isEqualTo(PASSWORD);

        assertThat(secret.toString()).contains(path).doesNotContain(PASSWORD);
        PostgresEndpoint endpoint =
                new PostgresEndpoint("jdbc:postgresql://127.0.0.1/onceflow", "onceflow", secret);
        assertThat(endpoint.toString()).doesNotContain(PASSWORD);
        assertThat(new String(serialized(endpoint), StandardCharsets.ISO_8859_1))
                .as("the job graph carries the reference, never the value")
                .doesNotContain(PASSWORD);
    }

    @Test
    void aMissingEnvironmentVariableIsNamedInOneSentence() {
        String name = "ONCEFLOW_TEST_UNSET_" + Long.toHexString(System.nanoTime());
        assertThat(System.getenv(name)).isNull();

        assertThatThrownBy(() -> Secret.fromEnv(name).resolve())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(name)
                .hasMessageEndingWith(".")
                .hasMessageNotContaining("\n")
                .hasMessageNotContainingAny("null", "Exception");
    }

    @Test
    void aMissingFileIsNamed() {
        String path = directory.resolve("absent").toString();

        assertThatThrownBy(() -> Secret.fromFile(path).resolve())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(path);
    }

    @Test
    void noSecretIsAnEmptyPassword() {
        assertThat(Secret.none().resolve()).isEmpty();
        assertThat(Secret.none().toString()).isEqualTo("no secret");
    }

    @Test
    void aSecretMustSayWhereItIs() {
        assertThatThrownBy(() -> Secret.fromEnv(" ")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Secret.fromFile("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Secret.fromEnv(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void secretsAreEqualWhenTheyNameTheSameSource() {
        assertThat(Secret.fromEnv("A"))
                .isEqualTo(Secret.fromEnv("A"))
                .isNotEqualTo(Secret.fromEnv("B"));
        assertThat(Secret.fromEnv("A")).isNotEqualTo(Secret.fromFile("A"));
        assertThat(Secret.none()).isEqualTo(Secret.none());
    }

    private String file(String name, String content) throws IOException {
        Path file = directory.resolve(name);
        Files.writeString(file, content, StandardCharsets.UTF_8);
        return file.toString();
    }

    private static Map.Entry<String, String> someSetEnvironmentVariable() {
        return System.getenv().entrySet().stream()
                // A value that could show up in the description by chance would prove nothing.
                .filter(e -> e.getValue().length() >= 8 && !e.getKey().contains(e.getValue()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("The test JVM has no environment variables"));
    }

    private static byte[] serialized(Object object) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(object);
        }
        return bytes.toByteArray();
    }
}
