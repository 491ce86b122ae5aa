package dev.flock.transport;

import dev.flock.support.RedisExtension;
import dev.flock.support.TestCluster;
import dev.flock.time.Clock;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link ExpiryAndTimeoutsTest} in Redis mode: two instances on one Redis, sharing the test's clock, the test's
 * clients spread over both.
 */
class ExpiryAndTimeoutsRedisTest extends ExpiryAndTimeoutsTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();

    @Override
    protected TestCluster startCluster(Vertx vertx, Clock clock, String... env) {
        return TestCluster.redis(vertx, REDIS.server(), 2, clock, env);
    }
}
