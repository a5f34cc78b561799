package io.onceflow.enrichment.gateway;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A real HTTP server on loopback that gives one fixed answer and records the last request, for the
 * answers the simulator never gives (malformed bodies, 429, redirects).
 */
final class StubHttpServer implements AutoCloseable {

    static {
        // The JDK server writes an answer's headers and body separately; without TCP_NODELAY the
        // body waits for the caller's delayed ACK, ~40 ms. Read once, when the JVM's first JDK
        // server starts.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    record RecordedRequest(
            String method, String path, String idempotencyKey, String contentType, String body) {}

    private final HttpServer server;
    private final AtomicReference<RecordedRequest> lastRequest = new AtomicReference<>();

    StubHttpServer(int status, String body) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext(
                "/",
                exchange -> {
                    try (exchange) {
                        lastRequest.set(
                                new RecordedRequest(
                                        exchange.getRequestMethod(),
                                        exchange.getRequestURI().getPath(),
                                        exchange.getRequestHeaders().getFirst("Idempotency-Key"),
                                        exchange.getRequestHeaders().getFirst("Content-Type"),
                                        new String(
                                                exchange.getRequestBody().readAllBytes(),
                                                StandardCharsets.UTF_8)));
                        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                        if (status >= 300 && status < 400) {
                            exchange.getResponseHeaders()
                                    .set("Location", "http://example.invalid/");
                        }
                        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
                        if (bytes.length > 0) {
                            try (OutputStream out = exchange.getResponseBody()) {
                                out.write(bytes);
                            }
                        }
                    }
                });
        server.start();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    RecordedRequest lastRequest() {
        return lastRequest.get();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
