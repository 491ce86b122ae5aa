package dev.flock.webhook;

import dev.flock.FlockServer;
import dev.flock.config.ConfigException;
import dev.flock.config.FlockConfig;
import dev.flock.ops.Await;
import dev.flock.protocol.WebhookEventType;
import dev.flock.support.HttpCalls;
import dev.flock.support.TcpProxy;
import dev.flock.support.TestServers;
import dev.flock.support.VirtualClock;
import dev.flock.support.WatchedClock;
import dev.flock.support.WebhookReceiver;
import dev.flock.support.WebhookReceiver.Request;
import dev.flock.support.WsClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static dev.flock.support.WsClient.is;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Webhook delivery in memory mode (issue 19), end to end: real WebSocket clients make presence happen, a real HTTP
 * {@link WebhookReceiver} gets the requests and checks their signatures. Flock's clock is a {@link VirtualClock}
 * (watched, so the test knows when the deliverer waits on a poll or a backoff): batching, retries and timeouts are
 * moved by the test, HTTP is real.
 */
@ExtendWith(VertxExtension.class)
class WebhookDeliveryTest {

    private static final String SECRET = "whsec-0123456789abcdef";
    private static final String API_KEY = "api-key-0123456789";
    private static final String ADMIN_TOKEN = "adm1n-t0ken-0123";
    private static final int BATCH_MS = 250;

    private final VirtualClock virtual = new VirtualClock();
    private final WatchedClock clock = new WatchedClock(virtual);
    private final List<AutoCloseable> closing = new ArrayList<>();
    private WebhookReceiver receiver;
    private FlockServer server;
    private Vertx vertx;

