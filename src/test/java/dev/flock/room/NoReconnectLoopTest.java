package dev.flock.room;

import dev.flock.support.SdkLikeClient;
import dev.flock.support.TestCluster;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.type;
import static org.assertj.core.api.Assertions.assertThat;

/** With clients that reconnect after every close, like the SDK, the room settles: no leave/join churn. */
@ExtendWith(VertxExtension.class)
class NoReconnectLoopTest {

    private static final long OBSERVE_MS = 3000;

    /** The server(s) under test: one in memory here; {@link NoReconnectLoopRedisTest} runs two on one Redis. */
    protected TestCluster startCluster(Vertx vertx, String... env) {
        return TestCluster.memory(vertx, env);
    }

    @Test
    void share_twoSdkTabsOfOneUser_settle_watcherSeesOneJoinThenOneLeave(Vertx vertx) {
        try (TestCluster cluster = startCluster(vertx); WsClient watcher = WsClient.connect(vertx, cluster.port(0))) {
            watcher.joinAndAck("doc", "watcher", new JsonObject());
            SdkLikeClient tab1 = new SdkLikeClient(vertx, cluster.port(1)).room("doc", "alice", new JsonObject().put("name", "A")).connect();
            SdkLikeClient tab2 = new SdkLikeClient(vertx, cluster.port(2)).room("doc", "alice", new JsonObject().put("name", "A")).connect();
            watcher.await(is("user:joined", "doc", "alice"));
            observe(watcher);
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
        try (TestCluster cluster = startCluster(vertx, "FLOCK_MAX_ROOM_SIZE", "2");
             WsClient occupant = WsClient.connect(vertx, cluster.port(0)); WsClient watcher = WsClient.connect(vertx, cluster.port(1));
             WsClient second = WsClient.connect(vertx, cluster.port(2))) {
            occupant.joinAndAck("full", "occupant", new JsonObject());
            second.joinAndAck("full", "second", new JsonObject());
            watcher.joinAndAck("open", "watcher", new JsonObject());
            SdkLikeClient sdk = new SdkLikeClient(vertx, cluster.port(3))
                    .room("open", "carol", new JsonObject()).room("full", "carol", new JsonObject()).connect();
            watcher.await(is("user:joined", "open", "carol"));
            observe(watcher);
            assertThat(sdk.opens()).isEqualTo(1);
            assertThat(sdk.closes()).isZero();
            assertThat(watcher.count(is("user:left", "open", "carol"))).isZero();
            assertThat(watcher.count(is("user:joined", "open", "carol"))).isEqualTo(1);
            assertThat(occupant.count(is("user:joined", "full", "carol"))).isZero();
            sdk.close();
        }
    }

    /** Keeps the watcher alive while the clients run for a few seconds. */
    private static void observe(WsClient watcher) {
        long until = System.currentTimeMillis() + OBSERVE_MS;
        while (System.currentTimeMillis() < until) {
            int from = watcher.size();
            watcher.heartbeat("doc");
            watcher.awaitFrom(from, m -> type(m, "heartbeat:ack"));
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
