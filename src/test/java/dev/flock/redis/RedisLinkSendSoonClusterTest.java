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
        String key = "flock:{" + room + "}:members";
        String channel = "flock:{" + room + "}:broadcast";
        String other = otherMastersRoom(cluster, room);
        String otherKey = "flock:{" + other + "}:members";
        String otherChannel = "flock:{" + other + "}:broadcast";
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
            assertThat(senders.get(0)).startsWith("SET ");
            assertThat(senders.get(1)).startsWith("SPUBLISH ");
            assertThat(senders.get(0).substring(4)).as("one connection, the master's publish connection: " + senders)
                    .isEqualTo(senders.get(1).substring(9));
        }
        assertThat(cluster.commandFor(otherKey, "GET", otherKey)).isEqualTo("refreshed");
    }

    /** A room whose slot another master owns than {@code room}'s. */
    private static String otherMastersRoom(ClusterSet cluster, String room) {
        int owner = cluster.ownerOf("flock:{" + room + "}:members");
        for (int i = 0; ; i++) {
            String other = room + "-" + i;
            if (cluster.ownerOf("flock:{" + other + "}:members") != owner) {
                return other;
            }
        }
    }
}
