package io.onceflow.ops.cli;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** One in-process run of the CLI with captured streams. */
record CliRun(int exitCode, String out, String err) {

    static CliRun of(String... args) {
        return withInput("", Map.of(), args);
    }

    static CliRun withEnv(Map<String, String> env, String... args) {
        return withInput("", env, args);
    }

    static CliRun withInput(String stdin, Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CliIo io =
                new CliIo(
                        new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                        new PrintWriter(out),
                        new PrintWriter(err),
                        env);
        int exitCode = OnceflowCli.run(io, args);
        return new CliRun(exitCode, out.toString(), err.toString());
    }

    List<String> outLines() {
        return out.lines().toList();
    }

    List<String> errLines() {
        return err.lines().toList();
    }
}
