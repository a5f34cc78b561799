package io.onceflow.enrichment;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

/**
 * One Vert.x instance (event loop) per job per TaskManager, shared by every subtask that talks
 * to PostgreSQL without blocking, and closed when the last one lets go.
 */
final class SharedVertx {

    private static Vertx vertx;
    private static int users;

    private SharedVertx() {}

    static synchronized Vertx acquire() {
        if (vertx == null) {
            vertx =
                    Vertx.vertx(
                            new VertxOptions()
                                    .setEventLoopPoolSize(2)
                                    .setWorkerPoolSize(1)
                                    .setInternalBlockingPoolSize(1));
        }
        users++;
        return vertx;
    }

    static synchronized void release() {
        if (--users == 0) {
            vertx.close();
            vertx = null;
        }
    }
}
