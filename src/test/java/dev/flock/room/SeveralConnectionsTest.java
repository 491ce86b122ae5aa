package dev.flock.room;

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

/** Issue 8 on one instance: one user in several tabs (share and evict), and a full room that refuses only itself. */
@ExtendWith(VertxExtension.class)
class SeveralConnectionsTest {

    /** PROTOCOL.md: a refused connection's heartbeat retries its join at most once per 5 s. */
    private static final Duration REFUSED_RETRY = Duration.ofSeconds(5);

    private final List<WsClient> clients = new ArrayList<>();
    private TestCluster cluster;
    private Vertx vertx;

    /**
     * The server(s) under test, with time from {@code clock} (null: real time): one in memory here;
     * {@link SeveralConnectionsRedisTest} runs two on one Redis.
     */
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

    private void start(Vertx vertx, String... env) {
        start(vertx, (Clock) null, env);
    }

    private void start(Vertx vertx, Clock clock, String... env) {
        this.vertx = vertx;
        cluster = startCluster(vertx, clock, env);
    }

    /** The n-th client of a test connects to the n-th instance in turn (all to the one in memory mode). */
    private WsClient client() {
        WsClient c = WsClient.connect(vertx, cluster.port(clients.size()));
        clients.add(c);
        return c;
    }

    private static JsonObject meta(String name) {
        return new JsonObject().put("name", name);
    }

    @Test
    void aRejoinRefusedForItsMetadata_leavesTheSocketInTheRoom_andItsCloseStillAnnouncesTheLeave(Vertx vertx) {
        start(vertx);
        WsClient watcher = client();
        watcher.joinAndAck("r", "watcher", meta("W"));
        WsClient big = client();
        big.joinAndAck("r", "big", new JsonObject().put("a", "x".repeat(3000)));
        int from = big.size();
        big.join("r", "big", new JsonObject().put("b", "y".repeat(3000))); // merged: over 4 KiB
        JsonObject error = big.awaitFrom(from, m -> type(m, "error"));
        assertThat(error.getString("code")).isEqualTo("INVALID_MESSAGE");
        assertThat(error.getString("roomId")).isEqualTo("r");
        big.move("r", 0.5, 0.5); // still in the room, with its old metadata
        watcher.await(is("cursor:updated", "r", "big"));
        big.close();
        watcher.await(is("user:left", "r", "big"));
    }

    @Test
    void share_twoTabsWithEqualMetadata_announceOneJoinAndOneLeave(Vertx vertx) {
        start(vertx);
        WsClient watcher = client();
        watcher.joinAndAck("r", "watcher", meta("W"));
        WsClient tab1 = client();
        WsClient tab2 = client();
        tab1.joinAndAck("r", "alice", meta("Alice"));
        JsonObject ack2 = tab2.joinAndAck("r", "alice", meta("Alice"));
        assertThat(ack2.getJsonArray("users").stream().map(u -> ((JsonObject) u).getString("userId"))).containsExactly("watcher");

        tab1.close();
        tab2.move("r", 0.5, 0.5); // barrier: anything about tab1's close reached the watcher before this
        watcher.await(is("cursor:updated", "r", "alice"));
        assertThat(watcher.count(is("user:left", "r", "alice"))).isZero();

        tab2.close();
        watcher.await(is("user:left", "r", "alice"));
        assertThat(watcher.count(is("user:joined", "r", "alice"))).isEqualTo(1);
        assertThat(watcher.count(is("user:left", "r", "alice"))).isEqualTo(1);
    }

    @Test
    void share_secondTabWithDifferentMetadata_announcesOnlyTheChangedFields(Vertx vertx) {
        start(vertx);
        WsClient watcher = client();
        watcher.joinAndAck("r", "watcher", meta("W"));
        client().joinAndAck("r", "alice", new JsonObject().put("name", "Alice").put("color", "#111111"));
        client().joinAndAck("r", "alice", new JsonObject().put("name", "Alice").put("color", "#222222").put("tab", 2));
        JsonObject update = watcher.await(is("presence:updated", "r", "alice"));
        assertThat(update.getJsonObject("metadata")).isEqualTo(new JsonObject().put("color", "#222222").put("tab", 2));
        JsonObject snapshot = client().joinAndAck("r", "carol", meta("C"));
        JsonObject alice = snapshot.getJsonArray("users").stream().map(JsonObject.class::cast)
                .filter(u -> "alice".equals(u.getString("userId"))).findFirst().orElseThrow();
        assertThat(alice.getJsonObject("metadata"))
                .isEqualTo(new JsonObject().put("name", "Alice").put("color", "#222222").put("tab", 2));
        assertThat(watcher.count(is("user:joined", "r", "alice"))).isEqualTo(1);
    }

