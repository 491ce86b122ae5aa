package dev.flock.support;

import dev.flock.FlockServer;
import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import dev.flock.time.Clock;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/** Starts a Flock server on a free loopback port with the given {@code FLOCK_*} settings. */
public final class TestServers {

    private TestServers() {
    }

    /** On real time (the server's own {@code SystemClock}). */
    public static FlockServer start(Vertx vertx, String... envPairs) {
        return WsClient.await(FlockServer.start(vertx, config(envPairs), FlockMetrics.inMemory()));
    }

    /** As {@link #start(Vertx, String...)}, with time from {@code clock} (a {@link VirtualClock} the test moves). */
    public static FlockServer start(Vertx vertx, Clock clock, String... envPairs) {
        return WsClient.await(FlockServer.start(vertx, config(envPairs), FlockMetrics.inMemory(), clock, router -> { }));
    }

    /** As {@link #start(Vertx, Clock, String...)}, with routes of the test's own on Flock's router (as an embedder's). */
    public static FlockServer start(Vertx vertx, Clock clock, Consumer<Router> routes, String... envPairs) {
        return WsClient.await(FlockServer.start(vertx, config(envPairs), FlockMetrics.inMemory(), clock, routes));
    }

    /** As {@link #start}, as one instance of a fleet sharing the Redis at {@code redisUrl}. */
    public static FlockServer startOnRedis(Vertx vertx, String redisUrl, String... envPairs) {
        return start(vertx, onRedis(redisUrl, envPairs));
    }

    /** As {@link #startOnRedis(Vertx, String, String...)}, with time from {@code clock}. */
    public static FlockServer startOnRedis(Vertx vertx, String redisUrl, Clock clock, String... envPairs) {
        return start(vertx, clock, onRedis(redisUrl, envPairs));
    }

    private static String[] onRedis(String redisUrl, String... envPairs) {
        String[] all = new String[envPairs.length + 2];
        all[0] = "FLOCK_REDIS_URL";
        all[1] = redisUrl;
        System.arraycopy(envPairs, 0, all, 2, envPairs.length);
        return all;
    }

    private static FlockConfig config(String... envPairs) {
        Map<String, String> env = new HashMap<>();
        env.put("FLOCK_PORT", "0");
        env.put("FLOCK_HOST", "127.0.0.1");
        // shutdown closes every socket at once unless a test asks for the spread (it runs on the server's clock)
        env.put("FLOCK_SHUTDOWN_SPREAD_MS", "0");
        for (int i = 0; i + 1 < envPairs.length; i += 2) {
            env.put(envPairs[i], envPairs[i + 1]);
        }
        return FlockConfig.fromEnv(env);
    }
}
