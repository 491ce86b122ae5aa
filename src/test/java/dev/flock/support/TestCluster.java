package dev.flock.support;

import dev.flock.FlockServer;
import dev.flock.time.Clock;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;

/**
 * The server(s) a behaviour suite runs against, so that one suite runs in both modes: in memory, one instance (the
 * reference); on Redis, several instances on one Redis, with the test's clients spread over them.
 */
public final class TestCluster implements AutoCloseable {

    private final List<FlockServer> servers;
    private final List<Vertx> ownVertxes;

    private TestCluster(List<FlockServer> servers, List<Vertx> ownVertxes) {
        this.servers = servers;
        this.ownVertxes = ownVertxes;
    }

    /** One in-memory instance in {@code vertx}, on real time. */
    public static TestCluster memory(Vertx vertx, String... env) {
        return memory(vertx, (Clock) null, env);
    }

    /** One in-memory instance in {@code vertx}, with time from {@code clock} (null: real time). */
    public static TestCluster memory(Vertx vertx, Clock clock, String... env) {
        return new TestCluster(List.of(start(vertx, clock, env)), List.of());
    }

    /**
     * {@code instances} instances on {@code redis} (flushed first): the first in {@code vertx}, the others each in a
     * Vert.x of its own, as separate processes would be. Every instance gets the same {@code env}. On real time.
     */
    public static TestCluster redis(Vertx vertx, RedisServer redis, int instances, String... env) {
        return redis(vertx, redis, instances, (Clock) null, env);
    }

    /**
     * As {@link #redis(Vertx, RedisServer, int, String...)}, every instance with time from the one {@code clock}
     * (null: each on real time). Redis keeps its own, real clock: a connection's Redis keys expire after the TTL
     * plus a grace of real time, so a test that moves the clock past a TTL should use a realistic TTL.
     */
    public static TestCluster redis(Vertx vertx, RedisServer redis, int instances, Clock clock, String... env) {
        redis.command("FLUSHALL");
        return onRedis(vertx, redis.url(), instances, clock, env);
    }

    /** As {@link #redis(Vertx, RedisServer, int, String...)}, through the sentinels of {@code sentinels} (issue 23). */
    public static TestCluster sentinel(Vertx vertx, SentinelSet sentinels, int instances, String... env) {
        return sentinel(vertx, sentinels, instances, null, env);
    }

    /** As {@link #redis(Vertx, RedisServer, int, Clock, String...)}, through the sentinels of {@code sentinels}. */
    public static TestCluster sentinel(Vertx vertx, SentinelSet sentinels, int instances, Clock clock, String... env) {
        sentinels.primary("FLUSHALL");
        return onRedis(vertx, sentinels.url(), instances, clock, env);
    }

    /** As {@link #redis(Vertx, RedisServer, int, String...)}, on the Redis Cluster {@code cluster} (issue 23). */
    public static TestCluster cluster(Vertx vertx, ClusterSet cluster, int instances, String... env) {
        return cluster(vertx, cluster, instances, null, env);
    }

    /** As {@link #redis(Vertx, RedisServer, int, Clock, String...)}, on the Redis Cluster {@code cluster}. */
    public static TestCluster cluster(Vertx vertx, ClusterSet cluster, int instances, Clock clock, String... env) {
        cluster.flushAll();
        return onRedis(vertx, cluster.url(), instances, clock, env);
    }

    private static TestCluster onRedis(Vertx vertx, String url, int instances, Clock clock, String... env) {
        String[] all = new String[env.length + 2];
        all[0] = "FLOCK_REDIS_URL";
        all[1] = url;
        System.arraycopy(env, 0, all, 2, env.length);
        List<FlockServer> servers = new ArrayList<>();
        List<Vertx> own = new ArrayList<>();
        servers.add(start(vertx, clock, all));
        for (int i = 1; i < instances; i++) {
            Vertx v = Vertx.vertx();
            own.add(v);
            servers.add(start(v, clock, all));
        }
        return new TestCluster(servers, own);
    }

    private static FlockServer start(Vertx vertx, Clock clock, String... env) {
        return clock == null ? TestServers.start(vertx, env) : TestServers.start(vertx, clock, env);
    }

    /** The first instance (the only one in memory mode). */
    public FlockServer first() {
        return servers.get(0);
    }

    /** Where a test's {@code n}-th client connects: the instances take turns (always the one in memory mode). */
    public int port(int n) {
        return servers.get(n % servers.size()).port();
    }

    /** The instance the {@code n}-th client connects to. */
    public FlockServer serverFor(int n) {
        return servers.get(n % servers.size());
    }

    public int size() {
        return servers.size();
    }

    /** Stops the instances this cluster started in Vert.x instances of its own; the caller's Vert.x is the caller's. */
    @Override
    public void close() {
        for (int i = 1; i < servers.size(); i++) {
            try {
                WsClient.await(servers.get(i).stop(true));
            } catch (RuntimeException ignored) {
                // stopped by the test already
            }
        }
        for (Vertx v : ownVertxes) {
            WsClient.await(v.close());
        }
    }
}
