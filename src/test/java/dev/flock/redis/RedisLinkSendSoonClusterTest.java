package dev.flock.redis;

import dev.flock.metrics.FlockMetrics;
import dev.flock.support.ClusterExtension;
import dev.flock.support.ClusterSet;
import dev.flock.support.RedisMonitor;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.flock.support.WsClient.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 23, in a cluster: a command that may wait ({@link RedisLink#sendSoon}, a room's refresh) leaves in the write
 * of the next publish batch to its slot's master, on the connection that carries that master's publishes, so the
 * master reads both in one wake-up. A real three-master cluster; the test holds the bridge's loop while it asks.
 */
class RedisLinkSendSoonClusterTest {

    @RegisterExtension
    static final ClusterExtension CLUSTER = new ClusterExtension();
    private static final KeyLayout KEYS = KeyLayout.CLUSTER;

    private Vertx vertx;
    private RedisLink link;
    private Context bridge;

    @BeforeEach
    void setUp() throws Exception {
        CLUSTER.set().flushAll();
        vertx = Vertx.vertx();
        link = new RedisLink(RedisPresenceStoreTest.config(CLUSTER.set().url()), FlockMetrics.inMemory());
        bridge = vertx.getOrCreateContext();
        CompletableFuture<Future<Void>> started = new CompletableFuture<>();
        bridge.runOnContext(v -> started.complete(link.start(vertx)));
        await(started.get(20, TimeUnit.SECONDS));
    }

    @AfterEach
    void tearDown() throws Exception {
        await(link.stop());
        await(vertx.close());
    }

    @Test
    void aWaitingCommand_leavesOnItsMastersPublishConnection_inTheBatchsWrite() throws Exception {
        ClusterSet cluster = CLUSTER.set();
        String room = "soon-" + System.nanoTime();
        String key = KEYS.members(room);
        String channel = KEYS.channel(room);
        String other = otherMastersRoom(cluster, room);
        String otherKey = KEYS.members(other);
        String otherChannel = KEYS.channel(other);
        try (RedisMonitor monitor = RedisMonitor.of(cluster, cluster.ownerOf(key))) {
            CompletableFuture<List<Future<?>>> asked = new CompletableFuture<>();
            bridge.runOnContext(v -> asked.complete(List.of(
                    link.sendSoon(key, Request.cmd(Command.SET).arg(key).arg("refreshed")),
                    link.sendSoon(otherKey, Request.cmd(Command.SET).arg(otherKey).arg("refreshed")),
                    link.publish(List.of(channel, otherChannel), List.of(
                            Request.cmd(Command.SPUBLISH).arg(channel).arg("batch"),
                            Request.cmd(Command.SPUBLISH).arg(otherChannel).arg("batch"))))));
            List<Future<?>> futures = asked.get(10, TimeUnit.SECONDS);
            await(Future.all(futures));
            assertThat(((Response) futures.get(0).result()).toString()).isEqualTo("OK");
            assertThat(((Response) futures.get(1).result()).toString()).isEqualTo("OK");
            List<String> senders = monitor.sendersUntilMarker(room);
            assertThat(senders).as("the waiting SET first, then the publish").hasSize(2);
            String[] set = senders.get(0).split(" ");
            String[] publish = senders.get(1).split(" ");
            assertThat(set[0]).isEqualTo("SET");
            assertThat(publish[0]).isEqualTo("SPUBLISH");
            assertThat(set[1]).as("one connection, the master's publish connection: " + senders).isEqualTo(publish[1]);
        }
        assertThat(cluster.commandFor(otherKey, "GET", otherKey)).isEqualTo("refreshed");
    }

    /** A room whose slot another master owns than {@code room}'s. */
    private static String otherMastersRoom(ClusterSet cluster, String room) {
        int owner = cluster.ownerOf(KEYS.members(room));
        for (int i = 0; ; i++) {
            String other = room + "-" + i;
            if (cluster.ownerOf(KEYS.members(other)) != owner) {
                return other;
            }
        }
    }
}
