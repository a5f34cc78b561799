package io.onceflow.ops.cli;

import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The streams and environment a CLI run uses: the process's own in {@link OnceflowCli#main},
 * captured ones in tests. Standard output carries data only (records, JSON lines); messages,
 * summaries and errors go to standard error.
 */
public record CliIo(InputStream in, PrintWriter out, PrintWriter err, Map<String, String> env) {

    public static CliIo system() {
        return new CliIo(
                System.in,
                // Flushed per batch by the commands, not per line: consume can print a lot.
                new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), false),
                new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true),
                System.getenv());
    }
}
