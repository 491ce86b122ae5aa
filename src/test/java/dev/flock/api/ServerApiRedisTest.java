package dev.flock.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flock.support.Fleet;
import dev.flock.support.RedisExtension;
import dev.flock.support.TestCluster;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import static dev.flock.api.ServerApiTest.userIn;
import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.type;
import static org.assertj.core.api.Assertions.assertThat;

/** The server API fleet-wide: two instances (each its own Vert.x) on one real Redis, users spread over both. */
@ExtendWith(VertxExtension.class)
class ServerApiRedisTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();
    private static final String KEY = "fleet-key-0123456789";

    private Vertx vertx;
    private TestCluster cluster;
    /** The API of instance 0 and of instance 1. */
    private ApiClient a;
    private ApiClient b;
    private final List<WsClient> clients = new ArrayList<>();

    /** Two instances with {@code env} (a Redis Cluster in {@link ServerApiClusterTest}). */
    protected TestCluster startCluster(Vertx vertx, String... env) {
        return TestCluster.redis(vertx, REDIS.server(), 2, env);
    }

    @BeforeEach
    void setUp(Vertx vertx) {
        this.vertx = vertx;
        cluster = startCluster(vertx, "FLOCK_SERVER_API_KEY", KEY, "FLOCK_MAX_MESSAGES_PER_SECOND", "100000");
        a = new ApiClient(vertx, cluster.port(0), KEY);
        b = new ApiClient(vertx, cluster.port(1), KEY);
    }

    @AfterEach
    void tearDown() {
        clients.forEach(WsClient::close);
        a.close();
        b.close();
        cluster.close();
    }

    /** A socket on instance {@code n}. */
    private WsClient on(int n) {
        WsClient c = WsClient.connect(vertx, cluster.port(n));
        clients.add(c);
        return c;
    }

    private static String room(String id) {
        return "/api/v1/rooms/" + ApiClient.seg(id);
    }

    private static String member(String roomId, String userId) {
        return room(roomId) + "/users/" + ApiClient.seg(userId);
    }

    @Test
    void reads_areFleetWide_connectionsCountedOnBothInstances() {
        WsClient aliceA = on(0);
        WsClient aliceB = on(1);
        WsClient bobB = on(1);
        aliceA.joinAndAck("r", "alice", new JsonObject().put("name", "Alice"));
        aliceB.joinAndAck("r", "alice", new JsonObject());
        aliceB.joinAndAck("s", "alice", new JsonObject());
        bobB.joinAndAck("r", "bob", new JsonObject());
        aliceA.move("r", 0.4, 0.6);
        bobB.await(is("cursor:updated", "r", "alice"));
        for (ApiClient api : List.of(a, b)) {
            ApiClient.Response r = api.get(room("r"));
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            JsonNode alice = userIn(r.json(), "alice");
            assertThat(alice.get("connections").asInt()).as(r.body()).isEqualTo(2);
            assertThat(alice.has("verified")).as("alice has connections on both instances: " + r.body()).isFalse();
            assertThat(alice.get("metadata").get("name").asText()).isEqualTo("Alice");
            assertThat(alice.get("cursor").get("x").asDouble()).isEqualTo(0.4);
            assertThat(userIn(r.json(), "bob").get("connections").asInt()).isEqualTo(1);
            assertThat(api.get("/api/v1/users/alice/rooms").json().get("rooms").toString()).isEqualTo("[\"r\",\"s\"]");
            assertThat(api.get("/api/v1/users/bob/rooms").json().get("rooms").toString()).isEqualTo("[\"r\"]");
            JsonNode list = api.get("/api/v1/rooms").json().get("rooms");
            assertThat(list.toString()).isEqualTo("[{\"roomId\":\"r\",\"users\":2},{\"roomId\":\"s\",\"users\":1}]");
            assertThat(api.get(room("nowhere")).status()).isEqualTo(404);
            assertThat(api.get("/api/v1/users/nobody/rooms").status()).isEqualTo(404);
        }
        // bob's only connection is on instance 1: that instance can tell whether he is verified
        assertThat(userIn(b.get(room("r")).json(), "bob").has("verified")).isTrue();
        assertThat(userIn(a.get(room("r")).json(), "bob").has("verified")).isFalse();
    }

    @Test
    void kick_throughOneInstance_reachesTheUsersConnectionOnTheOther_everyoneSeesOneLeave() {
        WsClient aliceB = on(1);
        WsClient bobA = on(0);
        WsClient carolB = on(1);
        aliceB.joinAndAck("x", "alice", new JsonObject());
        aliceB.joinAndAck("y", "alice", new JsonObject());
        bobA.joinAndAck("x", "bob", new JsonObject());
        bobA.joinAndAck("y", "bob", new JsonObject());
        carolB.joinAndAck("x", "carol", new JsonObject());
        ApiClient.Response kick = a.call(HttpMethod.DELETE, member("x", "alice"), null);
        assertThat(kick.status()).as(kick.body()).isEqualTo(204);
        JsonObject kicked = aliceB.await(m -> type(m, "error"));
        assertThat(kicked.getString("code")).isEqualTo("KICKED");
        assertThat(kicked.getString("roomId")).isEqualTo("x");
        bobA.await(is("user:left", "x", "alice"));
        carolB.await(is("user:left", "x", "alice"));
        assertThat(aliceB.isClosed()).isFalse();
        for (ApiClient api : List.of(a, b)) {
            assertThat(api.get(room("x")).json().get("users").findValuesAsText("userId")).containsExactlyInAnyOrder("bob", "carol");
            assertThat(api.get("/api/v1/users/alice/rooms").json().get("rooms").toString()).isEqualTo("[\"y\"]");
        }
        assertThat(b.call(HttpMethod.DELETE, member("x", "alice"), null).status()).isEqualTo(404);
        aliceB.move("y", 0.5, 0.5);
        bobA.await(is("cursor:updated", "y", "alice"));
        int fromBob = bobA.size();
        int fromCarol = carolB.size();
        aliceB.joinAndAck("x", "alice", new JsonObject());
        bobA.awaitFrom(fromBob, is("user:joined", "x", "alice"));
        carolB.awaitFrom(fromCarol, is("user:joined", "x", "alice"));
        assertThat(bobA.count(is("user:left", "x", "alice"))).isEqualTo(1);
        assertThat(carolB.count(is("user:left", "x", "alice"))).isEqualTo(1);
        assertThat(bobA.count(is("user:left", "y", "alice"))).isZero();
        assertThat(aliceB.count(m -> type(m, "error"))).isEqualTo(1);
    }

    @Test
    void kick_ofAUserOnBothInstances_reachesBothConnections() {
        WsClient tabA = on(0);
        WsClient tabB = on(1);
        WsClient bobA = on(0);
        WsClient carolB = on(1);
        tabA.joinAndAck("x", "alice", new JsonObject());
        bobA.joinAndAck("x", "bob", new JsonObject());
        carolB.joinAndAck("x", "carol", new JsonObject());
        tabB.joinAndAck("x", "alice", new JsonObject());
        assertThat(b.call(HttpMethod.DELETE, member("x", "alice"), null).status()).isEqualTo(204);
        for (WsClient tab : List.of(tabA, tabB)) {
            assertThat(tab.await(m -> type(m, "error")).getString("code")).isEqualTo("KICKED");
            assertThat(tab.isClosed()).isFalse();
        }
        bobA.await(is("user:left", "x", "alice"));
        carolB.await(is("user:left", "x", "alice"));
        assertThat(a.get(room("x")).json().get("users").findValuesAsText("userId")).containsExactlyInAnyOrder("bob", "carol");
        // one more event on both, then nobody saw alice leave twice
        int fromBob = bobA.size();
        int fromCarol = carolB.size();
        on(0).joinAndAck("x", "dave", new JsonObject());
        bobA.awaitFrom(fromBob, is("user:joined", "x", "dave"));
        carolB.awaitFrom(fromCarol, is("user:joined", "x", "dave"));
        assertThat(bobA.count(is("user:left", "x", "alice"))).isEqualTo(1);
        assertThat(carolB.count(is("user:left", "x", "alice"))).isEqualTo(1);
    }

    @Test
    void patch_ofAUserHeldByTheOtherInstance_reachesThatInstancesClients() {
        WsClient aliceB = on(1);
        WsClient bobA = on(0);
        WsClient carolB = on(1);
        aliceB.joinAndAck("r", "alice", new JsonObject().put("name", "Alice"));
        bobA.joinAndAck("r", "bob", new JsonObject());
        carolB.joinAndAck("r", "carol", new JsonObject());
        ApiClient.Response r = a.call(HttpMethod.PATCH, member("r", "alice") + "/metadata", "{\"status\":\"away\"}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonObject merged = new JsonObject().put("name", "Alice").put("status", "away");
        assertThat(new JsonObject(r.json().get("metadata").toString())).isEqualTo(merged);
        for (WsClient other : List.of(bobA, carolB)) {
            JsonObject seen = other.await(is("presence:updated", "r", "alice"));
            assertThat(seen.getJsonObject("metadata")).isEqualTo(new JsonObject().put("status", "away"));
        }
        for (ApiClient api : List.of(a, b)) {
            assertThat(new JsonObject(userIn(api.get(room("r")).json(), "alice").get("metadata").toString())).isEqualTo(merged);
        }
        aliceB.move("r", 0.1, 0.1);
        carolB.await(is("cursor:updated", "r", "alice"));
        assertThat(aliceB.count(m -> type(m, "presence:updated"))).isZero();
        JsonObject ack = on(0).joinAndAck("r", "dave", new JsonObject());
        JsonObject aliceInAck = ack.getJsonArray("users").stream().map(u -> (JsonObject) u)
                .filter(u -> "alice".equals(u.getString("userId"))).findFirst().orElseThrow();
        assertThat(aliceInAck.getJsonObject("metadata")).isEqualTo(merged);
        assertThat(b.call(HttpMethod.PATCH, member("r", "nobody") + "/metadata", "{}").status()).isEqualTo(404);
    }

    @Test
    void close_throughOneInstance_closesTheRoomOnBoth() {
        WsClient aliceA = on(0);
        WsClient bobB = on(1);
        aliceA.joinAndAck("doomed", "alice", new JsonObject());
        aliceA.joinAndAck("kept", "alice", new JsonObject());
        bobB.joinAndAck("doomed", "bob", new JsonObject());
        bobB.joinAndAck("kept", "bob", new JsonObject());
        assertThat(b.call(HttpMethod.POST, room("doomed") + "/close", null).status()).isEqualTo(204);
        for (WsClient c : List.of(aliceA, bobB)) {
            JsonObject e = c.await(m -> type(m, "error"));
            assertThat(e.getString("code")).isEqualTo("ROOM_CLOSED");
            assertThat(e.getString("roomId")).isEqualTo("doomed");
            assertThat(c.isClosed()).isFalse();
        }
        Fleet.awaitTrue("doomed gone fleet-wide", Duration.ofSeconds(10),
                () -> a.get(room("doomed")).status() == 404 && b.get(room("doomed")).status() == 404);
        assertThat(a.call(HttpMethod.POST, room("doomed") + "/close", null).status()).isEqualTo(404);
        assertThat(a.get("/api/v1/rooms").json().get("rooms").findValuesAsText("roomId")).containsExactly("kept");
        aliceA.move("kept", 0.2, 0.2);
        bobB.await(is("cursor:updated", "kept", "alice"));
    }

    @Test
    void pagination_isFleetWide() {
        WsClient onA = on(0);
        WsClient onB = on(1);
        TreeSet<String> all = new TreeSet<>();
        for (int i = 0; i < 17; i++) {
            String id = String.format("room-%02d", i);
            (i % 2 == 0 ? onA : onB).joinAndAck(id, "u" + (i % 2), new JsonObject());
            all.add(id);
        }
        onB.joinAndAck("room-00", "u1", new JsonObject()); // one room with a user on each instance
        for (ApiClient api : List.of(a, b)) {
            List<String> seen = new ArrayList<>();
            String cursor = null;
            int pages = 0;
            do {
                JsonNode page = api.get("/api/v1/rooms?limit=3" + (cursor == null ? "" : "&cursor=" + cursor)).json();
                assertThat(page.get("rooms").size()).isLessThanOrEqualTo(3);
                page.get("rooms").forEach(r -> seen.add(r.get("roomId").asText()));
                if (pages == 0) {
                    assertThat(page.get("rooms").get(0).get("users").asInt()).isEqualTo(2);
                }
                cursor = page.get("nextCursor").isNull() ? null : page.get("nextCursor").asText();
                assertThat(++pages).isLessThan(50);
            } while (cursor != null);
            assertThat(seen).containsExactlyElementsOf(all);
            assertThat(pages).isEqualTo(6);
        }
        JsonNode odd = a.get("/api/v1/rooms?prefix=room-1&limit=1000").json().get("rooms");
        assertThat(odd.findValuesAsText("roomId")).containsExactlyElementsOf(all.tailSet("room-1"));
    }
}
