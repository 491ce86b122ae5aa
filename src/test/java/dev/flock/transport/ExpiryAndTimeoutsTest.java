package dev.flock.transport;

import dev.flock.support.TestCluster;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;

import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.type;
import static org.assertj.core.api.Assertions.assertThat;

/** Presence TTL per (connection, room) without Redis, re-admission of expired tabs, and the no-join timeout. */
@ExtendWith(VertxExtension.class)
class ExpiryAndTimeoutsTest {

    private final List<WsClient> clients = new ArrayList<>();
    private TestCluster cluster;
    private Vertx vertx;

    /** The server(s) under test: one in memory here; {@link ExpiryAndTimeoutsRedisTest} runs two on one Redis. */
    protected TestCluster startCluster(Vertx vertx, String... env) {
        return TestCluster.memory(vertx, env);
    }

    @AfterEach
    void stop() {
        clients.forEach(WsClient::close);
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The n-th client of a test connects to the n-th instance in turn (all to the one in memory mode). */
    private WsClient client() {
        WsClient c = WsClient.connect(vertx, cluster.port(clients.size()));
        clients.add(c);
        return c;
    }

    @Test
    void silentConnection_isEvicted_whileItsSocketStaysOpen_andItsNextMessageReadmitsIt(Vertx vertx) {
        this.vertx = vertx;
        cluster = startCluster(vertx, "FLOCK_PRESENCE_TTL_SECONDS", "1");
        WsClient watcher = client();
        WsClient silent = client();
        watcher.joinAndAck("r", "watcher", new JsonObject());
        silent.joinAndAck("r", "sleepy", new JsonObject().put("name", "Z"));
        // the watcher keeps itself alive while it waits
        long deadline = System.currentTimeMillis() + 8000;
        while (watcher.count(is("user:left", "r", "sleepy")) == 0 && System.currentTimeMillis() < deadline) {
            int from = watcher.size();
            watcher.heartbeat("r");
            watcher.awaitFrom(from, m -> type(m, "heartbeat:ack"));
            pause(200);
        }
        watcher.await(is("user:left", "r", "sleepy"));
        assertThat(watcher.count(is("user:left", "r", "watcher"))).isZero();
        assertThat(silent.isClosed()).isFalse();

        int from = silent.size();
        silent.heartbeat("r"); // the throttled tab wakes up
        JsonObject ack = silent.awaitFrom(from, m -> type(m, "join:ack"));
        assertThat(ack.getString("roomId")).isEqualTo("r");
        JsonObject rejoined = watcher.awaitFrom(watcher.indexOf(is("user:left", "r", "sleepy")),
                is("user:joined", "r", "sleepy"));
        assertThat(rejoined.getJsonObject("metadata")).isEqualTo(new JsonObject().put("name", "Z"));
    }

    @Test
    void share_silentTabExpiresAlone_whileTheUsersOtherTabKeepsThemPresent(Vertx vertx) {
        this.vertx = vertx;
        cluster = startCluster(vertx, "FLOCK_PRESENCE_TTL_SECONDS", "1");
        WsClient watcher = client();
        WsClient busyTab = client();
        WsClient silentTab = client();
        watcher.joinAndAck("r", "watcher", new JsonObject());
        busyTab.joinAndAck("r", "alice", new JsonObject());
        silentTab.joinAndAck("r", "alice", new JsonObject());
        long until = System.currentTimeMillis() + 3500; // well past the TTL and a scan
        while (System.currentTimeMillis() < until) {
            watcher.heartbeat("r");
            busyTab.heartbeat("r");
            pause(200);
        }
        busyTab.move("r", 0.3, 0.3);
        watcher.await(is("cursor:updated", "r", "alice"));
        assertThat(watcher.count(is("user:left", "r", "alice"))).isZero();
        busyTab.close();
        watcher.await(is("user:left", "r", "alice"));
        assertThat(watcher.count(is("user:left", "r", "alice"))).isEqualTo(1);
    }

    @Test
    void socketWithoutAJoin_isClosedWith1008_afterTheJoinTimeout(Vertx vertx) {
        this.vertx = vertx;
        cluster = startCluster(vertx, "FLOCK_JOIN_TIMEOUT_SECONDS", "1");
        WsClient idle = client();
        idle.heartbeat("r"); // heartbeats are not a join
        assertThat(idle.awaitClose()).isEqualTo(1008);
        WsClient joined = client();
        joined.joinAndAck("r", "u", new JsonObject());
        joined.heartbeat("r");
        pause(2500);
        assertThat(joined.isClosed()).isFalse();
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
