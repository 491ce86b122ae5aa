package dev.flock.identity;

import dev.flock.FlockServer;
import dev.flock.support.Fleet;
import dev.flock.support.HttpCalls;
import dev.flock.support.RedisExtension;
import dev.flock.support.Tokens;
import dev.flock.support.WsClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.flock.support.WsClient.is;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Signed identity across two instances on one Redis: the instance holding the socket decides, and the other shows
 * the server-asserted metadata, because that is what went into Redis. Nothing else of the token is stored there.
 */
class SignedIdentityRedisTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();

    private static final String[] ENV = {"FLOCK_AUTH", "optional", "FLOCK_JWT_SECRET", Tokens.SECRET,
            "FLOCK_ADMIN_PASSWORD", "pw", "FLOCK_ADMIN_TOKEN", "admin-token"};

    private Fleet fleet;

    @BeforeEach
    void start() {
        REDIS.server().command("FLUSHALL");
        fleet = new Fleet(REDIS.server().url());
    }

    @AfterEach
    void stop() {
        fleet.close();
    }

    @Test
    void theOtherInstanceShowsTheTokensMeta_inUserJoined_joinAck_andAfterAPatch() {
        FlockServer a = fleet.instance(ENV);
        FlockServer b = fleet.instance(ENV);
        JsonObject meta = new JsonObject().put("name", "Alice Verified").put("color", "#00aa00");
        String token = Tokens.hs256(Tokens.claims("alice", System.currentTimeMillis()).put("meta", meta)
                .put("readonly", new JsonArray().add("view")));
        WsClient early = fleet.client(b);
        early.joinAndAck("doc", "early", new JsonObject());
        WsClient alice = fleet.client(a, "/?token=" + token);
        alice.joinAndAck("doc", "alice", new JsonObject().put("name", "Mallory").put("color", "#ff0000").put("emoji", "x"));
        JsonObject joined = early.await(is("user:joined", "doc", "alice"));
        assertThat(joined.getJsonObject("metadata").getMap()).containsEntry("name", "Alice Verified")
                .containsEntry("color", "#00aa00").containsEntry("emoji", "x");

        alice.send(new JsonObject().put("type", "presence:update").put("roomId", "doc")
                .put("metadata", new JsonObject().put("name", "Mallory").put("status", "away")));
        JsonObject patch = early.await(is("presence:updated", "doc", "alice"));
        assertThat(patch.getJsonObject("metadata").getMap()).containsOnlyKeys("status");

        WsClient late = fleet.client(b); // b's members come from Redis: the merged metadata is what it holds
        JsonObject ack = late.joinAndAck("doc", "late", new JsonObject());
        JsonObject aliceThere = ack.getJsonArray("users").stream().map(JsonObject.class::cast)
                .filter(u -> "alice".equals(u.getString("userId"))).findFirst().orElseThrow();
        assertThat(aliceThere.getJsonObject("metadata").getMap()).containsEntry("name", "Alice Verified")
                .containsEntry("color", "#00aa00").containsEntry("status", "away");

        // read-only is decided where the socket is: the other instance never sees its cursor
        early.joinAndAck("view", "early", new JsonObject());
        alice.joinAndAck("view", "alice", new JsonObject());
        early.await(is("user:joined", "view", "alice"));
        alice.move("view", 0.4, 0.4);
        alice.leave("view");
        early.await(is("user:left", "view", "alice"));
        assertThat(early.count(is("cursor:updated", "view", "alice"))).isZero();

        assertThat(redisHolds(token.split("\\.")[2])).as("the token's signature in Redis").isFalse();
        assertThat(redisHolds(token.split("\\.")[1])).as("the token's claims in Redis").isFalse();
        assertThat(redisHolds("Alice Verified")).as("the merged metadata in Redis").isTrue();
    }

    @Test
    void theAdminOfTheInstanceHoldingTheSocketShowsVerified_theOtherShowsElsewhere() {
        FlockServer a = fleet.instance(ENV);
        FlockServer b = fleet.instance(ENV);
        String token = Tokens.hs256(Tokens.claims("alice", System.currentTimeMillis()));
        fleet.client(a, "/?token=" + token).joinAndAck("doc", "alice", new JsonObject());
        fleet.client(b).joinAndAck("doc", "bob", new JsonObject());
        assertThat(identities(a)).containsEntry("alice", "verified").containsEntry("bob", "elsewhere");
        assertThat(identities(b)).containsEntry("alice", "elsewhere").containsEntry("bob", "anonymous");
    }

    private Map<String, String> identities(FlockServer server) {
        HttpCalls.Response r = HttpCalls.get(fleet.clientVertx(), server.port(), "/api/admin/rooms",
                Map.of("Authorization", "Bearer admin-token"));
        Map<String, String> out = new HashMap<>();
        new JsonObject(r.body()).getJsonArray("rooms").getJsonObject(0).getJsonArray("members")
                .forEach(m -> out.put(((JsonObject) m).getString("userId"), ((JsonObject) m).getString("identity")));
        return out;
    }

    /** Whether any key or value in Redis contains {@code text} (a test Redis of a few keys: KEYS is fine here). */
    @SuppressWarnings("unchecked")
    private static boolean redisHolds(String text) {
        for (Object key : (List<Object>) REDIS.server().command("KEYS", "*")) {
            String k = String.valueOf(key);
            if (k.contains(text)) {
                return true;
            }
            String type = String.valueOf(REDIS.server().command("TYPE", k));
            Object value = switch (type) {
                case "string" -> REDIS.server().command("GET", k);
                case "hash" -> REDIS.server().command("HGETALL", k);
                case "set" -> REDIS.server().command("SMEMBERS", k);
                case "zset" -> REDIS.server().command("ZRANGE", k, "0", "-1");
                default -> "";
            };
            if (String.valueOf(value).contains(text)) {
                return true;
            }
        }
        return false;
    }
}
