package dev.flock.room;

import dev.flock.support.Fleet;
import dev.flock.support.SdkLikeClient;
import dev.flock.support.TestCluster;
import dev.flock.support.VirtualClock;
import dev.flock.support.WsClient;
import dev.flock.time.Clock;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Map;

import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.type;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * With clients that reconnect after every close, like the SDK, the room settles: no leave/join churn.
 *
 * <p>The SDK-like clients run on real time (a heartbeat per room every second, a reconnect 100 ms after a close), so
 * the room is watched for a few real seconds. Meanwhile the server's {@link VirtualClock} is moved
 * {@link #VIRTUAL_STEP} every {@link #ROUND_MS} ms, about twelve times as fast: over the window the server lives more
 * than a TTL (30 s), its scans run, the SDK's heartbeats arrive about 12 s apart as the real SDK's (10 s) do, and a
 * refused room is retried (at most once per 5 s) by each of them.
 */
@ExtendWith(VertxExtension.class)
class NoReconnectLoopTest {

    private static final long OBSERVE_MS = 3000;
    private static final long ROUND_MS = 250;
    private static final Duration VIRTUAL_STEP = Duration.ofSeconds(3);

    private final VirtualClock clock = new VirtualClock();

    /** The server(s) under test: one in memory here; {@link NoReconnectLoopRedisTest} runs two on one Redis. */
    protected TestCluster startCluster(Vertx vertx, Clock clock, String... env) {
        return TestCluster.memory(vertx, clock, env);
    }

    @Test
    void share_twoSdkTabsOfOneUser_settle_watcherSeesOneJoinThenOneLeave(Vertx vertx) {
        try (TestCluster cluster = startCluster(vertx, clock); WsClient watcher = WsClient.connect(vertx, cluster.port(0))) {
            watcher.joinAndAck("doc", "watcher", new JsonObject());
            SdkLikeClient tab1 = new SdkLikeClient(vertx, cluster.port(1)).room("doc", "alice", new JsonObject().put("name", "A")).connect();
            SdkLikeClient tab2 = new SdkLikeClient(vertx, cluster.port(2)).room("doc", "alice", new JsonObject().put("name", "A")).connect();
            watcher.await(is("user:joined", "doc", "alice"));
            observe(Map.of(watcher, "doc"));
            assertThat(watcher.count(is("user:joined", "doc", "alice"))).isEqualTo(1);
            assertThat(watcher.count(is("user:left", "doc", "alice"))).isZero();
            assertThat(tab1.opens()).isEqualTo(1);
            assertThat(tab2.opens()).isEqualTo(1);
            tab1.close();
            tab2.close();
            watcher.await(is("user:left", "doc", "alice"));
            assertThat(watcher.count(is("user:left", "doc", "alice"))).isEqualTo(1);
        }
    }

    @Test
    void aClientRefusedByAFullRoom_staysConnected_andNeverLeavesItsOtherRoom(Vertx vertx) {
        try (TestCluster cluster = startCluster(vertx, clock, "FLOCK_MAX_ROOM_SIZE", "2");
             WsClient occupant = WsClient.connect(vertx, cluster.port(0)); WsClient watcher = WsClient.connect(vertx, cluster.port(1));
             WsClient second = WsClient.connect(vertx, cluster.port(2))) {
            occupant.joinAndAck("full", "occupant", new JsonObject());
            second.joinAndAck("full", "second", new JsonObject());
            watcher.joinAndAck("open", "watcher", new JsonObject());
            SdkLikeClient sdk = new SdkLikeClient(vertx, cluster.port(3))
                    .room("open", "carol", new JsonObject()).room("full", "carol", new JsonObject()).connect();
            watcher.await(is("user:joined", "open", "carol"));
            Fleet.awaitTrue("carol's join refused", WsClient.TIMEOUT, () -> roomFullSent(cluster) >= 1);
            double refusedBefore = roomFullSent(cluster);
            observe(Map.of(occupant, "full", second, "full", watcher, "open"));
            assertThat(roomFullSent(cluster)).as("the SDK's heartbeats retried the full room").isGreaterThan(refusedBefore);
            assertThat(sdk.opens()).isEqualTo(1);
            assertThat(sdk.closes()).isZero();
            assertThat(watcher.count(is("user:left", "open", "carol"))).isZero();
            assertThat(watcher.count(is("user:joined", "open", "carol"))).isEqualTo(1);
            assertThat(occupant.count(is("user:joined", "full", "carol"))).isZero();
            sdk.close();
        }
    }

    /**
     * Watches for a few real seconds while the server's clock runs ahead; each round the test's own clients send a
     * heartbeat to the room they are in (and get its ack), so they stay present however far the clock goes.
     */
    private void observe(Map<WsClient, String> keepAlive) {
        long until = System.currentTimeMillis() + OBSERVE_MS;
        while (System.currentTimeMillis() < until) {
            clock.advance(VIRTUAL_STEP);
            keepAlive.forEach((client, roomId) -> {
                int from = client.size();
                client.heartbeat(roomId);
                client.awaitFrom(from, m -> type(m, "heartbeat:ack"));
            });
            try {
                Thread.sleep(ROUND_MS); // real time for the SDK-like clients' own timers, not for the server's
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static double roomFullSent(TestCluster cluster) {
        double sum = 0;
        for (int i = 0; i < cluster.size(); i++) {
            Counter c = cluster.serverFor(i).metrics().registry().find("flock.errors.sent").tag("code", "ROOM_FULL").counter();
            sum += c == null ? 0 : c.count();
        }
        return sum;
    }
}
