package dev.flock.webhook;

import dev.flock.support.ClusterExtension;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link WebhooksFleetTest} on a Redis Cluster (issue 23): each decision's event is recorded in its room's stream, in
 * the room's slot, and relayed to the outbox {@code flock:{webhooks}} on another master.
 */
class WebhooksClusterTest extends WebhooksFleetTest {

    @RegisterExtension
    static final ClusterExtension CLUSTER = new ClusterExtension();

    @Override
    protected String freshRedisUrl() {
        CLUSTER.set().flushAll();
        return CLUSTER.set().url();
    }
}
