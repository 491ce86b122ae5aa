package dev.flock.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flock.FlockServer;
import dev.flock.support.Fleet;
import dev.flock.support.TestServers;
import dev.flock.support.VirtualClock;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.nio.charset.StandardCharsets;

import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.type;
import static org.assertj.core.api.Assertions.assertThat;

/** The server API in memory mode, over real HTTP, with users joined over real WebSockets. */
@ExtendWith(VertxExtension.class)
class ServerApiTest {

    static final String KEY = "server-key-0123456789";
    static final String KEY2 = "rotated-key-9876543210";
    static final String[] FAST = {"FLOCK_MAX_MESSAGES_PER_SECOND", "100000"};

    private Vertx vertx;
    private VirtualClock clock;
    private FlockServer server;
    private ApiClient api;
    private final List<WsClient> clients = new ArrayList<>();
    private final List<ApiClient> apis = new ArrayList<>();

    @BeforeEach
    void setUp(Vertx vertx) {
        this.vertx = vertx;
        this.clock = new VirtualClock();
    }

    @AfterEach
    void tearDown() {
        clients.forEach(WsClient::close);
        apis.forEach(ApiClient::close);
        if (server != null) {
            WsClient.await(server.close());
        }
    }

    private void start(String... env) {
        List<String> all = new ArrayList<>(List.of("FLOCK_SERVER_API_KEY", KEY + "," + KEY2));
        all.addAll(List.of(FAST));
        all.addAll(List.of(env));
        server = TestServers.start(vertx, clock, all.toArray(String[]::new));
        api = client(KEY);
    }

    private ApiClient client(String key) {
        ApiClient c = new ApiClient(vertx, server.port(), key);
        apis.add(c);
        return c;
    }

    private WsClient ws() {
        WsClient c = WsClient.connect(vertx, server.port());
        clients.add(c);
        return c;
    }

    private static JsonObject meta(String k, Object v) {
        return new JsonObject().put(k, v);
    }

    private static String room(String id) {
        return "/api/v1/rooms/" + ApiClient.seg(id);
    }

    private static String member(String roomId, String userId) {
        return room(roomId) + "/users/" + ApiClient.seg(userId);
    }

