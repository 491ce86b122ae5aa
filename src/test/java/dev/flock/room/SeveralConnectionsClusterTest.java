package dev.flock.room;

import dev.flock.support.ClusterExtension;
import dev.flock.support.TestCluster;
import dev.flock.time.Clock;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link SeveralConnectionsTest} on a Redis Cluster (issue 23): two instances, the rooms spread over three masters. */
class SeveralConnectionsClusterTest extends SeveralConnectionsTest {

    @RegisterExtension
    static final ClusterExtension CLUSTER = new ClusterExtension();

    @Override
    protected TestCluster startCluster(Vertx vertx, Clock clock, String... env) {
        return TestCluster.cluster(vertx, CLUSTER.set(), 2, clock, env);
    }
}
