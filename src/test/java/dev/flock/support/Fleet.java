package dev.flock.support;

import dev.flock.FlockServer;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Several Flock instances on one Redis, each in its own Vert.x (as separate processes would be), plus the test's
 * clients. Closing it closes the clients, stops every instance (announcing its users as left) and its Vert.x.
 */
public final class Fleet implements AutoCloseable {

    private final String redisUrl;
    private final Vertx clientVertx = Vertx.vertx();
    private final List<Vertx> vertxes = new ArrayList<>();
    private final List<FlockServer> servers = new ArrayList<>();
    private final List<WsClient> clients = new ArrayList<>();

    public Fleet(String redisUrl) {
        this.redisUrl = redisUrl;
    }

    /** Starts one more instance with these {@code FLOCK_*} settings (FLOCK_REDIS_URL is the fleet's). */
    public FlockServer instance(String... env) {
        Vertx v = Vertx.vertx();
        vertxes.add(v);
        FlockServer s = TestServers.startOnRedis(v, redisUrl, env);
        servers.add(s);
        return s;
    }

    public WsClient client(FlockServer server) {
        return client(server, "/");
    }

    /** A client whose upgrade asks for {@code uri} (a path and query, such as {@code /?token=...}). */
    public WsClient client(FlockServer server, String uri) {
        WsClient c = WsClient.connect(clientVertx, server.port(), uri);
        clients.add(c);
        return c;
    }

    public Vertx clientVertx() {
        return clientVertx;
    }

    /** Polls an observable condition every 20 ms until it holds, or fails after {@code timeout}. */
    public static void awaitTrue(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            try {
                Thread.sleep(20); // polling an observable condition, not synchronising by time
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    @Override
    public void close() {
        clients.forEach(WsClient::close);
        for (FlockServer s : servers) {
            try {
                WsClient.await(s.stop(true));
            } catch (RuntimeException ignored) {
                // stopped by the test already
            }
        }
        for (Vertx v : vertxes) {
            WsClient.await(v.close());
        }
        WsClient.await(clientVertx.close());
    }
}
