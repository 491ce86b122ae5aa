package dev.flock.room;

import dev.flock.support.SentinelExtension;
import dev.flock.support.TestCluster;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link RoomProtocolTest} through Sentinel (issue 23): two instances on the primary the sentinels name. */
class RoomProtocolSentinelTest extends RoomProtocolTest {

    @RegisterExtension
    static final SentinelExtension SENTINEL = new SentinelExtension();

    @Override
    protected TestCluster startCluster(Vertx vertx) {
        return TestCluster.sentinel(vertx, SENTINEL.set(), 2);
    }
}
