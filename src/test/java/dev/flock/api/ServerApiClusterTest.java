package dev.flock.api;

import dev.flock.support.ClusterExtension;
import dev.flock.support.TestCluster;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link ServerApiRedisTest} on a Redis Cluster (issue 23): the room list and a user's rooms are read from every
 * master (SCAN per master, one rooms-of call per room's slot).
 */
class ServerApiClusterTest extends ServerApiRedisTest {

    @RegisterExtension
    static final ClusterExtension CLUSTER = new ClusterExtension();

    @Override
    protected TestCluster startCluster(Vertx vertx, String... env) {
        return TestCluster.cluster(vertx, CLUSTER.set(), 2, env);
    }
}
