package io.onceflow.enrichment.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.onceflow.testing.Await;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Every test of {@link HttpPaymentGatewayTest} against the simulator over HTTP/2 (h2c, spoken
 * from the first byte), and what only HTTP/2 has: many attempts on one connection, and a stream
 * the gateway resets while the connection lives on.
 */
class HttpPaymentGatewayHttp2Test extends HttpPaymentGatewayTest {

    @Override
    GatewayOptions.HttpVersion httpVersion() {
        return GatewayOptions.HttpVersion.HTTP_2;
    }

    @Test
    void attemptsInFlightShareOneConnection() throws Exception {
        List<HttpServerRequest> held = new ArrayList<>();
        try (H2cServer server = new H2cServer(request -> {
                    synchronized (held) {
                        held.add(request);
                    }
                });
                HttpPaymentGateway client =
                        HttpPaymentGateway.builder(options(server.baseUrl()).maxConnections(100).build())
                                .build()) {
            List<CompletableFuture<GatewayDecision>> attempts = new ArrayList<>();
            // All at once, before any connection is open: a pool that opened one per attempt
            // waiting for a connection would open 50.
            for (int i = 0; i < 50; i++) {
                attempts.add(client.authorize(request("shared-" + i, 1_00)));
            }
            // All 50 reach the server before any is answered: none waits for a connection.
            Await.until(
                    Duration.ofSeconds(10),
                    "all attempts at the server at once",
                    () -> {
                        synchronized (held) {
                            return held.size() == 50;
                        }
                    });
            synchronized (held) {
                held.forEach(H2cServer::approve);
            }
            for (CompletableFuture<GatewayDecision> attempt : attempts) {
                assertThat(answerOf(attempt)).isEqualTo(GatewayDecision.approved("gw_h2"));
            }
            assertThat(server.connections()).isEqualTo(1);
            assertThat(server.versions()).containsExactly(HttpVersion.HTTP_2);
        }
    }

    @Test
    void aStreamTheGatewayResetsIsTransientAndTheConnectionServesTheRetry() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        try (H2cServer server = new H2cServer(request -> {
                    if (requests.incrementAndGet() == 1) {
                        request.response().reset(7); // REFUSED_STREAM: not processed, retry
                    } else {
                        H2cServer.approve(request);
                    }
                });
                HttpPaymentGateway client =
                        HttpPaymentGateway.builder(options(server.baseUrl()).build()).build()) {
            GatewayException failure = failureOf(client.authorize(request("reset", 1_00)));

            assertThat(failure).isInstanceOf(GatewayUnavailableException.class);
            assertThat(failure.reason()).isEqualTo("gateway_stream_reset");
            assertThat(failure.getMessage()).contains("error code 7");
            assertThat(PaymentGateway.isTransient(failure)).isTrue();

            assertThat(answerOf(client.authorize(request("reset", 1_00))))
                    .isEqualTo(GatewayDecision.approved("gw_h2"));
            assertThat(server.connections()).isEqualTo(1);
        }
    }

    /** A Vert.x server speaking h2c that hands each request to the test's handler. */
    private static final class H2cServer implements AutoCloseable {

        private final Vertx vertx = Vertx.vertx();
        private final AtomicInteger connections = new AtomicInteger();
        private final Set<HttpVersion> versions = ConcurrentHashMap.newKeySet();
        private final HttpServer server;

        H2cServer(Consumer<HttpServerRequest> handler) throws Exception {
            server =
                    vertx.createHttpServer(
                                    new HttpServerOptions()
                                            .setHost(InetAddress.getLoopbackAddress().getHostAddress())
                                            .setPort(0)
                                            .setHttp2ClearTextEnabled(true))
                            .connectionHandler(connection -> connections.incrementAndGet())
                            .requestHandler(
                                    request -> {
                                        versions.add(request.version());
                                        request.body().onSuccess(body -> handler.accept(request));
                                    })
                            .listen()
                            .await();
        }

        static void approve(HttpServerRequest request) {
            request.response()
                    .putHeader("content-type", "application/json")
                    .end("{\"outcome\":\"APPROVED\",\"reference\":\"gw_h2\"}");
        }

        String baseUrl() {
            return "http://" + InetAddress.getLoopbackAddress().getHostAddress() + ":" + server.actualPort();
        }

        int connections() {
            return connections.get();
        }

        Set<HttpVersion> versions() {
            return versions;
        }

        @Override
        public void close() {
            vertx.close().await();
        }
    }
}
