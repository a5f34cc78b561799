package io.onceflow.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports on loopback, for services that must be told their port up front.
 *
 * <p>Ports are picked below the kernel's ephemeral range. A port from inside it is free only
 * until the kernel hands it to some socket bound to port 0 (a listener, or an outgoing
 * connection) before the service binds it: a local Flink JobManager's BLOB server got the REST
 * port picked for it that way, and the JobManager exited. Below the range only an explicit bind
 * can take a port. Each port is handed out once per JVM, so two services started one after the
 * other never get the same one.
 */
public final class FreePorts {

    static final int LOWEST = 10_000;
    private static final int DEFAULT_EPHEMERAL_LOW = 32_768;
    private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    /** Read once: the range is the machine's, and every pick would read it again. */
    private static final int EPHEMERAL_LOW = ephemeralLow();

    private FreePorts() {}

    public static int pick() {
        int below = EPHEMERAL_LOW;
        if (below <= LOWEST) {
            return kernelsPick();
        }
        for (int attempt = 0; attempt < 1_000; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(LOWEST, below);
            if (HANDED_OUT.add(port) && isFree(port)) {
                return port;
            }
        }
        throw new UncheckedIOException(new IOException(
                "No free port on loopback from " + LOWEST + " up to the kernel's ephemeral range at " + below));
    }

    /** Where the ephemeral range leaves no room below it: the kernel's own pick, as good as it gets there. */
    private static int kernelsPick() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("No free port on loopback", e);
        }
    }

    /** Whether nothing listens on {@code port} on loopback. */
    public static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The first port of the range the kernel hands out for port 0; Linux's default where it cannot be read. */
    static int ephemeralLow() {
        try {
            // readString can stop short on /proc/sys files, which report no size.
            return Integer.parseInt(Files.readAllLines(EPHEMERAL_RANGE).get(0).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return DEFAULT_EPHEMERAL_LOW;
        }
    }
}
