package dev.flock.redis;

import dev.flock.FlockServer;
import dev.flock.admin.MemberView;
import dev.flock.admin.RoomView;
import dev.flock.support.ChannelListener;
import dev.flock.support.Fleet;
import dev.flock.support.RedisExtension;
import dev.flock.support.RedisServer;
import dev.flock.support.WsClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.type;
import static org.assertj.core.api.Assertions.assertThat;

/** The admin dashboard and API in Redis mode: they see and act on every instance of the fleet. */
class ClusterAdminTest {

    private static final String TOKEN = "cluster-admin-token";
    private static final String[] ADMIN = {"FLOCK_ADMIN_PASSWORD", "pw", "FLOCK_ADMIN_TOKEN", TOKEN};
    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();
    private RedisServer redis;
    private Fleet fleet;

    @BeforeEach
    void setUp() {
        redis = REDIS.server();
        redis.command("FLUSHALL");
        fleet = new Fleet(redis.url());
    }

    @AfterEach
    void tearDown() {
        fleet.close();
    }

    private static JsonObject meta(String name) {
        return new JsonObject().put("name", name);
    }

    private static Map<String, List<String>> byRoom(List<RoomView> rooms) {
        return rooms.stream().collect(Collectors.toMap(RoomView::roomId,
                r -> r.members().stream().map(MemberView::userId).sorted().toList()));
    }

    @Test
    void rooms_listMembersOfEveryInstance_pruneStaleOnes_andCountInstances() {
        FlockServer a = fleet.instance(ADMIN);
        FlockServer b = fleet.instance(ADMIN);
        fleet.client(a).joinAndAck("doc", "alice", meta("Alice"));
        WsClient bob = fleet.client(b);
        bob.joinAndAck("doc", "bob", meta("Bob"));
        bob.joinAndAck("only-on-b", "bob", meta("Bob"));
        redis.command("SADD", "flock:room:doc:members", "ghost"); // a member whose presence is long gone
        redis.command("SADD", "flock:room:abandoned:members", "ghost"); // a room nobody holds any more

        for (FlockServer s : List.of(a, b)) {
            List<RoomView> rooms = WsClient.await(s.admin().rooms());
            assertThat(byRoom(rooms)).isEqualTo(Map.of("doc", List.of("alice", "bob"), "only-on-b", List.of("bob")));
            MemberView alice = rooms.stream().filter(r -> r.roomId().equals("doc")).flatMap(r -> r.members().stream())
                    .filter(m -> m.userId().equals("alice")).findFirst().orElseThrow();
            assertThat(alice.name()).isEqualTo("Alice");
        }
        Fleet.awaitTrue("stale members pruned", Duration.ofSeconds(5),
                () -> (Long) redis.command("SISMEMBER", "flock:room:doc:members", "ghost") == 0
                        && (Long) redis.command("EXISTS", "flock:room:abandoned:members") == 0);
        assertThat(WsClient.await(a.admin().instanceCount())).isEqualTo(2);
        assertThat(new JsonObject(http(b.port(), "GET", "/api/demo-config", null).body()).getInteger("instanceCount"))
                .isEqualTo(2);
        JsonObject api = new JsonObject(http(b.port(), "GET", "/api/admin/rooms", null).body());
        assertThat(api.encode()).contains("\"instances\":2").contains("alice").contains("only-on-b");

        FlockServer c = fleet.instance(ADMIN);
        assertThat(WsClient.await(c.admin().instanceCount())).isEqualTo(3);
        WsClient.await(c.stop(true)); // a stopped instance leaves the count at once, not after the key's TTL
        assertThat(WsClient.await(a.admin().instanceCount())).isEqualTo(2);
    }

