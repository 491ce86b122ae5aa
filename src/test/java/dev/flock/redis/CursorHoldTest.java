package dev.flock.redis;

import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import dev.flock.support.ClusterSet;
import dev.flock.support.RedisExtension;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How long a batch of cursor publishes is held before it leaves for Redis: half a flush interval on one Redis, that
 * times the masters in a cluster (so the masters together wake as often as one Redis), never more than two flush
 * intervals. The masters are counted from a real cluster's slot map.
 */
class CursorHoldTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();

    @Test
    void oneRedis_holdsHalfAFlushInterval() {
        assertThat(RedisBroker.cursorHoldMs(16, 1)).isEqualTo(8);
        assertThat(RedisBroker.cursorHoldMs(4, 1)).isEqualTo(2);
    }

    @Test
    void cluster_holdsMastersTimesAsLong_cappedAtTwoFlushIntervals() {
        assertThat(RedisBroker.cursorHoldMs(16, 3)).isEqualTo(24);
        assertThat(RedisBroker.cursorHoldMs(16, 4)).isEqualTo(32);
        assertThat(RedisBroker.cursorHoldMs(16, 5)).as("capped").isEqualTo(32);
        assertThat(RedisBroker.cursorHoldMs(16, 64)).as("capped").isEqualTo(32);
    }

    @Test
    void noFlushInterval_holdsNothing() {
        assertThat(RedisBroker.cursorHoldMs(0, 1)).isZero();
        assertThat(RedisBroker.cursorHoldMs(0, 3)).isZero();
    }

    @Test
    void realTopologies_countTheirPublishTargets() throws Exception {
        assertThat(holdOnce(REDIS.server().url())).as("one Redis").isEqualTo(8);
        try (ClusterSet cluster = ClusterSet.start()) {
            assertThat(holdOnce(cluster.url())).as("three masters").isEqualTo(24);
        }
    }

    /** Connects a link and a broker to {@code url} (flush interval 16 ms) and returns the broker's hold. */
    private static int holdOnce(String url) throws Exception {
        FlockConfig config = FlockConfig.fromEnv(Map.of("FLOCK_REDIS_URL", url, "FLOCK_FLUSH_INTERVAL_MS", "16"));
        Vertx vertx = Vertx.vertx();
        try {
            RedisLink link = new RedisLink(config, FlockMetrics.inMemory());
            RedisBroker broker = new RedisBroker(link, config, FlockMetrics.inMemory(), "hold-test");
            broker.attach(vertx, vertx.getOrCreateContext());
            get(link.start(vertx));
            assertThat(link.connected()).isTrue();
            int hold = broker.cursorHoldMs();
            get(link.stop());
            return hold;
        } finally {
            get(vertx.close());
        }
    }

    private static <T> T get(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
