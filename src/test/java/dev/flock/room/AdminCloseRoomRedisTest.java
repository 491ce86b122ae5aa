package dev.flock.room;

import dev.flock.support.RedisExtension;
import dev.flock.support.TestCluster;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link AdminCloseRoomTest} in Redis mode: two instances on one Redis, the test's clients spread over both. */
class AdminCloseRoomRedisTest extends AdminCloseRoomTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();

    @Override
    protected TestCluster startCluster(Vertx vertx) {
        return TestCluster.redis(vertx, REDIS.server(), 2);
    }
}
