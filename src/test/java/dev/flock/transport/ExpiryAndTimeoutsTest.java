package dev.flock.transport;

import dev.flock.support.TestCluster;
import dev.flock.support.VirtualClock;
import dev.flock.support.WsClient;
import dev.flock.time.Clock;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.type;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Presence TTL per (connection, room), re-admission of expired tabs, and the no-join timeout, on a
 * {@link VirtualClock}: time is moved, never slept. The TTL is a realistic 30 s so that, in Redis mode, Redis's own
 * (real) expiry of each connection (TTL + 2 s) never fires during a test that takes a second of real time.
 */
@ExtendWith(VertxExtension.class)
class ExpiryAndTimeoutsTest {

    private static final int TTL_SECONDS = 30;
    /** Less than the TTL: a client that sends something at least this often stays present. */
    private static final Duration KEEP_ALIVE_STEP = Duration.ofSeconds(16);

    private final List<WsClient> clients = new ArrayList<>();
    private final VirtualClock clock = new VirtualClock();
    private TestCluster cluster;
    private Vertx vertx;
    private int moves;

    /** The server(s) under test: one in memory here; {@link ExpiryAndTimeoutsRedisTest} runs two on one Redis. */
    protected TestCluster startCluster(Vertx vertx, Clock clock, String... env) {
        return TestCluster.memory(vertx, clock, env);
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

    /** A heartbeat the connection has seen, at the clock's current time, once this returns. */
    private static void heartbeatAndAck(WsClient c, String roomId) {
        int from = c.size();
        c.heartbeat(roomId);
        c.awaitFrom(from, m -> type(m, "heartbeat:ack"));
    }

    /**
     * Keeps {@code userId}'s connection {@code c} alive: a move that the connection and the room have both seen at
     * the clock's current time once {@code observer} got it. A heartbeat's ack only shows that the connection saw
     * it; the room refreshes the store 1 s (of the clock) after it sees the activity, so if the clock moved on
     * before the room got there, the store could expire a connection the room still holds.
     */
    private void keepAlive(WsClient c, String userId, WsClient observer) {
        double x = ++moves / 1000.0;
        c.move("r", x, 0.5);
        observer.await(m -> is("cursor:updated", "r", userId).test(m) && m.getJsonObject("position").getDouble("x") == x);
    }

    @Test
    void silentConnection_isEvicted_whileItsSocketStaysOpen_andItsNextMessageReadmitsIt(Vertx vertx) {
        this.vertx = vertx;
        cluster = startCluster(vertx, clock, "FLOCK_PRESENCE_TTL_SECONDS", String.valueOf(TTL_SECONDS));
        WsClient watcher = client();
        WsClient silent = client();
        watcher.joinAndAck("r", "watcher", new JsonObject());
        silent.joinAndAck("r", "sleepy", new JsonObject().put("name", "Z"));

        clock.advance(KEEP_ALIVE_STEP);
        keepAlive(watcher, "watcher", silent); // the watcher keeps itself alive
        clock.advance(Duration.ofSeconds(TTL_SECONDS + 2).minus(KEEP_ALIVE_STEP)); // past the TTL and a scan
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
        cluster = startCluster(vertx, clock, "FLOCK_PRESENCE_TTL_SECONDS", String.valueOf(TTL_SECONDS));
        WsClient watcher = client();
        WsClient busyTab = client();
        WsClient silentTab = client();
        watcher.joinAndAck("r", "watcher", new JsonObject());
        busyTab.joinAndAck("r", "alice", new JsonObject());
        silentTab.joinAndAck("r", "alice", new JsonObject());
        // well past the TTL and a scan, the watcher and the busy tab active well within each TTL
        for (int i = 0; i < 3; i++) {
            clock.advance(KEEP_ALIVE_STEP);
            heartbeatAndAck(watcher, "r");
            heartbeatAndAck(busyTab, "r");
            keepAlive(watcher, "watcher", busyTab);
            keepAlive(busyTab, "alice", watcher);
        }
        int from = watcher.size();
        busyTab.move("r", 0.3, 0.3);
        watcher.awaitFrom(from, is("cursor:updated", "r", "alice"));
        assertThat(watcher.count(is("user:left", "r", "alice"))).isZero();
        busyTab.close(); // the silent tab expired: this was alice's last connection
        watcher.await(is("user:left", "r", "alice"));
        assertThat(watcher.count(is("user:left", "r", "alice"))).isEqualTo(1);
    }

    @Test
    void socketWithoutAJoin_isClosedWith1008_afterTheJoinTimeout(Vertx vertx) {
        this.vertx = vertx;
        cluster = startCluster(vertx, clock, "FLOCK_JOIN_TIMEOUT_SECONDS", "30");
        WsClient idle = client();
        WsClient joined = client();
        joined.joinAndAck("r", "u", new JsonObject());
        heartbeatAndAck(idle, "r"); // heartbeats are not a join

        clock.advance(Duration.ofSeconds(29));
        heartbeatAndAck(idle, "r"); // a close would have come before this ack
        assertThat(idle.isClosed()).isFalse();

        clock.advance(Duration.ofSeconds(2));
        assertThat(idle.awaitClose()).isEqualTo(1008);
        heartbeatAndAck(joined, "r");
        assertThat(joined.isClosed()).isFalse();
    }
}
