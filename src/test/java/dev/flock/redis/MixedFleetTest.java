package dev.flock.redis;

import dev.flock.support.Fleet;
import dev.flock.support.OriginalPeer;
import dev.flock.support.RedisExtension;
import dev.flock.support.TestCluster;
import dev.flock.support.VirtualClock;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.type;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 17: two of ours beside an original Node instance ({@link OriginalPeer}) on one Redis, the documented
 * migration path. Each test failed before its fix.
 */
@ExtendWith(VertxExtension.class)
class MixedFleetTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();

    private static final String ROOM = "doc";

    private long pttl(String key) {
        return (Long) REDIS.server().command("PTTL", key);
    }

    @SuppressWarnings("unchecked")
    private List<Object> connections(String userId) {
        return (List<Object>) REDIS.server().command("ZRANGE", Keys.connections(ROOM, userId), "0", "-1");
    }

    private boolean member(String userId) {
        return ((Long) REDIS.server().command("SISMEMBER", Keys.members(ROOM), userId)) == 1;
    }

    @Test
    void sharedKeys_expireAfterExactlyTheConfiguredTtl_ourConnectionEntriesAfterItsGrace(Vertx vertx) {
        try (TestCluster ours = TestCluster.redis(vertx, REDIS.server(), 1, "FLOCK_PRESENCE_TTL_SECONDS", "10");
             WsClient alice = WsClient.connect(vertx, ours.port(0)); WsClient bob = WsClient.connect(vertx, ours.port(0))) {
            alice.joinAndAck(ROOM, "alice", new JsonObject());
            bob.joinAndAck(ROOM, "bob", new JsonObject());
            assertThat(pttl(Keys.presence(ROOM, "alice"))).isBetween(8_000L, 10_000L);
            assertThat(pttl(Keys.connections(ROOM, "alice"))).isGreaterThan(10_000L);
            alice.move(ROOM, 0.5, 0.5);
            bob.await(is("cursor:updated", ROOM, "alice"));
            Fleet.awaitTrue("cursor written", WsClient.TIMEOUT, () -> pttl(Keys.cursor(ROOM, "alice")) > 0);
            assertThat(pttl(Keys.cursor(ROOM, "alice"))).isBetween(8_000L, 10_000L);
            assertThat(pttl(Keys.presence(ROOM, "alice"))).isBetween(8_000L, 10_000L); // the move's refresh
        }
    }

    @Test
    void oneMoveThenAJoinOnTheOtherInstance_theSnapshotHasTheCursor(Vertx vertx) {
        VirtualClock clock = new VirtualClock(); // never moved: no batch window ever ends
        try (TestCluster ours = TestCluster.redis(vertx, REDIS.server(), 2, clock);
             WsClient alice = WsClient.connect(vertx, ours.port(0)); WsClient carol = WsClient.connect(vertx, ours.port(0));
             WsClient bob = WsClient.connect(vertx, ours.port(1))) {
            alice.joinAndAck(ROOM, "alice", new JsonObject());
            carol.joinAndAck(ROOM, "carol", new JsonObject());
            alice.move(ROOM, 0.25, 0.75);
            carol.await(is("cursor:updated", ROOM, "alice")); // the room on instance 1 has handled the move
            JsonObject ack = bob.joinAndAck(ROOM, "bob", new JsonObject());
            JsonObject a = ack.getJsonArray("users").stream().map(JsonObject.class::cast)
                    .filter(u -> "alice".equals(u.getString("userId"))).findFirst().orElseThrow();
            assertThat(a.getJsonObject("cursor")).as("alice's cursor in bob's snapshot").isNotNull();
            assertThat(a.getJsonObject("cursor").getDouble("x")).isEqualTo(0.25);
        }
    }

    @Test
    void evict_anOriginalsOldSocketClosing_leavesOurLiveConnectionAlone(Vertx vertx) {
        try (TestCluster ours = TestCluster.redis(vertx, REDIS.server(), 2, "FLOCK_DUPLICATE_JOIN", "evict");
             OriginalPeer original = new OriginalPeer(vertx, REDIS.server(), 30, ROOM);
             WsClient watcher = WsClient.connect(vertx, ours.port(0))) {
            watcher.joinAndAck(ROOM, "watcher", new JsonObject());
            original.join(ROOM, "alice", new JsonObject().put("tab", "old"));
            watcher.await(is("user:joined", ROOM, "alice"));
            try (WsClient alice = WsClient.connect(vertx, ours.port(0))) {
                alice.joinAndAck(ROOM, "alice", new JsonObject().put("tab", "new")); // replaces the original's
                // evict: the watcher sees her leave and join again (the second user:joined)
                watcher.await(m -> watcher.count(is("user:joined", ROOM, "alice")) >= 2);
                int leftBefore = (int) watcher.count(is("user:left", ROOM, "alice"));
                assertThat(leftBefore).isEqualTo(1);
                original.leave(ROOM, "alice"); // its old socket closes: it deletes the shared keys, publishes user:left
                // ours still holds alice: it writes her presence back
                Fleet.awaitTrue("alice's presence written again", WsClient.TIMEOUT,
                        () -> member("alice") && ((Long) REDIS.server().command("EXISTS", Keys.presence(ROOM, "alice"))) == 1);
                alice.heartbeat(ROOM);
                alice.await(m -> type(m, "heartbeat:ack"));
                assertThat(alice.isClosed()).as("our live connection").isFalse();
                assertThat(watcher.count(is("user:left", ROOM, "alice"))).isEqualTo(leftBefore);
                assertThat(original.count(is("user:joined", ROOM, "alice"))).as("the original's clients see her back").isGreaterThan(0);
            }
        }
    }

    @Test
    void evict_aUserLiveOnOursJoiningOnAnOriginal_closesOurOlderSocket(Vertx vertx) {
        try (TestCluster ours = TestCluster.redis(vertx, REDIS.server(), 2, "FLOCK_DUPLICATE_JOIN", "evict");
             OriginalPeer original = new OriginalPeer(vertx, REDIS.server(), 30, ROOM);
             WsClient watcher = WsClient.connect(vertx, ours.port(1));
             WsClient alice = WsClient.connect(vertx, ours.port(0))) {
            watcher.joinAndAck(ROOM, "watcher", new JsonObject());
            alice.joinAndAck(ROOM, "alice", new JsonObject().put("where", "ours"));
            watcher.await(is("user:joined", ROOM, "alice"));
            original.join(ROOM, "alice", new JsonObject().put("where", "original"));
            assertThat(alice.awaitClose()).isEqualTo(4000);
            // the user lives on at the original: still a member, and our connection is gone from the store
            Fleet.awaitTrue("our connection removed", WsClient.TIMEOUT,
                    () -> connections("alice").stream().allMatch(c -> String.valueOf(c).startsWith("~")));
            assertThat(member("alice")).isTrue();
            // the watcher (on our other instance) keeps showing alice, with the original's metadata
            try (WsClient late = WsClient.connect(vertx, ours.port(1))) {
                JsonObject ack = late.joinAndAck(ROOM, "late", new JsonObject());
                assertThat(ack.getJsonArray("users").stream().map(u -> ((JsonObject) u).getString("userId"))).contains("alice");
            }
        }
    }

    @Test
    void share_aUserWithATabOnEach_closingOursLeavesTheOriginalsClientsUndisturbed(Vertx vertx) {
        try (TestCluster ours = TestCluster.redis(vertx, REDIS.server(), 2);
             OriginalPeer original = new OriginalPeer(vertx, REDIS.server(), 30, ROOM);
             WsClient watcher = WsClient.connect(vertx, ours.port(0))) {
            watcher.joinAndAck(ROOM, "watcher", new JsonObject());
            // her first tab is on the original (the other order, an original writing after ours: ScriptsTest)
            original.join(ROOM, "alice", new JsonObject().put("name", "A"));
            watcher.await(is("user:joined", ROOM, "alice"));
            WsClient alice = WsClient.connect(vertx, ours.port(0));
            alice.joinAndAck(ROOM, "alice", new JsonObject().put("name", "A"));
            original.heartbeat(ROOM, "alice");
            alice.close(); // her tab on ours closes
            Fleet.awaitTrue("our connection removed", WsClient.TIMEOUT,
                    () -> connections("alice").stream().allMatch(c -> String.valueOf(c).startsWith("~")));
            watcher.move(ROOM, 0.1, 0.1); // published after whatever the close made ours publish
            Fleet.awaitTrue("the original saw the marker", WsClient.TIMEOUT,
                    () -> original.count(is("cursor:updated", ROOM, "watcher")) > 0);
            assertThat(original.count(is("user:left", ROOM, "alice"))).as("user:left the original's clients got").isZero();
            assertThat(member("alice")).isTrue();
            assertThat(watcher.count(is("user:left", ROOM, "alice"))).isZero();

            // her tab on the original closes too: now she has gone, and our clients hear it once
            original.leave(ROOM, "alice");
            watcher.await(is("user:left", ROOM, "alice"));
        }
    }
}
