package io.onceflow.bench;

import io.onceflow.ops.cli.CliIo;
import io.onceflow.ops.cli.OnceflowCli;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class BenchCommandTest {

    @Test
    void theJitShareIsOfAllCpuOfTheRunPostgresIncluded() {
        assertThat(run(Map.of(ThreadCpu.JIT, 30L, "task: Authorize payments per customer", 70L)).jitShare()).isEqualTo(0.3);
        assertThat(run(Map.of(ThreadCpu.JIT, 10L, ThreadCpu.POSTGRES, 90L)).jitShare()).isEqualTo(0.1);
        assertThat(run(Map.of(ThreadCpu.GC, 5L)).jitShare()).isZero();
        assertThat(run(Map.of()).jitShare()).isZero();
    }

    @Test
    void warmUpSettingsOutOfRangeGetOneSentenceBeforeAnythingStarts() {
        for (List<String> args : List.of(
                List.of("bench", "--warm-up-rounds", "0"),
                List.of("bench", "--warm-up-jit-share", "0"),
                List.of("bench", "--warm-up-jit-share", "101"))) {
            StringWriter err = new StringWriter();
            int exit = OnceflowCli.run(
                    new CliIo(InputStream.nullInputStream(), new PrintWriter(new StringWriter()), new PrintWriter(err), Map.of()),
                    args.toArray(String[]::new));
            assertThat(exit).as("%s", args).isEqualTo(2);
            assertThat(err.toString()).as("%s", args)
                    .startsWith("--warm-up-rounds must be at least 1 and --warm-up-jit-share a percentage above 0 and at most 100")
                    .hasLineCount(1);
        }
    }

    private static JobRuns.Run run(Map<String, Long> cpuNanosByGroup) {
        return new JobRuns.Run("payments", "warm-up", null, null, null, null, cpuNanosByGroup,
                JobRuns.Checkpoints.NONE, 0, 0, "", Map.of());
    }
}