    @BeforeEach
    void receiver() {
        receiver = WebhookReceiver.start(SECRET, clock);
    }

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            try {
                closing.get(i).close();
            } catch (RuntimeException ignored) {
                // closing anyway
            }
        }
        if (server != null) {
            WsClient.await(server.close());
        }
        receiver.close();
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    private FlockServer start(Vertx vertx, String... extra) {
        this.vertx = vertx;
        Map<String, String> env = new HashMap<>(Map.of(
                "FLOCK_WEBHOOK_URL", receiver.url(), "FLOCK_WEBHOOK_SECRET", SECRET,
                "FLOCK_WEBHOOK_BATCH_MS", String.valueOf(BATCH_MS), "FLOCK_SERVER_API_KEY", API_KEY,
                "FLOCK_ADMIN_TOKEN", ADMIN_TOKEN, "FLOCK_ADMIN_PASSWORD", "admin-password-0123",
                "FLOCK_PRESENCE_TTL_SECONDS", "3600",
                "FLOCK_RECONNECT_GRACE_MS", "3000"));
        for (int i = 0; i + 1 < extra.length; i += 2) {
            env.put(extra[i], extra[i + 1]);
        }
        List<String> pairs = new ArrayList<>();
        env.forEach((k, v) -> {
            pairs.add(k);
            pairs.add(v);
        });
        server = TestServers.start(vertx, clock, pairs.toArray(String[]::new));
        return server;
    }

    private WsClient client() {
        WsClient c = WsClient.connect(vertx, server.port());
        closing.add(c);
        return c;
    }

    private static JsonObject meta(String... kv) {
        JsonObject o = new JsonObject();
        for (int i = 0; i + 1 < kv.length; i += 2) {
            o.put(kv[i], kv[i + 1]);
        }
        return o;
    }

    private HttpCalls.Response call(HttpMethod method, String path, String body, Map<String, String> headers) {
        HttpClient http = vertx.createHttpClient();
        try {
            return HttpCalls.send(vertx, http, new RequestOptions().setMethod(method).setHost("127.0.0.1")
                    .setPort(server.port()).setURI(path), body, headers);
        } finally {
            http.close();
        }
    }

    private HttpCalls.Response api(HttpMethod method, String path, String json) {
        Map<String, String> headers = new HashMap<>(Map.of("Authorization", "Bearer " + API_KEY));
        if (json != null) {
            headers.put("Content-Type", "application/json");
        }
        return call(method, "/api/v1" + path, json, headers);
    }

    /** The number of users the server API reports in the room (0 when it answers 404). */
    private int users(String roomId) {
        HttpCalls.Response r = api(HttpMethod.GET, "/rooms/" + roomId, null);
        return r.status() == 404 ? 0 : new JsonObject(r.body()).getJsonArray("users").size();
    }

    private void awaitUsers(String roomId, int n) {
        Await.until(roomId + " has " + n + " users", () -> users(roomId) == n);
    }

    /** Moves Flock's clock to the deliverer's next timer (a poll or a retry) and waits until it is idle again. */
    private List<Request> tick() {
        long delay = clock.awaitIdle();
        int before = receiver.count();
        clock.advance(delay);
        clock.awaitIdle();
        return receiver.requests().subList(before, receiver.count());
    }

    /** Polls until the deliverer finds nothing new; returns the requests received meanwhile. */
    private List<Request> drain() {
        List<Request> out = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            List<Request> got = tick();
            if (got.isEmpty()) {
                return out;
            }
            out.addAll(got);
        }
        throw new AssertionError("the deliverer kept sending: " + out.size() + " requests");
    }

    /** Alice and bob in "doc", alice's metadata patched by her client and bob's by the server API. */
    private WsClient[] aliceAndBobPatched() {
        WsClient alice = client();
        alice.joinAndAck("doc", "alice", meta("name", "A"));
        WsClient bob = client();
        bob.joinAndAck("doc", "bob", meta());
        alice.send(new JsonObject().put("type", "presence:update").put("roomId", "doc").put("metadata", meta("x", "1")));
        bob.await(is("presence:updated", "doc", "alice"));
        assertThat(api(HttpMethod.PATCH, "/rooms/doc/users/bob/metadata", meta("y", "2").encode()).status())
                .isEqualTo(200);
        return new WsClient[]{alice, bob};
    }

    /** Moves the deliverer on until an event about {@code userId} (a marker, joined last) arrived; the events of those ticks. */
    private List<JsonObject> ticksUntil(String userId) {
        List<JsonObject> got = new ArrayList<>();
        for (int i = 0; i < 20 && got.stream().noneMatch(e -> userId.equals(e.getString("userId"))); i++) {
            got.addAll(events(tick()));
        }
        return got;
    }

    private static List<JsonObject> events(List<Request> requests) {
        List<JsonObject> out = new ArrayList<>();
        requests.forEach(r -> out.addAll(r.events()));
        return out;
    }

    /** "type" or "type:userId" or "type:userId:reason" per event, to compare sequences. */
    private static List<String> shape(List<JsonObject> events) {
        return events.stream().map(e -> e.getString("type")
                + (e.containsKey("userId") ? ":" + e.getString("userId") : "")
                + (e.containsKey("reason") ? ":" + e.getString("reason") : "")).toList();
    }

    private double deliveries(String result) {
        Counter c = registry().find("flock.webhook.deliveries").tag("result", result).counter();
        return c == null ? 0 : c.count();
    }

    private double dropped(String reason) {
        Counter c = registry().find("flock.webhook.events.dropped").tag("reason", reason).counter();
        return c == null ? 0 : c.count();
    }

    private double pending() {
        Gauge g = registry().find("flock.webhook.pending").gauge();
        return g == null ? -1 : g.value();
    }

    private MeterRegistry registry() {
        return server.metrics().registry();
    }

    // ---- body, headers, signature ---------------------------------------------------------------------------------

    @Test
    void theBodyIsSignedWithTheSecretAtTheSendTimeOfFlocksClock(Vertx vertx) {
        virtual.advance(3_600_000); // Flock's clock an hour ahead of the wall clock: t must come from it
        start(vertx);
        client().joinAndAck("doc", "alice", meta("name", "A"));
        List<Request> got = drain();

        assertThat(got).hasSize(1);
        Request r = got.get(0);
        assertThat(r.header("Content-Type")).startsWith("application/json");
        assertThat(r.header("User-Agent")).isEqualTo("Flock-Webhooks/1");
        assertThat(r.header("X-Flock-Delivery")).isEqualTo(r.deliveryId()).startsWith("dlv_");
        long t = WebhookReceiver.signedAt(r);
        assertThat(r.json().getLong("time_ms") / 1000).isEqualTo(t);
        assertThat(t).isBetween(clock.millis() / 1000 - 2, clock.millis() / 1000);
        assertThat(t - System.currentTimeMillis() / 1000).as("t is on Flock's clock").isGreaterThan(3000);

        assertThat(receiver.verifies(r)).isTrue();
        byte[] tampered = new String(r.body(), StandardCharsets.UTF_8).replace("alice", "mallory")
                .getBytes(StandardCharsets.UTF_8);
        assertThat(WebhookReceiver.verify(r.header("X-Flock-Signature"), tampered, SECRET, clock.millis())).isFalse();
        assertThat(WebhookReceiver.verify(r.header("X-Flock-Signature"), r.body(), "another-secret-0123456", clock.millis()))
                .isFalse();
        assertThat(WebhookReceiver.verify(r.header("X-Flock-Signature"), r.body(), SECRET, t * 1000 + 299_000)).isTrue();
        assertThat(WebhookReceiver.verify(r.header("X-Flock-Signature"), r.body(), SECRET, t * 1000 + 301_000))
                .as("older than the replay window").isFalse();
        virtual.advance(301_000);
        assertThat(receiver.verifies(r)).as("replayed after the window").isFalse();

        List<JsonObject> events = r.events();
        assertThat(shape(events)).containsExactly("room.occupied", "user.joined:alice");
        JsonObject occupied = events.get(0);
        assertThat(occupied.fieldNames()).containsExactlyInAnyOrder("id", "type", "roomId", "time_ms");
        assertThat(occupied.getString("roomId")).isEqualTo("doc");
        JsonObject joined = events.get(1);
        assertThat(joined.fieldNames()).containsExactlyInAnyOrder("id", "type", "roomId", "userId", "metadata", "time_ms");
        assertThat(joined.getJsonObject("metadata")).isEqualTo(meta("name", "A"));
        assertThat(joined.getString("id")).startsWith("evt_").isNotEqualTo(occupied.getString("id"));
        assertThat(joined.getLong("time_ms")).isBetween(r.json().getLong("time_ms") - BATCH_MS, r.json().getLong("time_ms"));
    }

    // ---- event types and reasons ----------------------------------------------------------------------------------

    @Test
    void joinsLeavesAndCleanCloses(Vertx vertx) {
        start(vertx);
        WsClient alice = client();
        alice.joinAndAck("doc", "alice", meta("name", "A"));
        assertThat(shape(events(drain()))).containsExactly("room.occupied", "user.joined:alice");

        WsClient bob = client();
        bob.joinAndAck("doc", "bob", meta("name", "B"));
        assertThat(shape(events(drain()))).containsExactly("user.joined:bob");

        bob.leave("doc");
        alice.await(is("user:left", "doc", "bob"));
        List<JsonObject> left = events(drain());
        assertThat(shape(left)).containsExactly("user.left:bob:left");
        assertThat(left.get(0).getJsonObject("metadata")).isEqualTo(meta("name", "B"));

        alice.close(); // a close frame, 1000
        awaitUsers("doc", 0);
        assertThat(shape(events(drain()))).containsExactly("user.left:alice:closed", "room.vacated");
    }

    @Test
    void ttlExpiry_isReasonExpired(Vertx vertx) {
        start(vertx, "FLOCK_PRESENCE_TTL_SECONDS", "2");
        client().joinAndAck("doc", "alice", meta());
        assertThat(shape(events(drain()))).containsExactly("room.occupied", "user.joined:alice");
        int before = receiver.count();
        clock.advance(3000); // the deliverer polls on the way: what it sends meanwhile counts too
        awaitUsers("doc", 0);
        List<JsonObject> got = new ArrayList<>();
        for (int i = 0; i < 20 && got.size() < 2; i++) {
            tick();
            got = events(receiver.requests().subList(before, receiver.count()));
        }
        assertThat(shape(got)).containsExactly("user.left:alice:expired", "room.vacated");
    }

    @Test
    void adminAndServerApiCloses_areClosedByAdmin_andAKickIsKicked(Vertx vertx) {
        start(vertx);
        WsClient alice = client();
        alice.joinAndAck("a", "alice", meta());
        WsClient bob = client();
        bob.joinAndAck("b", "bob", meta());
        WsClient carol = client();
        carol.joinAndAck("c", "carol", meta());
        carol.joinAndAck("c", "carol", meta());
        WsClient dave = client();
        dave.joinAndAck("c", "dave", meta());
        drain();

        HttpCalls.Response admin = call(HttpMethod.POST, "/api/admin/close-room", "roomId=a",
                Map.of("Authorization", "Bearer " + ADMIN_TOKEN));
        assertThat(admin.status()).isLessThan(300);
        assertThat(api(HttpMethod.POST, "/rooms/b/close", null).status()).isEqualTo(204);
        assertThat(api(HttpMethod.DELETE, "/rooms/c/users/carol", null).status()).isEqualTo(204);
        awaitUsers("a", 0);
        awaitUsers("b", 0);
        awaitUsers("c", 1);
        assertThat(shape(events(drain()))).containsExactly("user.left:alice:closed_by_admin", "room.vacated",
                "user.left:bob:closed_by_admin", "room.vacated", "user.left:carol:kicked");
    }

    @Test
    void presenceUpdated_whenListed_carriesTheFullMergedMetadata(Vertx vertx) {
        start(vertx, "FLOCK_WEBHOOK_EVENTS", "user.joined,presence.updated");
        WsClient alice = client();
        alice.joinAndAck("doc", "alice", meta("name", "A", "color", "red"));
        WsClient bob = client();
        bob.joinAndAck("doc", "bob", meta());
        alice.send(new JsonObject().put("type", "presence:update").put("roomId", "doc")
                .put("metadata", meta("color", "blue")));
        bob.await(is("presence:updated", "doc", "alice"));
        assertThat(api(HttpMethod.PATCH, "/rooms/doc/users/alice/metadata", meta("status", "away").encode()).status())
                .isEqualTo(200);
        List<JsonObject> got = events(drain());
        assertThat(shape(got)).containsExactly("user.joined:alice", "user.joined:bob", "presence.updated:alice",
                "presence.updated:alice");
        assertThat(got.get(2).getJsonObject("metadata")).isEqualTo(meta("name", "A", "color", "blue"));
        assertThat(got.get(3).getJsonObject("metadata")).isEqualTo(meta("name", "A", "color", "blue", "status", "away"));
    }

    @Test
    void aTypeNotListed_isNotSent(Vertx vertx) {
        start(vertx, "FLOCK_WEBHOOK_EVENTS", "user.joined,room.vacated");
        WsClient[] aliceAndBob = aliceAndBobPatched();
        WsClient alice = aliceAndBob[0];
        WsClient bob = aliceAndBob[1];
        bob.leave("doc");
        alice.await(is("user:left", "doc", "bob"));
        alice.close();
        awaitUsers("doc", 0);
        client().joinAndAck("other", "carol", meta()); // a marker: everything before it was recorded by now
        List<JsonObject> got = ticksUntil("carol");
        assertThat(shape(got)).containsExactly("user.joined:alice", "user.joined:bob", "room.vacated",
                "user.joined:carol");
    }

    @Test
    void presenceUpdated_isNotSentByDefault(Vertx vertx) {
        start(vertx);
        aliceAndBobPatched();
        client().joinAndAck("doc", "carol", meta()); // a marker, after both patches
        List<JsonObject> got = ticksUntil("carol");
        assertThat(shape(got)).containsExactly("room.occupied", "user.joined:alice", "user.joined:bob",
                "user.joined:carol");
    }

    @Test
    void aShareModeSecondConnection_andAReturnWithinTheGrace_produceNoEvents(Vertx vertx) {
        start(vertx);
        WsClient alice1 = client();
        alice1.joinAndAck("doc", "alice", meta("name", "A"));
        assertThat(shape(events(drain()))).containsExactly("room.occupied", "user.joined:alice");

        WsClient alice2 = client();
        alice2.joinAndAck("doc", "alice", meta("name", "A"));
        alice2.close();
        Await.until("alice's second connection gone", () -> new JsonObject(api(HttpMethod.GET, "/rooms/doc", null).body())
                .getJsonArray("users").getJsonObject(0).getInteger("connections") == 1);

        TcpProxy proxy = TcpProxy.to(vertx, server.port());
        closing.add(proxy);
        WsClient bobBehind = WsClient.connect(vertx, proxy.port());
        closing.add(bobBehind);
        bobBehind.joinAndAck("doc", "bob", meta());
        assertThat(shape(events(drain()))).containsExactly("user.joined:bob");
        int mark = receiver.count();
        proxy.cut();
        bobBehind.awaitClose();
        clock.advance(1000);
        client().joinAndAck("doc", "bob", meta()); // back within the 3 s grace
        clock.advance(5000); // past the grace (the deliverer polls on the way: what it sends counts too)
        client().joinAndAck("marker", "mark", meta());
        List<JsonObject> got = new ArrayList<>();
        for (int i = 0; i < 20 && got.stream().noneMatch(e -> "mark".equals(e.getString("userId"))); i++) {
            tick();
            got = events(receiver.requests().subList(mark, receiver.count()));
        }
        assertThat(shape(got)).containsExactly("room.occupied", "user.joined:mark");
    }

    @Test
    void aConnectionThatEndsWithoutAGoodbye_leavesAsClosed_whenItsGraceEnds_notBefore(Vertx vertx) {
        start(vertx);
        client().joinAndAck("doc", "watcher", meta());
        TcpProxy proxy = TcpProxy.to(vertx, server.port());
        closing.add(proxy);
        WsClient bob = WsClient.connect(vertx, proxy.port());
        closing.add(bob);
        bob.joinAndAck("doc", "bob", meta("name", "B"));
        drain();
        proxy.cut();
        bob.awaitClose();
        Await.until("bob reconnecting", () -> new JsonObject(api(HttpMethod.GET, "/rooms/doc", null).body())
                .getJsonArray("users").stream().map(JsonObject.class::cast)
                .anyMatch(u -> "bob".equals(u.getString("userId")) && u.getBoolean("reconnecting", false)));
        clock.advance(2000); // within the 3 s grace: bob is still present
        assertThat(shape(events(drain()))).isEmpty();
        int mark = receiver.count();
        clock.advance(1500); // past it: nobody came back (the deliverer polls on the way: what it sends counts too)
        List<JsonObject> left = events(receiver.requests().subList(mark, receiver.count()));
        for (int i = 0; i < 20 && left.isEmpty(); i++) {
            tick();
            left = events(receiver.requests().subList(mark, receiver.count()));
        }
        assertThat(shape(left)).containsExactly("user.left:bob:closed");
        assertThat(left.get(0).getJsonObject("metadata").getString("name")).isEqualTo("B");
    }

    // ---- batching, retries, timeouts, order ------------------------------------------------------------------------

    @Test
    void eventsWithinOneBatchWindow_goInOneRequest(Vertx vertx) {
        start(vertx);
        clock.awaitIdle();
        client().joinAndAck("doc", "alice", meta());
        client().joinAndAck("doc", "bob", meta());
        client().joinAndAck("doc", "carol", meta());
        List<Request> got = tick();
        assertThat(got).hasSize(1);
        assertThat(shape(got.get(0).events())).containsExactly("room.occupied", "user.joined:alice",
                "user.joined:bob", "user.joined:carol");
        assertThat(drain()).isEmpty();
    }

    @Test
    void aFailedRequest_isResentUnchangedAfterTheBackoff_andLaterEventsWaitBehindIt(Vertx vertx) {
        start(vertx);
        receiver.failNext(2, 500);
        client().joinAndAck("doc", "alice", meta());
        List<Request> first = tick();
        assertThat(first).hasSize(1);
        assertThat(first.get(0).status()).isEqualTo(500);

        client().joinAndAck("doc", "bob", meta()); // recorded while the first request waits for its retry
        long backoff1 = clock.awaitIdle();
        assertThat(backoff1).isBetween(500L, 1000L);
        int before = receiver.count();
        clock.advance(1000); // Backoff's maximum for the first failure
        Request second = receiver.await(before + 1);
        assertThat(second.status()).isEqualTo(500);
        long backoff2 = clock.awaitIdle();
        assertThat(backoff2).isBetween(1000L, 2000L);
        clock.advance(2000);
        Request third = receiver.await(before + 2);
        assertThat(third.status()).isEqualTo(200);

        for (Request again : List.of(second, third)) {
            assertThat(again.deliveryId()).isEqualTo(first.get(0).deliveryId());
            assertThat(again.header("X-Flock-Delivery")).isEqualTo(first.get(0).deliveryId());
            assertThat(again.body()).isEqualTo(first.get(0).body());
            assertThat(receiver.verifies(again)).isTrue();
        }
        assertThat(shape(third.events())).containsExactly("room.occupied", "user.joined:alice");

        // the clock moved up to the maximum: the next poll may have gone out within that advance already
        drain();
        List<Request> rest = receiver.requests().subList(before + 2, receiver.count());
        assertThat(rest).hasSize(1);
        assertThat(shape(rest.get(0).events())).containsExactly("user.joined:bob");
        assertThat(rest.get(0).deliveryId()).isNotEqualTo(first.get(0).deliveryId());
        assertThat(drain()).as("nothing re-sent after success").isEmpty();
        assertThat(deliveries("http_error")).isEqualTo(2);
        assertThat(deliveries("delivered")).isEqualTo(2);
        assertThat(receiver.count()).isEqualTo(4);
    }

    @Test
    void noAnswerWithin5s_isATimeout_andTheSameBodyIsRetried(Vertx vertx) {
        start(vertx);
        receiver.holdNext(1);
        client().joinAndAck("doc", "alice", meta());
        clock.awaitIdle();
        clock.advance(BATCH_MS);
        clock.awaitRequestOut();
        Request held = receiver.await(1);
        assertThat(held.status()).isEqualTo(-1);
        clock.advance(4999);
        assertThat(clock.dispatcherTimers()).as("still waiting for the answer").anyMatch(k -> k.startsWith("post:"));
        assertThat(deliveries("timeout")).isZero();
        clock.advance(1);
        long backoff = clock.awaitIdle();
        assertThat(backoff).isBetween(500L, 1000L);
        assertThat(deliveries("timeout")).isEqualTo(1);
        clock.advance(1000);
        Request retry = receiver.await(2);
        assertThat(retry.status()).isEqualTo(200);
        assertThat(retry.deliveryId()).isEqualTo(held.deliveryId());
        assertThat(retry.body()).isEqualTo(held.body());
        receiver.releaseHeld();
        assertThat(drain()).isEmpty();
        assertThat(deliveries("delivered")).isEqualTo(1);
    }

    @Test
    void theOrderPerRoom_isTheOrderThingsHappened(Vertx vertx) {
        start(vertx);
        WsClient watchA = client();
        watchA.joinAndAck("a", "watch-a", meta());
        WsClient watchB = client();
        watchB.joinAndAck("b", "watch-b", meta());
        Map<String, List<String>> expected = new HashMap<>();
        expected.put("a", new ArrayList<>(List.of("room.occupied", "user.joined:watch-a")));
        expected.put("b", new ArrayList<>(List.of("room.occupied", "user.joined:watch-b")));
        List<Request> got = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            String room = i % 3 == 0 ? "b" : "a";
            WsClient watcher = room.equals("a") ? watchA : watchB;
            String user = "u" + i;
            WsClient c = client();
            c.joinAndAck(room, user, meta());
            expected.get(room).add("user.joined:" + user);
            if (i % 2 == 0) {
                c.leave(room);
                watcher.await(is("user:left", room, user));
                expected.get(room).add("user.left:" + user + ":left");
            }
            if (i % 4 == 3) {
                got.addAll(tick()); // spread over several requests
            }
        }
        got.addAll(drain());
        assertThat(got.size()).isGreaterThan(2);
        List<JsonObject> all = events(got);
        for (String room : List.of("a", "b")) {
            assertThat(shape(all.stream().filter(e -> room.equals(e.getString("roomId"))).toList()))
                    .as("room " + room).containsExactlyElementsOf(expected.get(room));
        }
        assertThat(all.stream().map(e -> e.getString("id")).distinct().count()).isEqualTo(all.size());
    }

    // ---- max age, max pending, metrics -----------------------------------------------------------------------------

    @Test
    void eventsOlderThanMaxAge_areDroppedAndCounted_andLaterOnesStillGoOut(Vertx vertx) {
        start(vertx, "FLOCK_WEBHOOK_MAX_AGE_SECONDS", "5");
        receiver.failAll(503);
        client().joinAndAck("doc", "alice", meta());
        for (int i = 0; i < 20 && dropped("max_age") == 0; i++) {
            tick(); // a retry after each backoff, until the events are too old
        }
        assertThat(dropped("max_age")).isEqualTo(2);
        int failedRequests = receiver.count();
        assertThat(failedRequests).isGreaterThan(1);
        assertThat(receiver.requests()).noneMatch(Request::ok);

        receiver.recover();
        client().joinAndAck("doc", "bob", meta());
        List<Request> got = drain();
        assertThat(got).hasSize(1);
        assertThat(shape(got.get(0).events())).containsExactly("user.joined:bob");
        assertThat(got.get(0).ok()).isTrue();
        assertThat(deliveries("http_error")).isEqualTo(failedRequests);
        assertThat(deliveries("delivered")).isEqualTo(1);
    }

    @Test
    void beyondMaxPending_theOldestGo_andTheGapIsCountedAsOverflow(Vertx vertx) {
        start(vertx, "FLOCK_WEBHOOK_MAX_PENDING", "3");
        receiver.failAll(500);
        client().joinAndAck("doc", "alice", meta());
        assertThat(tick()).hasSize(1); // the first batch, read and failed: the deliverer retries it as it is
        for (int i = 1; i <= 5; i++) {
            client().joinAndAck("doc", "u" + i, meta());
        }
        clock.advance(2000); // a refresh of the pending gauge (and a retry or two)
        clock.awaitIdle();
        assertThat(pending()).as("the outbox holds at most 3").isEqualTo(3);
        receiver.recover();
        List<JsonObject> delivered = new ArrayList<>();
        for (int i = 0; i < 20 && delivered.stream().noneMatch(e -> "u5".equals(e.getString("userId"))); i++) {
            tick();
            delivered = receiver.delivered();
        }
        assertThat(shape(delivered)).containsExactly("room.occupied", "user.joined:alice", "user.joined:u3",
                "user.joined:u4", "user.joined:u5");
        assertThat(dropped("overflow")).isEqualTo(2);
        assertThat(dropped("max_age")).isZero();
        clock.advance(2000);
        clock.awaitIdle();
        assertThat(pending()).isZero();
        assertThat(deliveries("delivered")).isEqualTo(2);
        assertThat(deliveries("http_error")).isEqualTo(receiver.requests().stream().filter(r -> !r.ok()).count());
    }

    @Test
    void theMetersStartAtZero_andFollowTheDeliveries(Vertx vertx) {
        start(vertx);
        for (String r : List.of("delivered", "http_error", "timeout", "network_error")) {
            assertThat(registry().find("flock.webhook.deliveries").tag("result", r).counter()).as(r).isNotNull();
            assertThat(deliveries(r)).as(r).isZero();
        }
        assertThat(pending()).isZero();
        receiver.failAll(500);
        client().joinAndAck("doc", "alice", meta());
        client().joinAndAck("doc", "bob", meta());
        clock.advance(2000);
        clock.awaitIdle();
        assertThat(pending()).isEqualTo(3);
        assertThat(deliveries("http_error")).isGreaterThanOrEqualTo(1);
        receiver.recover();
        drain();
        clock.advance(2000);
        clock.awaitIdle();
        assertThat(pending()).isZero();
        assertThat(deliveries("delivered")).isEqualTo(1);
        assertThat(registry().find("flock.webhook.delivery.duration").timer().count())
                .isEqualTo((long) (deliveries("delivered") + deliveries("http_error")));
    }

    // ---- start-up refusals -----------------------------------------------------------------------------------------

    private static FlockConfig config(String... kv) {
        Map<String, String> env = new HashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2) {
            env.put(kv[i], kv[i + 1]);
        }
        return FlockConfig.fromEnv(env);
    }

    @Test
    void unusableWebhookSettings_stopStartUp_namingTheSetting() {
        assertThatThrownBy(() -> config("FLOCK_WEBHOOK_URL", "http://127.0.0.1:9/hooks"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("FLOCK_WEBHOOK_SECRET");
        assertThatThrownBy(() -> config("FLOCK_WEBHOOK_URL", "ftp://example.com/hooks", "FLOCK_WEBHOOK_SECRET", SECRET))
                .isInstanceOf(ConfigException.class).hasMessageContaining("FLOCK_WEBHOOK_URL");
        assertThatThrownBy(() -> config("FLOCK_WEBHOOK_URL", "example.com/hooks", "FLOCK_WEBHOOK_SECRET", SECRET))
                .isInstanceOf(ConfigException.class).hasMessageContaining("FLOCK_WEBHOOK_URL");
        assertThatThrownBy(() -> config("FLOCK_WEBHOOK_URL", "http://127.0.0.1:9/hooks", "FLOCK_WEBHOOK_SECRET", SECRET,
                "FLOCK_WEBHOOK_EVENTS", "user.joined,user.teleported"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("FLOCK_WEBHOOK_EVENTS")
                .hasMessageContaining("user.teleported");
        assertThat(config("FLOCK_WEBHOOK_URL", "https://example.com/hooks", "FLOCK_WEBHOOK_SECRET", SECRET).webhooks()
                .events()).containsExactlyInAnyOrder(WebhookEventType.ROOM_OCCUPIED, WebhookEventType.ROOM_VACATED,
                WebhookEventType.USER_JOINED, WebhookEventType.USER_LEFT);
    }

    @SuppressWarnings("unused")
    private static Predicate<JsonObject> user(String userId) {
        return e -> userId.equals(e.getString("userId"));
    }

    @SuppressWarnings("unused")
    private static List<String> list(String... s) {
        return Arrays.asList(s);
    }
}