    @Test
    void share_aUsersEventsNeverReachTheirOtherTabs_andTheCursorBelongsToTheUser(Vertx vertx) {
        start(vertx);
        WsClient tab1 = client();
        WsClient tab2 = client();
        WsClient bob = client();
        tab1.joinAndAck("r", "alice", meta("Alice"));
        tab2.joinAndAck("r", "alice", meta("Alice"));
        bob.joinAndAck("r", "bob", meta("Bob"));
        tab1.move("r", 0.1, 0.1);
        // two sockets race to the room: wait for the first move before the second, so "latest" is defined
        bob.await(m -> is("cursor:updated", "r", "alice").test(m) && m.getJsonObject("position").getDouble("x") == 0.1);
        tab2.move("r", 0.9, 0.9);
        bob.await(m -> is("cursor:updated", "r", "alice").test(m) && m.getJsonObject("position").getDouble("x") == 0.9);
        tab1.send(new JsonObject().put("type", "presence:update").put("roomId", "r").put("metadata", new JsonObject().put("s", 1)));
        bob.await(is("presence:updated", "r", "alice"));
        bob.move("r", 0.5, 0.5);
        tab1.await(is("cursor:updated", "r", "bob"));
        tab2.await(is("cursor:updated", "r", "bob"));
        for (WsClient tab : List.of(tab1, tab2)) {
            assertThat(tab.count(m -> "alice".equals(m.getString("userId")))).isZero();
        }
        JsonObject snapshot = client().joinAndAck("r", "carol", meta("C"));
        JsonObject alice = snapshot.getJsonArray("users").stream().map(JsonObject.class::cast)
                .filter(u -> "alice".equals(u.getString("userId"))).findFirst().orElseThrow();
        assertThat(alice.getJsonObject("cursor")).isEqualTo(new JsonObject().put("x", 0.9).put("y", 0.9));
    }

    @Test
    void roomLimit_countsUsers_notTabs_andRoomFullDoesNotClose(Vertx vertx) {
        start(vertx, "FLOCK_MAX_ROOM_SIZE", "2");
        WsClient alice = client();
        WsClient bob = client();
        alice.joinAndAck("full", "alice", meta("A"));
        bob.joinAndAck("full", "bob", meta("B"));
        client().joinAndAck("full", "alice", meta("A")); // another tab of a present user is always admitted

        WsClient carol = client();
        carol.joinAndAck("other", "carol", meta("C"));
        WsClient otherWatcher = client();
        otherWatcher.joinAndAck("other", "dave", meta("D"));
        carol.join("full", "carol", meta("C"));
        JsonObject error = carol.await(m -> type(m, "error"));
        assertThat(error.getString("code")).isEqualTo("ROOM_FULL");
        assertThat(error.getString("roomId")).isEqualTo("full");

        carol.move("other", 0.2, 0.2); // still connected and still in its other room
        otherWatcher.await(is("cursor:updated", "other", "carol"));
        assertThat(carol.isClosed()).isFalse();
        assertThat(otherWatcher.count(is("user:left", "other", "carol"))).isZero();
        assertThat(alice.count(is("user:joined", "full", "carol"))).isZero();
    }

    @Test
    void refusedConnection_isAdmittedByALaterHeartbeatOnceASeatIsFree(Vertx vertx) {
        VirtualClock clock = new VirtualClock();
        start(vertx, clock, "FLOCK_MAX_ROOM_SIZE", "1");
        WsClient alice = client();
        alice.joinAndAck("full", "alice", meta("A"));
        WsClient bob = client();
        bob.join("full", "bob", meta("B"));
        bob.await(m -> type(m, "error") && "ROOM_FULL".equals(m.getString("code")));
        alice.leave("full");
        // retries happen at most once per 5 s: move the clock that far, and the next heartbeat retries; the leave
        // may reach the store after a retry (another instance in Redis mode), so a refused retry gets another round
        for (int round = 0; round < 3 && bob.count(m -> type(m, "join:ack")) == 0; round++) {
            clock.advance(REFUSED_RETRY);
            int from = bob.size();
            bob.heartbeat("full");
            bob.awaitFrom(from, m -> type(m, "join:ack")
                    || (type(m, "error") && "ROOM_FULL".equals(m.getString("code")))); // the retry's answer
        }
        assertThat(bob.isClosed()).isFalse();
        JsonObject ack = bob.await(m -> type(m, "join:ack") && "full".equals(m.getString("roomId")));
        assertThat(ack.getJsonArray("users")).isEmpty();
    }

    @Test
    void evict_oldSocketIsClosed_roomSeesLeaveThenJoin_andTheStaleCloseEvictsNobody(Vertx vertx) {
        start(vertx, "FLOCK_DUPLICATE_JOIN", "evict");
        WsClient watcher = client();
        watcher.joinAndAck("r", "watcher", meta("W"));
        WsClient old = client();
        old.joinAndAck("r", "alice", meta("Old"));
        // on two instances the old join reaches the watcher's instance over Redis: a takeover before it arrives is
        // seen there as alice joining once (never as a leave), so the test waits until the room shows the old tab
        watcher.await(m -> is("user:joined", "r", "alice").test(m)
                && "Old".equals(m.getJsonObject("metadata").getString("name")));
        WsClient fresh = client();
        fresh.joinAndAck("r", "alice", meta("New"));
        assertThat(old.awaitClose()).isEqualTo(4000);
        JsonObject joinedAgain = watcher.await(m -> is("user:joined", "r", "alice").test(m)
                && "New".equals(m.getJsonObject("metadata").getString("name")));
        assertThat(joinedAgain).isNotNull();
        int left = watcher.indexOf(is("user:left", "r", "alice"));
        assertThat(left).isGreaterThanOrEqualTo(0).isLessThan(watcher.messages().indexOf(joinedAgain));

        fresh.move("r", 0.4, 0.4);
        watcher.await(is("cursor:updated", "r", "alice"));
        assertThat(watcher.count(is("user:left", "r", "alice"))).isEqualTo(1);
    }
}
