package io.onceflow.enrichment;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

/**
 * One Vert.x instance (two event loops) per job per TaskManager, shared by every subtask that
 * does network I/O without blocking (PostgreSQL lookups, gateway calls), and closed when the last
 * one lets go. One instance, not one per subtask: each would start its own event loop threads,
 * and a TaskManager with a few CPUs gains nothing from more threads than cores.
 */
public final class SharedVertx {

    private static Vertx vertx;
    private static int users;

    private SharedVertx() {}

    /** The shared instance, started if no one holds it; pair every call with {@link #release()}. */
    public static synchronized Vertx acquire() {
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

    /** Lets go of the instance; the last to let go closes it. */
    public static synchronized void release() {
        if (--users == 0) {
            vertx.close();
            vertx = null;
        }
    }
}
