package dev.flock.room;

import dev.flock.support.SentinelExtension;
import dev.flock.support.TestCluster;
import dev.flock.time.Clock;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link NoReconnectLoopTest} through Sentinel (issue 23): two instances on the primary the sentinels name. */
class NoReconnectLoopSentinelTest extends NoReconnectLoopTest {

    @RegisterExtension
    static final SentinelExtension SENTINEL = new SentinelExtension();

    @Override
    protected TestCluster startCluster(Vertx vertx, Clock clock, String... env) {
        return TestCluster.sentinel(vertx, SENTINEL.set(), 2, clock, env);
    }
}
