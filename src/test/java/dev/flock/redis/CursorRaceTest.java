package dev.flock.redis;

import dev.flock.support.RedisExtension;
import dev.flock.support.TestCluster;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import static dev.flock.support.WsClient.is;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A user's cursor moved from two places (share mode: a tab here and a tab on another instance) races: each instance
 * holds its cursor publishes for a batch, so an older move from elsewhere can arrive after a newer one from here.
 * It must not roll the cursor back, on screens or in a joiner's snapshot; moves from one instance arrive in order and
 * always count. The other instance is played by publishing its envelopes on the room's channel of a real Redis.
 */
@ExtendWith(VertxExtension.class)
class CursorRaceTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();

    private static final String ROOM = "race";

    private static void publishFromElsewhere(String userId, double x, long timestamp) {
        String message = new JsonObject().put("type", "cursor:updated").put("roomId", ROOM).put("userId", userId)
                .put("position", new JsonObject().put("x", x).put("y", x)).put("timestamp", timestamp).encode();
        REDIS.server().command("PUBLISH", Keys.channel(ROOM),
                "{\"instanceId\":\"another-instance\",\"message\":" + message + "}");
    }

    private static boolean cursorAt(JsonObject m, double x) {
        return is("cursor:updated", ROOM, "alice").test(m) && m.getJsonObject("position").getDouble("x") == x;
    }

    @Test
    void anOlderMoveFromElsewhere_arrivingLate_neitherShowsNorEntersSnapshots(Vertx vertx) {
        REDIS.server().command("FLUSHALL");
        try (TestCluster ours = TestCluster.redis(vertx, REDIS.server(), 1);
             WsClient alice = WsClient.connect(vertx, ours.port(0)); WsClient bob = WsClient.connect(vertx, ours.port(0));
             WsClient carol = WsClient.connect(vertx, ours.port(0))) {
            alice.joinAndAck(ROOM, "alice", new JsonObject());
            bob.joinAndAck(ROOM, "bob", new JsonObject());
            alice.move(ROOM, 0.9, 0.9);
            bob.await(m -> cursorAt(m, 0.9));
            long now = System.currentTimeMillis();

            publishFromElsewhere("alice", 0.1, now - 60_000); // older than the local move: overtaken
            publishFromElsewhere("alice", 0.5, now + 60_000); // newer: shown
            bob.await(m -> cursorAt(m, 0.5));
            publishFromElsewhere("alice", 0.6, now + 30_000); // from the same instance as the last: in order, shown
            bob.await(m -> cursorAt(m, 0.6));
            assertThat(bob.count(m -> cursorAt(m, 0.1))).as("the overtaken move reached nobody").isZero();

            JsonObject ack = carol.joinAndAck(ROOM, "carol", new JsonObject());
            JsonObject a = ack.getJsonArray("users").stream().map(JsonObject.class::cast)
                    .filter(u -> "alice".equals(u.getString("userId"))).findFirst().orElseThrow();
            assertThat(a.getJsonObject("cursor").getDouble("x")).as("alice's latest cursor in carol's snapshot").isEqualTo(0.6);

            alice.move(ROOM, 0.2, 0.2); // a local move always counts: it happened now, here
            bob.await(m -> cursorAt(m, 0.2));
        }
    }
}
