package io.onceflow.ops.cli;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Lines of bytes, split at {@code \n} with a trailing {@code \r} dropped. Lines stay bytes so
 * the JSON parser decodes the UTF-8 itself and reports bad encoding on the right line, which a
 * buffered character reader cannot: its decoder fails wherever its buffer happens to end.
 */
final class JsonLines {

    private final InputStream in;
    private long lineNumber;

    JsonLines(InputStream in) {
        this.in = new BufferedInputStream(in);
    }

    /** The next line, or null at the end of the input. */
    byte[] next() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(256);
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            line.write(b);
        }
        if (b == -1 && line.size() == 0) {
            return null;
        }
        lineNumber++;
        byte[] bytes = line.toByteArray();
        int length = bytes.length;
        if (length > 0 && bytes[length - 1] == '\r') {
            return Arrays.copyOf(bytes, length - 1);
        }
        return bytes;
    }

    /** The 1-based number of the line {@link #next()} returned last. */
    long lineNumber() {
        return lineNumber;
    }

    static boolean isBlank(byte[] line) {
        for (byte b : line) {
            if (b != ' ' && b != '\t' && b != '\r') {
                return false;
            }
        }
        return true;
    }
}
