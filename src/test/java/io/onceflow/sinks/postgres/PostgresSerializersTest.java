package io.onceflow.sinks.postgres;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PostgresSerializersTest {

    @Test
    void committableSurvivesACheckpointRoundTrip() throws IOException {
        PostgresCommittableSerializer serializer = new PostgresCommittableSerializer();
        PostgresCommittable committable =
                new PostgresCommittable(
                        "onceflow:ns:sink:1:7", UUID.randomUUID(), 1_700_000_000_123L);

        byte[] bytes = serializer.serialize(committable);

        assertThat(serializer.deserialize(serializer.getVersion(), bytes)).isEqualTo(committable);
    }

    @Test
    void committableOfAnUnknownVersionIsRefusedWithTheVersionsNamed() {
        PostgresCommittableSerializer serializer = new PostgresCommittableSerializer();

        assertThatThrownBy(() -> serializer.deserialize(99, new byte[0]))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("version 99")
                .hasMessageContaining("version 1");
    }

    @Test
    void writerStateSurvivesACheckpointRoundTrip() throws IOException {
        PostgresWriterStateSerializer serializer = new PostgresWriterStateSerializer();
        PostgresWriterState state = new PostgresWriterState("payments-prod", "ledger");

        byte[] bytes = serializer.serialize(state);

        assertThat(serializer.deserialize(serializer.getVersion(), bytes)).isEqualTo(state);
        assertThatThrownBy(() -> serializer.deserialize(2, bytes)).isInstanceOf(IOException.class);
    }
}
