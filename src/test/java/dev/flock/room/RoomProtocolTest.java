package dev.flock.room;

import dev.flock.FlockServer;
import dev.flock.support.TestCluster;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;

import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.type;
import static org.assertj.core.api.Assertions.assertThat;

/** The protocol on one instance, over real sockets: PROTOCOL.md's message tables and core behaviour. */
@ExtendWith(VertxExtension.class)
class RoomProtocolTest {

    private final List<WsClient> clients = new ArrayList<>();
    private TestCluster cluster;
    private FlockServer server;
    private Vertx vertx;

    /** The server(s) under test: one in memory here; {@link RoomProtocolRedisTest} runs two on one Redis. */
    protected TestCluster startCluster(Vertx vertx) {
        return TestCluster.memory(vertx);
    }

    @BeforeEach
    void start(Vertx vertx) {
        this.vertx = vertx;
        cluster = startCluster(vertx);
        server = cluster.first();
    }

    @AfterEach
    void stop() {
        clients.forEach(WsClient::close);
        cluster.close();
    }

    /** The n-th client of a test connects to the n-th instance in turn (all to the one in memory mode). */
    private WsClient client() {
        WsClient c = WsClient.connect(vertx, cluster.port(clients.size()));
        clients.add(c);
        return c;
    }

    private static JsonObject meta(String name) {
        return new JsonObject().put("name", name).put("color", "#ff0000");
    }

    @Test
    void join_acksWithSnapshotAndAnnouncesToOthers() {
        WsClient alice = client();
        JsonObject ack = alice.joinAndAck("doc:1", "alice", meta("Alice"));
        assertThat(ack.getJsonArray("users")).isEmpty();

        WsClient bob = client();
        JsonObject bobAck = bob.joinAndAck("doc:1", "bob", meta("Bob"));
        JsonArray users = bobAck.getJsonArray("users");
        assertThat(users).hasSize(1);
        assertThat(users.getJsonObject(0).getString("userId")).isEqualTo("alice");
        assertThat(users.getJsonObject(0).getJsonObject("metadata")).isEqualTo(meta("Alice"));

        JsonObject joined = alice.await(is("user:joined", "doc:1", "bob"));
        assertThat(joined.getJsonObject("metadata")).isEqualTo(meta("Bob"));
        assertThat(bob.count(is("user:joined", null, "bob"))).isZero();
    }

    @Test
    void cursorMove_isRelayedToOthersOnly_withServerTimestamp_andShownInLaterSnapshots() {
        WsClient alice = client();
        WsClient bob = client();
        alice.joinAndAck("r", "alice", meta("A"));
        bob.joinAndAck("r", "bob", meta("B"));
        long before = System.currentTimeMillis();
        alice.move("r", 0.25, 0.75);
        JsonObject moved = bob.await(is("cursor:updated", "r", "alice"));
        assertThat(moved.getJsonObject("position")).isEqualTo(new JsonObject().put("x", 0.25).put("y", 0.75));
        assertThat(moved.getLong("timestamp")).isBetween(before, System.currentTimeMillis());

        WsClient carol = client();
        JsonObject ack = carol.joinAndAck("r", "carol", meta("C"));
        JsonObject aliceInAck = ack.getJsonArray("users").stream().map(JsonObject.class::cast)
                .filter(u -> "alice".equals(u.getString("userId"))).findFirst().orElseThrow();
        assertThat(aliceInAck.getJsonObject("cursor")).isEqualTo(new JsonObject().put("x", 0.25).put("y", 0.75));
        // the barrier: bob's own move reaches alice after anything alice could have got about herself
        bob.move("r", 0.5, 0.5);
        alice.await(is("cursor:updated", "r", "bob"));
        assertThat(alice.count(is("cursor:updated", "r", "alice"))).isZero();
    }

    @Test
    void cursorLeave_sendsCursorRemoved_andClearsSnapshotCursor() {
        WsClient alice = client();
        WsClient bob = client();
        alice.joinAndAck("r", "alice", meta("A"));
        bob.joinAndAck("r", "bob", meta("B"));
        alice.move("r", 0.1, 0.2);
        bob.await(is("cursor:updated", "r", "alice"));
        alice.send(new JsonObject().put("type", "cursor:leave").put("roomId", "r"));
        bob.await(is("cursor:removed", "r", "alice"));
        JsonObject ack = client().joinAndAck("r", "carol", meta("C"));
        ack.getJsonArray("users").stream().map(JsonObject.class::cast)
                .filter(u -> "alice".equals(u.getString("userId")))
                .forEach(u -> assertThat(u.containsKey("cursor")).isFalse());
    }

    @Test
    void presenceUpdate_relaysThePatch_andMergesForLaterSnapshots() {
        WsClient alice = client();
        WsClient bob = client();
        alice.joinAndAck("r", "alice", meta("A"));
        bob.joinAndAck("r", "bob", meta("B"));
        alice.send(new JsonObject().put("type", "presence:update").put("roomId", "r")
                .put("metadata", new JsonObject().put("status", "typing")));
        JsonObject updated = bob.await(is("presence:updated", "r", "alice"));
        assertThat(updated.getJsonObject("metadata")).isEqualTo(new JsonObject().put("status", "typing"));

        JsonObject ack = client().joinAndAck("r", "carol", meta("C"));
        JsonObject aliceMeta = ack.getJsonArray("users").stream().map(JsonObject.class::cast)
                .filter(u -> "alice".equals(u.getString("userId"))).findFirst().orElseThrow().getJsonObject("metadata");
        assertThat(aliceMeta).isEqualTo(meta("A").put("status", "typing"));
    }

