package dev.flock.room;

import dev.flock.support.ClusterExtension;
import dev.flock.support.TestCluster;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link AdminCloseRoomTest} on a Redis Cluster (issue 23): two instances, the rooms spread over three masters. */
class AdminCloseRoomClusterTest extends AdminCloseRoomTest {

    @RegisterExtension
    static final ClusterExtension CLUSTER = new ClusterExtension();

    @Override
    protected TestCluster startCluster(Vertx vertx) {
        return TestCluster.cluster(vertx, CLUSTER.set(), 2);
    }
}
