package io.onceflow.config;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class JobSubmissionTest {

    @Test
    void checkpointsAreUnalignedOnlyWhenTheJobSaysSo() {
        StreamExecutionEnvironment unaligned = new StreamExecutionEnvironment(new Configuration());
        StreamExecutionEnvironment aligned = new StreamExecutionEnvironment(new Configuration());

        JobSubmission.configure(unaligned, job(true));
        JobSubmission.configure(aligned, job(false));

        assertThat(unaligned.getCheckpointConfig().isUnalignedCheckpointsEnabled()).isTrue();
        assertThat(unaligned.getCheckpointConfig().getAlignedCheckpointTimeout())
                .as("unaligned from the start, not after a wait")
                .isEqualTo(Duration.ZERO);
        assertThat(aligned.getCheckpointConfig().isUnalignedCheckpointsEnabled()).isFalse();
        assertThat(aligned.getCheckpointConfig().getCheckpointingConsistencyMode()).isEqualTo(CheckpointingMode.EXACTLY_ONCE);
    }

    private static JobSettings job(boolean unaligned) {
        return new JobSettings("j", "j", 2, Duration.ofSeconds(1), null, null, null, unaligned);
    }
}