    @Test
    void leave_andSocketClose_announceUserLeft() {
        WsClient alice = client();
        WsClient bob = client();
        WsClient carol = client();
        alice.joinAndAck("r", "alice", meta("A"));
        bob.joinAndAck("r", "bob", meta("B"));
        carol.joinAndAck("r", "carol", meta("C"));
        bob.leave("r");
        alice.await(is("user:left", "r", "bob"));
        carol.close();
        alice.await(is("user:left", "r", "carol"));
        assertThat(alice.count(is("user:left", "r", null))).isEqualTo(2);
    }

    @Test
    void heartbeat_isAlwaysAcked_evenForARoomNotJoined() {
        WsClient alice = client();
        int from = alice.size();
        alice.heartbeat("nowhere");
        JsonObject ack = alice.awaitFrom(from, m -> type(m, "heartbeat:ack"));
        assertThat(ack.fieldNames()).containsExactly("type");
    }

    @Test
    void severalRoomsOnOneSocket_areIndependent() {
        WsClient alice = client();
        WsClient bob = client();
        alice.joinAndAck("one", "alice", meta("A"));
        alice.joinAndAck("two", "alice", meta("A"));
        bob.joinAndAck("one", "bob", meta("B"));
        bob.joinAndAck("two", "bob", meta("B"));

        alice.leave("one");
        bob.await(is("user:left", "one", "alice"));
        alice.send("{\"type\":\"cursor:move\",\"roomId\":\"two\",\"position\":{\"x\":\"bad\",\"y\":1}}");
        alice.await(m -> type(m, "error") && "two".equals(m.getString("roomId")));
        alice.move("two", 0.3, 0.3);
        bob.await(is("cursor:updated", "two", "alice"));
        assertThat(bob.count(is("user:left", "two", "alice"))).isZero();
        assertThat(alice.isClosed()).isFalse();
    }

    @Test
    void cursorMovesBeforeJoin_areReplayedAfterTheJoin() {
        WsClient bob = client();
        bob.joinAndAck("r", "bob", meta("B"));
        WsClient alice = client();
        alice.move("r", 0.1, 0.1).move("r", 0.2, 0.2).move("r", 0.3, 0.3).move("r", 0.4, 0.4);
        alice.joinAndAck("r", "alice", meta("A"));
        bob.await(is("user:joined", "r", "alice"));
        JsonObject last = bob.await(m -> is("cursor:updated", "r", "alice").test(m)
                && m.getJsonObject("position").getDouble("x") == 0.4);
        assertThat(last).isNotNull();
        // only the latest three were held
        assertThat(bob.count(is("cursor:updated", "r", "alice"))).isEqualTo(3);
        assertThat(bob.indexOf(is("user:joined", "r", "alice")))
                .isLessThan(bob.indexOf(is("cursor:updated", "r", "alice")));
    }

    @Test
    void messagesForRoomsNotJoined_areDroppedSilently() {
        WsClient alice = client();
        WsClient bob = client();
        bob.joinAndAck("r", "bob", meta("B"));
        alice.send(new JsonObject().put("type", "presence:update").put("roomId", "r").put("metadata", new JsonObject().put("a", 1)));
        alice.send(new JsonObject().put("type", "cursor:leave").put("roomId", "r"));
        alice.leave("r");
        alice.joinAndAck("r", "alice", meta("A"));
        bob.await(is("user:joined", "r", "alice"));
        assertThat(bob.count(is("presence:updated", "r", "alice"))).isZero();
        assertThat(bob.count(is("cursor:removed", "r", "alice"))).isZero();
        assertThat(alice.count(m -> type(m, "error"))).isZero();
    }

    @Test
    void roomVerticle_retiresWhenEmpty_andComesBackOnTheNextJoin() {
        WsClient alice = client();
        alice.joinAndAck("r", "alice", meta("A"));
        assertThat(server.rooms().roomIds()).contains("r");
        alice.leave("r");
        long deadline = System.currentTimeMillis() + 5000;
        while (server.rooms().roomIds().contains("r") && System.currentTimeMillis() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(server.rooms().roomIds()).doesNotContain("r");
        for (int i = 0; i < 20; i++) { // join/leave races against retirement must never lose a join
            alice.joinAndAck("r", "alice", meta("A"));
            alice.leave("r");
        }
        JsonObject ack = alice.joinAndAck("r", "alice", meta("A"));
        assertThat(ack.getJsonArray("users")).isEmpty();
        WsClient bob = client();
        assertThat(bob.joinAndAck("r", "bob", meta("B")).getJsonArray("users")).hasSize(1);
    }

    @Test
    void stop_closesSocketsWithServerRestarting_whichTheReconnectGraceCovers() {
        WsClient alice = client();
        alice.joinAndAck("r", "alice", meta("A"));
        WsClient.await(server.stop());
        assertThat(alice.awaitClose()).isEqualTo(4001);
    }
}