    private static void assertError(ApiClient.Response r, int status, String code) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.header("Content-Type")).as(status + " " + r.body() + " " + r.headers()).startsWith("application/json");
        JsonNode body = r.json();
        assertThat(body.path("error").asText()).as(r.body()).isEqualTo(code);
        assertThat(body.path("message").isTextual()).as(r.body()).isTrue();
        assertThat(body.path("message").asText()).isNotBlank();
    }

    // ---- auth ----------------------------------------------------------------------------------------------

    @Test
    void auth_missingAndWrongKeysAre401_bothRotationKeysWork_lowercaseBearerToo() {
        start();
        ws().joinAndAck("r", "alice", new JsonObject());
        ApiClient.Response missing = client(null).get("/api/v1/rooms");
        assertError(missing, 401, "UNAUTHORIZED");
        assertThat(missing.header("WWW-Authenticate")).isEqualTo("Bearer");
        assertThat(api.get("/api/v1/rooms").status()).isEqualTo(200); // a success resets the throttle
        ApiClient.Response wrong = client("not-the-key").get("/api/v1/rooms");
        assertError(wrong, 401, "UNAUTHORIZED");
        assertThat(wrong.header("WWW-Authenticate")).isEqualTo("Bearer");
        // a key's prefix, a Basic header: wrong too
        assertError(client(KEY.substring(0, 10)).get("/api/v1/rooms"), 401, "UNAUTHORIZED");
        assertThat(api.get("/api/v1/rooms").status()).isEqualTo(200);
        assertError(client(null).call(HttpMethod.GET, "/api/v1/rooms", null, Map.of("Authorization", KEY)), 401, "UNAUTHORIZED");
        assertError(client(null).call(HttpMethod.GET, "/api/v1/rooms", null, Map.of("Authorization", "Basic " + KEY)), 401, "UNAUTHORIZED");
        assertThat(client(null).call(HttpMethod.GET, "/api/v1/rooms", null, Map.of("Authorization", "bearer " + KEY2)).status())
                .isEqualTo(200);
        for (String key : List.of(KEY, KEY2)) {
            ApiClient.Response ok = client(key).get("/api/v1/rooms");
            assertThat(ok.status()).as(ok.body()).isEqualTo(200);
            assertThat(ok.json().get("rooms").get(0).get("roomId").asText()).isEqualTo("r");
        }
        // every authenticated route refuses without a key, before looking at the room
        for (HttpMethod m : List.of(HttpMethod.GET, HttpMethod.DELETE, HttpMethod.POST, HttpMethod.PATCH)) {
            String uri = switch (m.name()) {
                case "GET" -> room("r");
                case "DELETE" -> member("r", "alice");
                case "POST" -> room("r") + "/close";
                default -> member("r", "alice") + "/metadata";
            };
            assertError(client(null).call(m, uri, m == HttpMethod.PATCH ? "{}" : null), 401, "UNAUTHORIZED");
            assertThat(api.get("/api/v1/rooms").status()).isEqualTo(200); // a success resets the throttle
        }
        assertThat(api.get(room("r")).status()).isEqualTo(200); // nothing happened to the room
        // the document needs no key
        assertThat(client(null).get("/api/v1/openapi.json").status()).isEqualTo(200);
    }

    @Test
    void apiOff_everyRouteIs404_evenTheDocument() {
        server = TestServers.start(vertx, clock, FAST);
        ws().joinAndAck("r", "alice", new JsonObject());
        ApiClient c = client(KEY);
        for (String uri : List.of("/api/v1/rooms", room("r"), "/api/v1/users/alice/rooms", "/api/v1/openapi.json", "/api/v1")) {
            assertError(c.get(uri), 404, "NOT_FOUND");
        }
        assertError(c.call(HttpMethod.DELETE, member("r", "alice"), null), 404, "NOT_FOUND");
        assertError(c.call(HttpMethod.POST, room("r") + "/close", null), 404, "NOT_FOUND");
        assertError(c.call(HttpMethod.PATCH, member("r", "alice") + "/metadata", "{\"a\":1}"), 404, "NOT_FOUND");
        assertThat(clients.get(0).count(m -> type(m, "error"))).isZero();
    }

    @Test
    void repeatedWrongKeys_areThrottledWith429AndRetryAfter_evenForTheRightKey_untilTheLockRunsOut() {
        start();
        ApiClient wrong = client("wrong-key");
        for (int i = 0; i < 4; i++) {
            assertError(wrong.get("/api/v1/rooms"), 401, "UNAUTHORIZED");
        }
        ApiClient.Response locked = wrong.get("/api/v1/rooms");
        assertError(locked, 429, "TOO_MANY_REQUESTS");
        assertThat(Long.parseLong(locked.header("Retry-After"))).isBetween(1L, 2L);
        ApiClient.Response lockedRight = api.get("/api/v1/rooms");
        assertError(lockedRight, 429, "TOO_MANY_REQUESTS");
        assertThat(lockedRight.header("Retry-After")).isNotNull();
        clock.advance(Duration.ofMillis(2001));
        assertError(wrong.get("/api/v1/rooms"), 401, "UNAUTHORIZED"); // one more failure: the lock doubles
        ApiClient.Response doubled = api.get("/api/v1/rooms");
        assertError(doubled, 429, "TOO_MANY_REQUESTS");
        assertThat(Long.parseLong(doubled.header("Retry-After"))).isBetween(3L, 4L);
        clock.advance(Duration.ofMillis(4001));
        assertThat(api.get("/api/v1/rooms").status()).isEqualTo(200);
        // the success forgot the failures: three free ones again
        for (int i = 0; i < 3; i++) {
            assertError(wrong.get("/api/v1/rooms"), 401, "UNAUTHORIZED");
        }
        assertThat(api.get("/api/v1/rooms").status()).isEqualTo(200);
        assertThat(failures("wrong")).isEqualTo(4 + 1 + 3);
        assertThat(failures("locked_out")).isEqualTo(3);
        assertThat(failures("missing")).isZero();
        assertError(client(null).get("/api/v1/rooms"), 401, "UNAUTHORIZED");
        assertThat(failures("missing")).isEqualTo(1);
    }

    @Test
    void anAdminSessionCookieDoesNotAuthorize() {
        String password = "correct horse battery staple";
        start("FLOCK_ADMIN_PASSWORD", password, "FLOCK_ADMIN_TOKEN", "admin-token-0123456789");
        ws().joinAndAck("r", "alice", new JsonObject());
        ApiClient anonymous = client(null);
        ApiClient.Response login = anonymous.call(HttpMethod.POST, "/admin/login",
                "password=" + java.net.URLEncoder.encode(password, StandardCharsets.UTF_8),
                Map.of("Content-Type", "application/x-www-form-urlencoded"));
        String setCookie = login.header("Set-Cookie");
        assertThat(setCookie).as("admin login " + login.status()).startsWith("flock_admin=");
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));
        assertThat(anonymous.call(HttpMethod.GET, "/admin", null, Map.of("Cookie", cookie)).status()).isEqualTo(200);
        ApiClient.Response r = anonymous.call(HttpMethod.GET, "/api/v1/rooms", null, Map.of("Cookie", cookie));
        assertError(r, 401, "UNAUTHORIZED");
        assertError(anonymous.call(HttpMethod.POST, room("r") + "/close", null, Map.of("Cookie", cookie)), 401, "UNAUTHORIZED");
        // nor the admin API's token
        assertError(anonymous.call(HttpMethod.GET, "/api/v1/rooms", null,
                Map.of("Authorization", "Bearer admin-token-0123456789")), 401, "UNAUTHORIZED");
        assertThat(api.get(room("r")).status()).isEqualTo(200);
        assertThat(clients.get(0).count(m -> type(m, "error"))).isZero();
    }

    // ---- bad input -----------------------------------------------------------------------------------------

    @Test
    void badInput_is400WithErrorAndMessage() {
        start("FLOCK_MAX_ID_LENGTH", "16", "FLOCK_MAX_METADATA_BYTES", "100");
        WsClient alice = ws();
        alice.joinAndAck("r", "alice", meta("name", "a".repeat(40)));
        for (String segment : List.of("%zz", "%E9", "%", "%4", "a%0", "%C3%28", "%ED%A0%80", "%07", "a%0Ab", "%7F",
                "x".repeat(17), "%00", "%C2%85")) {
            assertError(api.get("/api/v1/rooms/" + segment), 400, "BAD_REQUEST");
            assertError(api.get("/api/v1/users/" + segment + "/rooms"), 400, "BAD_REQUEST");
            assertError(api.call(HttpMethod.DELETE, "/api/v1/rooms/r/users/" + segment, null), 400, "BAD_REQUEST");
            assertError(api.call(HttpMethod.POST, "/api/v1/rooms/" + segment + "/close", null), 400, "BAD_REQUEST");
            assertError(api.call(HttpMethod.PATCH, "/api/v1/rooms/" + segment + "/users/alice/metadata", "{}"), 400, "BAD_REQUEST");
        }
        assertThat(api.get("/api/v1/rooms/" + "x".repeat(16)).status()).isEqualTo(404); // at the limit: valid, absent
        assertError(api.get("/api/v1/%zz"), 400, "BAD_REQUEST");
        assertThat(api.get("/elsewhere/%zz").status()).isEqualTo(400); // outside the API: Vert.x's own answer
        for (String limit : List.of("0", "1001", "abc", "-1", "1.5", "99999999999", " 5")) {
            assertError(api.get("/api/v1/rooms?limit=" + ApiClient.seg(limit)), 400, "BAD_REQUEST");
        }
        assertThat(api.get("/api/v1/rooms?limit=1000").status()).isEqualTo(200);
        assertThat(api.get("/api/v1/rooms?limit=1").status()).isEqualTo(200);
        for (String cursor : List.of("!!!", "a b", "%%%", "====")) {
            assertError(api.get("/api/v1/rooms?cursor=" + ApiClient.seg(cursor)), 400, "BAD_REQUEST");
        }
        String patch = member("r", "alice") + "/metadata";
        for (String body : List.of("[1,2]", "\"text\"", "42", "null", "true", "not json", "{\"a\":", "")) {
            assertError(api.call(HttpMethod.PATCH, patch, body), 400, "BAD_REQUEST");
        }
        // the patch alone fits, the merged metadata does not: refused, nothing changed, nobody told
        WsClient bob = ws();
        bob.joinAndAck("r", "bob", new JsonObject());
        assertError(api.call(HttpMethod.PATCH, patch, "{\"more\":\"" + "b".repeat(50) + "\"}"), 400, "BAD_REQUEST");
        assertError(api.call(HttpMethod.PATCH, patch, "{\"big\":\"" + "b".repeat(200) + "\"}"), 400, "BAD_REQUEST");
        ApiClient.Response body413 = api.call(HttpMethod.PATCH, patch, "{\"big\":\"" + "b".repeat(70_000) + "\"}");
        assertError(body413, 413, "PAYLOAD_TOO_LARGE");
        JsonNode aliceNow = api.get(room("r")).json().get("users");
        assertThat(aliceNow.toString()).doesNotContain("more").doesNotContain("big");
        // an accepted patch afterwards is the first presence:updated bob sees
        assertThat(api.call(HttpMethod.PATCH, patch, "{\"s\":1}").status()).isEqualTo(200);
        JsonObject first = bob.await(m -> type(m, "presence:updated"));
        assertThat(first.getJsonObject("metadata")).isEqualTo(meta("s", 1));
        assertThat(bob.count(m -> type(m, "presence:updated"))).isEqualTo(1);
    }

    @Test
    void idsWithSlashColonAndNonAscii_percentEncoded_work() {
        start();
        String roomId = "org:7/doc/ünïcødé 😀";
        String userId = "user/ü:1";
        WsClient alice = ws();
        WsClient bob = ws();
        alice.joinAndAck(roomId, userId, meta("n", 1));
        alice.joinAndAck("other/room", userId, new JsonObject());
        bob.joinAndAck(roomId, "bob", new JsonObject());
        JsonNode room = api.get(room(roomId)).json();
        assertThat(room.get("roomId").asText()).isEqualTo(roomId);
        assertThat(room.get("users").findValuesAsText("userId")).containsExactlyInAnyOrder(userId, "bob");
        JsonNode rooms = api.get("/api/v1/users/" + ApiClient.seg(userId) + "/rooms").json();
        assertThat(rooms.get("userId").asText()).isEqualTo(userId);
        assertThat(rooms.get("rooms").toString()).isEqualTo("[\"org:7/doc/ünïcødé 😀\",\"other/room\"]");
        JsonNode listed = api.get("/api/v1/rooms?prefix=" + ApiClient.seg("org:7/")).json();
        assertThat(listed.get("rooms").size()).isEqualTo(1);
        assertThat(listed.get("rooms").get(0).get("roomId").asText()).isEqualTo(roomId);
        // the '/' in an id is not a path separator: "org:7" alone is not a room, "other" has no room "room"
        assertThat(api.get(room("org:7")).status()).isEqualTo(404);
        assertThat(api.get("/api/v1/rooms/other/room").status()).isEqualTo(404);
        ApiClient.Response patched = api.call(HttpMethod.PATCH, member(roomId, userId) + "/metadata", "{\"n\":2}");
        assertThat(patched.status()).as(patched.body()).isEqualTo(200);
        assertThat(patched.json().get("userId").asText()).isEqualTo(userId);
        assertThat(patched.json().get("roomId").asText()).isEqualTo(roomId);
        bob.await(m -> is("presence:updated", roomId, userId).test(m));
        assertThat(api.call(HttpMethod.DELETE, member(roomId, userId), null).status()).isEqualTo(204);
        assertThat(alice.await(m -> type(m, "error")).getString("roomId")).isEqualTo(roomId);
        bob.await(is("user:left", roomId, userId));
        assertThat(api.call(HttpMethod.POST, room("other/room") + "/close", null).status()).isEqualTo(204);
        alice.await(m -> type(m, "error") && "ROOM_CLOSED".equals(m.getString("code")));
        assertThat(api.get("/api/v1/users/" + ApiClient.seg(userId) + "/rooms").status()).isEqualTo(404);
    }

    // ---- kick / patch / close -----------------------------------------------------------------------------

    @Test
    void kick_tellsTheSocket_keepsItAndItsOtherRooms_othersSeeOneLeave_andANewJoinReadmits() {
        start();
        WsClient alice = ws();
        WsClient bob = ws();
        WsClient carol = ws();
        alice.joinAndAck("x", "alice", meta("name", "A"));
        alice.joinAndAck("y", "alice", new JsonObject());
        bob.joinAndAck("x", "bob", new JsonObject());
        bob.joinAndAck("y", "bob", new JsonObject());
        carol.joinAndAck("x", "carol", new JsonObject());
        assertThat(api.call(HttpMethod.DELETE, member("x", "alice"), null).status()).isEqualTo(204);
        JsonObject kicked = alice.await(m -> type(m, "error"));
        assertThat(kicked.getString("code")).isEqualTo("KICKED");
        assertThat(kicked.getString("roomId")).isEqualTo("x");
        bob.await(is("user:left", "x", "alice"));
        carol.await(is("user:left", "x", "alice"));
        assertThat(alice.isClosed()).isFalse();
        // the kicked user is gone from x, still in y
        assertThat(api.get(room("x")).json().get("users").findValuesAsText("userId")).containsExactlyInAnyOrder("bob", "carol");
        assertThat(api.get("/api/v1/users/alice/rooms").json().get("rooms").toString()).isEqualTo("[\"y\"]");
        assertError(api.call(HttpMethod.DELETE, member("x", "alice"), null), 404, "NOT_FOUND");
        // the socket still works in y
        alice.move("y", 0.5, 0.5);
        bob.await(is("cursor:updated", "y", "alice"));
        // a message for x does not re-admit; a join does
        alice.move("x", 0.1, 0.1);
        alice.heartbeat("x");
        int from = bob.size();
        alice.joinAndAck("x", "alice", meta("name", "A2"));
        bob.awaitFrom(from, is("user:joined", "x", "alice"));
        carol.await(is("user:joined", "x", "alice"));
        assertThat(bob.count(is("user:left", "x", "alice"))).isEqualTo(1);
        assertThat(carol.count(is("user:left", "x", "alice"))).isEqualTo(1);
        assertThat(bob.count(is("user:left", "y", "alice"))).isZero();
        assertThat(bob.count(is("cursor:updated", "x", "alice"))).isZero();
        assertThat(alice.count(m -> type(m, "error"))).isEqualTo(1);
        assertThat(bob.count(m -> type(m, "error")) + carol.count(m -> type(m, "error"))).isZero();
        assertThat(api.get("/api/v1/users/alice/rooms").json().get("rooms").toString()).isEqualTo("[\"x\",\"y\"]");
    }

    @Test
    void kick_reachesEveryConnectionOfTheUserInTheRoom() {
        start();
        WsClient tab1 = ws();
        WsClient tab2 = ws();
        WsClient bob = ws();
        tab1.joinAndAck("x", "alice", new JsonObject());
        bob.joinAndAck("x", "bob", new JsonObject());
        tab2.joinAndAck("x", "alice", new JsonObject());
        JsonNode alice = userIn(api.get(room("x")).json(), "alice");
        assertThat(alice.get("connections").asInt()).isEqualTo(2);
        assertThat(api.call(HttpMethod.DELETE, member("x", "alice"), null).status()).isEqualTo(204);
        for (WsClient tab : List.of(tab1, tab2)) {
            JsonObject e = tab.await(m -> type(m, "error"));
            assertThat(e.getString("code")).isEqualTo("KICKED");
            assertThat(tab.isClosed()).isFalse();
        }
        bob.await(is("user:left", "x", "alice"));
        assertThat(api.get(room("x")).json().get("users").size()).isEqualTo(1);
        int from = bob.size();
        WsClient dave = ws();
        dave.joinAndAck("x", "dave", new JsonObject());
        bob.awaitFrom(from, is("user:joined", "x", "dave"));
        assertThat(bob.count(is("user:left", "x", "alice"))).isEqualTo(1);
    }

    @Test
    void patch_othersSeeThePatch_theUserDoesNot_andTheRoomShowsTheMerge() {
        start();
        WsClient alice = ws();
        WsClient bob = ws();
        alice.joinAndAck("r", "alice", new JsonObject().put("name", "Alice").put("status", "idle"));
        bob.joinAndAck("r", "bob", new JsonObject());
        ApiClient.Response r = api.call(HttpMethod.PATCH, member("r", "alice") + "/metadata",
                "{\"status\":\"busy\",\"role\":{\"admin\":true}}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().get("roomId").asText()).isEqualTo("r");
        assertThat(r.json().get("userId").asText()).isEqualTo("alice");
        JsonObject merged = new JsonObject().put("name", "Alice").put("status", "busy").put("role", meta("admin", true));
        assertThat(new JsonObject(r.json().get("metadata").toString())).isEqualTo(merged);
        JsonObject seen = bob.await(is("presence:updated", "r", "alice"));
        assertThat(seen.getJsonObject("metadata")).isEqualTo(new JsonObject().put("status", "busy").put("role", meta("admin", true)));
        assertThat(new JsonObject(userIn(api.get(room("r")).json(), "alice").get("metadata").toString())).isEqualTo(merged);
        // alice's own socket is not told (as for her own presence:update); bob's next join:ack shows the merge
        alice.move("r", 0.3, 0.3);
        bob.await(is("cursor:updated", "r", "alice"));
        assertThat(alice.count(m -> type(m, "presence:updated"))).isZero();
        WsClient carol = ws();
        JsonObject ack = carol.joinAndAck("r", "carol", new JsonObject());
        JsonObject aliceInAck = ack.getJsonArray("users").stream().map(u -> (JsonObject) u)
                .filter(u -> "alice".equals(u.getString("userId"))).findFirst().orElseThrow();
        assertThat(aliceInAck.getJsonObject("metadata")).isEqualTo(merged);
        assertError(api.call(HttpMethod.PATCH, member("r", "nobody") + "/metadata", "{}"), 404, "NOT_FOUND");
        assertError(api.call(HttpMethod.PATCH, member("nowhere", "alice") + "/metadata", "{}"), 404, "NOT_FOUND");
        assertThat(bob.count(m -> type(m, "presence:updated"))).isEqualTo(1);
    }

    @Test
    void close_membersGetRoomClosed_socketsStay_roomIsGone() {
        start();
        WsClient alice = ws();
        WsClient bob = ws();
        alice.joinAndAck("doomed", "alice", new JsonObject());
        alice.joinAndAck("kept", "alice", new JsonObject());
        bob.joinAndAck("doomed", "bob", new JsonObject());
        bob.joinAndAck("kept", "bob", new JsonObject());
        assertThat(api.call(HttpMethod.POST, room("doomed") + "/close", null).status()).isEqualTo(204);
        for (WsClient c : List.of(alice, bob)) {
            JsonObject e = c.await(m -> type(m, "error"));
            assertThat(e.getString("code")).isEqualTo("ROOM_CLOSED");
            assertThat(e.getString("roomId")).isEqualTo("doomed");
            assertThat(c.isClosed()).isFalse();
        }
        assertError(api.get(room("doomed")), 404, "NOT_FOUND");
        assertError(api.call(HttpMethod.POST, room("doomed") + "/close", null), 404, "NOT_FOUND");
        assertThat(api.get("/api/v1/rooms").json().get("rooms").findValuesAsText("roomId")).containsExactly("kept");
        alice.move("kept", 0.2, 0.2);
        bob.await(is("cursor:updated", "kept", "alice"));
        assertThat(api.get(room("kept")).json().get("users").size()).isEqualTo(2);
    }

    // ---- pagination ---------------------------------------------------------------------------------------

    @Test
    void pagination_walksEveryRoomOnceInOrder_withPrefixAndLimit() {
        start();
        WsClient c = ws();
        TreeSet<String> all = new TreeSet<>();
        for (int i = 0; i < 23; i++) {
            String id = (i % 2 == 0 ? "even-" : "odd-") + String.format("%02d", i);
            c.joinAndAck(id, "u", new JsonObject());
            all.add(id);
        }
        WsClient d = ws();
        d.joinAndAck("even-00", "v", new JsonObject());
        assertThat(walk(5, "")).containsExactlyElementsOf(all);
        assertThat(walk(1, "")).containsExactlyElementsOf(all);
        assertThat(walk(1000, "")).containsExactlyElementsOf(all);
        assertThat(walk(4, "odd-")).containsExactlyElementsOf(all.tailSet("odd-"));
        assertThat(walk(3, "nothing")).isEmpty();
        JsonNode first = api.get("/api/v1/rooms?limit=2").json();
        assertThat(first.get("rooms").get(0).get("roomId").asText()).isEqualTo("even-00");
        assertThat(first.get("rooms").get(0).get("users").asInt()).isEqualTo(2);
        assertThat(first.get("rooms").get(1).get("users").asInt()).isEqualTo(1);
        assertThat(first.get("nextCursor").isTextual()).isTrue();
        // the default page is 100: everything, and no next page
        JsonNode whole = api.get("/api/v1/rooms").json();
        assertThat(whole.get("rooms").size()).isEqualTo(23);
        assertThat(whole.get("nextCursor").isNull()).isTrue();
        // an exact last page has no next cursor either (no empty trailing page)
        JsonNode exact = api.get("/api/v1/rooms?limit=23").json();
        assertThat(exact.get("nextCursor").isNull()).as(exact.toString()).isTrue();
    }

    @Test
    void pagination_underChurn_listsEveryRoomThatExistsThroughoutExactlyOnceInOrder() {
        start();
        WsClient stable = ws();
        WsClient churn = ws();
        TreeSet<String> throughout = new TreeSet<>();
        for (int i = 0; i < 30; i += 2) {
            String id = String.format("room-%02d", i);
            stable.joinAndAck(id, "s", new JsonObject());
            throughout.add(id);
        }
        List<String> coming = new ArrayList<>();
        for (int i = 1; i < 30; i += 2) {
            String id = String.format("room-%02d", i);
            churn.joinAndAck(id, "c", new JsonObject());
            coming.add(id);
        }
        List<String> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        int added = 0;
        do {
            JsonNode page = api.get("/api/v1/rooms?limit=4" + (cursor == null ? "" : "&cursor=" + cursor)).json();
            page.get("rooms").forEach(r -> seen.add(r.get("roomId").asText()));
            cursor = page.get("nextCursor").isNull() ? null : page.get("nextCursor").asText();
            // between pages: one churning room goes (ahead of or behind the cursor), and a room comes on each side
            if (!coming.isEmpty()) {
                String gone = coming.remove(pages % 2 == 0 ? 0 : coming.size() - 1);
                churn.leave(gone);
                Fleet.awaitTrue(gone + " gone", Duration.ofSeconds(10), () -> api.get(room(gone)).status() == 404);
            }
            churn.joinAndAck("room-" + String.format("%02d", added) + "-new", "c", new JsonObject());
            churn.joinAndAck("room-99-new-" + added, "c", new JsonObject());
            added++;
            pages++;
            assertThat(pages).isLessThan(100);
        } while (cursor != null);
        for (String id : throughout) {
            assertThat(seen.stream().filter(id::equals).count()).as(id + " in " + seen).isEqualTo(1);
        }
        assertThat(seen).as("in order, no repeats").isSorted().doesNotHaveDuplicates();
    }

    /** Walks every page with {@code limit}, answering the room ids in the order listed. */
    private List<String> walk(int limit, String prefix) {
        List<String> out = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            String uri = "/api/v1/rooms?limit=" + limit + "&prefix=" + ApiClient.seg(prefix)
                    + (cursor == null ? "" : "&cursor=" + cursor);
            ApiClient.Response r = api.get(uri);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            JsonNode page = r.json();
            assertThat(page.get("rooms").size()).isLessThanOrEqualTo(limit);
            page.get("rooms").forEach(room -> out.add(room.get("roomId").asText()));
            cursor = page.get("nextCursor").isNull() ? null : page.get("nextCursor").asText();
            if (cursor != null) {
                // opaque, but base64url of the last room id examined, as documented
                assertThat(new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8)).isEqualTo(out.get(out.size() - 1));
            }
            assertThat(++pages).isLessThan(1000);
        } while (cursor != null);
        return out;
    }

    private long failures(String reason) {
        io.micrometer.core.instrument.Counter c = server.metrics().registry().find("flock.api.auth.failures")
                .tag("reason", reason).counter();
        return c == null ? 0 : (long) c.count();
    }

    static JsonNode userIn(JsonNode room, String userId) {
        for (JsonNode u : room.get("users")) {
            if (u.get("userId").asText().equals(userId)) {
                return u;
            }
        }
        throw new AssertionError(userId + " not in " + room);
    }

    static Map<String, String> bearer(String key) {
        Map<String, String> h = new HashMap<>();
        h.put("Authorization", "Bearer " + key);
        return h;
    }
}
