package dev.flock.room;

import dev.flock.support.RedisExtension;
import dev.flock.support.TestCluster;
import dev.flock.time.Clock;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link NoReconnectLoopTest} in Redis mode: two instances on one Redis, the test's clients spread over both. */
class NoReconnectLoopRedisTest extends NoReconnectLoopTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();

    @Override
    protected TestCluster startCluster(Vertx vertx, Clock clock, String... env) {
        return TestCluster.redis(vertx, REDIS.server(), 2, clock, env);
    }
}