    @Test
    void closeRoom_onOneInstance_closesItsMembersOnEveryInstance_eachLeaveAnnouncedOnce() {
        FlockServer a = fleet.instance(ADMIN);
        FlockServer b = fleet.instance(ADMIN);
        WsClient aliceA = fleet.client(a); // alice has a tab on each instance
        WsClient aliceB = fleet.client(b);
        WsClient bob = fleet.client(b);
        WsClient carol = fleet.client(a);
        aliceA.joinAndAck("doomed", "alice", meta("Alice"));
        aliceB.joinAndAck("doomed", "alice", meta("Alice"));
        bob.joinAndAck("doomed", "bob", meta("Bob"));
        carol.joinAndAck("doomed", "carol", meta("Carol"));
        bob.joinAndAck("kept", "bob", meta("Bob"));
        carol.joinAndAck("kept", "carol", meta("Carol"));
        aliceA.await(is("user:joined", "doomed", "carol"));

        try (ChannelListener witness = ChannelListener.subscribe(fleet.clientVertx(), redis.url(), "flock:broadcast:doomed")) {
            WsClient.await(a.admin().closeRoom("doomed"));
            for (WsClient c : List.of(aliceA, aliceB, bob, carol)) {
                JsonObject error = c.await(m -> type(m, "error") && "doomed".equals(m.getString("roomId")));
                assertThat(error.getString("code")).isEqualTo("ROOM_CLOSED");
                assertThat(c.isClosed()).isFalse();
            }
            for (String user : List.of("alice", "bob", "carol")) {
                Fleet.awaitTrue("user:left of " + user + " published", Duration.ofSeconds(5),
                        () -> witness.countMessages(is("user:left", "doomed", user)) >= 1);
            }
            Fleet.awaitTrue("room gone from Redis", Duration.ofSeconds(5),
                    () -> (Long) redis.command("EXISTS", "flock:room:doomed:members") == 0);
            assertThat(byRoom(WsClient.await(b.admin().rooms()))).isEqualTo(Map.of("kept", List.of("bob", "carol")));

            // closed is like "left": a heartbeat or a move does not re-admit, the other room is untouched
            aliceA.heartbeat("doomed");
            aliceB.move("doomed", 0.1, 0.1);
            carol.move("kept", 0.5, 0.5);
            bob.await(is("cursor:updated", "kept", "carol"));
            JsonObject ack = bob.joinAndAck("doomed", "bob", meta("Bob"));
            assertThat(ack.getJsonArray("users")).isEmpty();
            JsonObject carolAck = carol.joinAndAck("doomed", "carol", meta("Carol"));
            assertThat(carolAck.getJsonArray("users").getJsonObject(0).getString("userId")).isEqualTo("bob");
            bob.await(is("user:joined", "doomed", "carol"));

            // every leave went out once for the whole cluster, and nobody saw anyone leave twice
            for (String user : List.of("alice", "bob", "carol")) {
                assertThat(witness.countMessages(is("user:left", "doomed", user))).as("published leaves of " + user).isEqualTo(1);
                for (WsClient c : List.of(aliceA, aliceB, bob, carol)) {
                    assertThat(c.count(is("user:left", "doomed", user))).isLessThanOrEqualTo(1);
                }
            }
            assertThat(bob.count(is("user:left", "kept", null)) + carol.count(is("user:left", "kept", null))).isZero();
        }
    }

    @Test
    void closeRoomAndCloseAll_overHttpWithTheBearerToken_actOnEveryInstance() {
        FlockServer a = fleet.instance(ADMIN);
        FlockServer b = fleet.instance(ADMIN);
        WsClient alice = fleet.client(a);
        WsClient bob = fleet.client(b);
        alice.joinAndAck("r1", "alice", meta("A"));
        bob.joinAndAck("r1", "bob", meta("B"));
        bob.joinAndAck("r2", "bob", meta("B"));

        HttpResponse<String> closed = http(a.port(), "POST", "/api/admin/close-room", new JsonObject().put("roomId", "r1"));
        assertThat(closed.statusCode()).isEqualTo(200);
        assertThat(bob.await(is("error", "r1", null)).getString("code")).isEqualTo("ROOM_CLOSED");
        assertThat(alice.await(is("error", "r1", null)).getString("code")).isEqualTo("ROOM_CLOSED");
        assertThat(bob.count(is("error", "r2", null))).isZero();

        HttpResponse<String> all = http(a.port(), "POST", "/api/admin/close-all", new JsonObject());
        assertThat(all.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(all.body()).getInteger("closed")).isEqualTo(1); // r2, held by B only
        assertThat(bob.await(is("error", "r2", null)).getString("code")).isEqualTo("ROOM_CLOSED");
        assertThat(alice.isClosed() || bob.isClosed()).isFalse();
        Fleet.awaitTrue("no room left", Duration.ofSeconds(5), () -> WsClient.await(a.admin().rooms()).isEmpty());
    }

    private static HttpResponse<String> http(int port, String method, String path, JsonObject body) {
        try {
            HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(5)).header("Authorization", "Bearer " + TOKEN);
            if (body == null) {
                r.GET();
            } else {
                r.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body.encode()));
            }
            return HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
