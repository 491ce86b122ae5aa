package dev.flock.support;

import dev.flock.FlockServer;
import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import io.vertx.core.Vertx;

import java.util.HashMap;
import java.util.Map;

/** Starts a Flock server on a free loopback port with the given {@code FLOCK_*} settings. */
public final class TestServers {

    private TestServers() {
    }

    public static FlockServer start(Vertx vertx, String... envPairs) {
        Map<String, String> env = new HashMap<>();
        env.put("FLOCK_PORT", "0");
        env.put("FLOCK_HOST", "127.0.0.1");
        for (int i = 0; i + 1 < envPairs.length; i += 2) {
            env.put(envPairs[i], envPairs[i + 1]);
        }
        return WsClient.await(FlockServer.start(vertx, FlockConfig.fromEnv(env), FlockMetrics.inMemory()));
    }

    /** As {@link #start}, as one instance of a fleet sharing the Redis at {@code redisUrl}. */
    public static FlockServer startOnRedis(Vertx vertx, String redisUrl, String... envPairs) {
        String[] all = new String[envPairs.length + 2];
        all[0] = "FLOCK_REDIS_URL";
        all[1] = redisUrl;
        System.arraycopy(envPairs, 0, all, 2, envPairs.length);
        return start(vertx, all);
    }
}
