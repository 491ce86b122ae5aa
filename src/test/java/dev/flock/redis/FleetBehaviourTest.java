package dev.flock.redis;

import dev.flock.FlockServer;
import dev.flock.support.RedisExtension;
import dev.flock.support.RedisServer;
import dev.flock.support.TestServers;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static dev.flock.support.Fleet.awaitTrue;
import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.userIds;
import static dev.flock.support.WsClient.type;
import static org.assertj.core.api.Assertions.assertThat;


/**
 * Several Flock instances (each its own Vert.x) on one real Redis, driven by real WebSocket clients: the fleet's
 * behaviour, the same on one Redis ({@link MultiInstanceTest}, which adds what only a single Redis can show: a restart,
 * a hang, a late start) and through Sentinel ({@link MultiInstanceSentinelTest}).
 */
@SuppressWarnings("unchecked")
abstract class FleetBehaviourTest {

    /** Test clients send bursts far above the SDK's 20 moves/s. */
    protected static final String[] FAST = {"FLOCK_MAX_MESSAGES_PER_SECOND", "100000"};

    private final List<Vertx> vertxes = new ArrayList<>();
    private final Map<FlockServer, Vertx> servers = new HashMap<>();
    private final List<WsClient> clients = new ArrayList<>();
    protected final List<RedisServer> extraRedis = new ArrayList<>();
    private ScheduledExecutorService heartbeats;
    private Vertx clientVertx;

    /** The URL the fleet's instances get. */
    protected abstract String url();

    /**
     * One command to the Redis the instances write to (the primary, through Sentinel; in a cluster, the master of the
     * key's slot, or every master for FLUSHALL and CONFIG SET).
     */
    protected abstract Object command(String... args);

    /** The key layout the instances write (the cluster's in a cluster). */
    protected KeyLayout layout() {
        return KeyLayout.ORIGINAL;
    }

    @BeforeEach
    void setUp() {
        command("FLUSHALL");
        command("CONFIG", "SET", "notify-keyspace-events", "");
        clientVertx = Vertx.vertx();
        heartbeats = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterEach
    void tearDown() {
        heartbeats.shutdownNow();
        clients.forEach(WsClient::close);
        for (Map.Entry<FlockServer, Vertx> e : servers.entrySet()) {
            try {
                WsClient.await(e.getKey().stop(true));
            } catch (RuntimeException ignored) {
                // stopped by the test already
            }
        }
        for (Vertx v : vertxes) {
            WsClient.await(v.close());
        }
        WsClient.await(clientVertx.close());
        extraRedis.forEach(RedisServer::close);
    }

    // ---- harness -------------------------------------------------------------------------------------------

    protected FlockServer instance(String... env) {
        return instanceOn(url(), env);
    }

    protected FlockServer instanceOn(String url, String... env) {
        Vertx v = Vertx.vertx();
        vertxes.add(v);
        FlockServer s = TestServers.startOnRedis(v, url, env);
        servers.put(s, v);
        return s;
    }

    protected WsClient client(FlockServer server) {
        WsClient c = WsClient.connect(clientVertx, server.port());
        clients.add(c);
        return c;
    }

    /** Heartbeats the room every 500 ms from a background thread, as the SDK does (every 10 s). */
    protected void keepAlive(WsClient c, String roomId) {
        heartbeats.scheduleAtFixedRate(() -> {
            try {
                if (!c.isClosed()) {
                    c.heartbeat(roomId);
                }
            } catch (RuntimeException ignored) {
                // closed meanwhile
            }
        }, 500, 500, TimeUnit.MILLISECONDS);
    }

    protected static JsonObject meta(String name) {
        return new JsonObject().put("name", name);
    }


    protected static int httpStatus(int port, String path) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** A watcher that must stay silent about a user: waits a quiet period with a marker round trip. */
    protected static long countFor(WsClient c, String type, String userId) {
        return c.count(is(type, null, userId));
    }

    // ---- tests ---------------------------------------------------------------------------------------------

    @Test
    void crossInstance_joinCursorPresenceLeave_reachTheOtherInstance() {
        FlockServer a = instance();
        FlockServer b = instance();
        WsClient alice = client(a);
        WsClient bob = client(b);
        alice.joinAndAck("doc:1", "alice", meta("Alice"));
        JsonObject ack = bob.joinAndAck("doc:1", "bob", meta("Bob"));
        assertThat(userIds(ack)).containsExactly("alice");
        assertThat(ack.getJsonArray("users").getJsonObject(0).getJsonObject("metadata")).isEqualTo(meta("Alice"));

        assertThat(alice.await(is("user:joined", "doc:1", "bob")).getJsonObject("metadata")).isEqualTo(meta("Bob"));
        bob.move("doc:1", 0.5, 0.25);
        JsonObject moved = alice.await(is("cursor:updated", "doc:1", "bob"));
        assertThat(moved.getJsonObject("position")).isEqualTo(new JsonObject().put("x", 0.5).put("y", 0.25));

        alice.send(new JsonObject().put("type", "presence:update").put("roomId", "doc:1")
                .put("metadata", new JsonObject().put("status", "away")));
        assertThat(bob.await(is("presence:updated", "doc:1", "alice")).getJsonObject("metadata"))
                .isEqualTo(new JsonObject().put("status", "away"));

        bob.send(new JsonObject().put("type", "cursor:leave").put("roomId", "doc:1"));
        alice.await(is("cursor:removed", "doc:1", "bob"));
        bob.leave("doc:1");
        alice.await(is("user:left", "doc:1", "bob"));

        // the merged metadata is in Redis, in the original's layout
        assertThat(command("HGET", layout().presence("doc:1", "alice"), "metadata").toString()).contains("\"status\":\"away\"");
        assertThat((List<Object>) command("SMEMBERS", layout().members("doc:1"))).containsExactly("alice");
        // own events never come back
        assertThat(bob.count(is("cursor:updated", null, "bob"))).isZero();
        assertThat(alice.count(is("presence:updated", null, "alice"))).isZero();
    }

    @Test
    void eventsPublishedInTheOriginalLayout_reachLocalMembers_andBadPayloadsReachNobody() {
        FlockServer a = instance();
        WsClient alice = client(a);
        alice.joinAndAck("doc:9", "alice", meta("Alice"));
        String channel = layout().channel("doc:9");
        String publish = layout().publish().toString().toUpperCase(java.util.Locale.ROOT);
        // an original Node instance: its own id, JSON.stringify field order, its own number formatting
        command(publish, channel, "{\"instanceId\":\"node-1\",\"message\":{\"type\":\"user:joined\","
                + "\"roomId\":\"doc:9\",\"userId\":\"nora\",\"metadata\":{\"name\":\"Nora\"}}}");
        assertThat(alice.await(is("user:joined", "doc:9", "nora")).getJsonObject("metadata")).isEqualTo(meta("Nora"));

        // bad payloads: not JSON, not an object, a cursor without a position, an event for another room
        command(publish, channel, "not json");
        command(publish, channel, "[\"instanceId\"]");
        command(publish, channel, "{\"instanceId\":\"node-1\",\"message\":{\"type\":\"cursor:updated\","
                + "\"roomId\":\"doc:9\",\"userId\":\"nora\"}}");
        command(publish, channel, "{\"instanceId\":\"node-1\",\"message\":{\"type\":\"cursor:updated\","
                + "\"roomId\":\"elsewhere\",\"userId\":\"nora\",\"position\":{\"x\":9,\"y\":9},\"timestamp\":1}}");
        // then a good one, framed as it was published
        command(publish, channel, "{\"message\":{\"type\":\"cursor:updated\",\"roomId\":\"doc:9\",\"userId\":"
                + "\"nora\",\"position\":{\"x\":0.5,\"y\":1e-1},\"timestamp\":1700000000000},\"instanceId\":\"node-1\"}");
        JsonObject moved = alice.await(is("cursor:updated", "doc:9", "nora"));
        assertThat(moved.getJsonObject("position")).isEqualTo(new JsonObject().put("x", 0.5).put("y", 0.1));
        assertThat(moved.getLong("timestamp")).isEqualTo(1700000000000L);
        assertThat(alice.count(is("cursor:updated", null, "nora"))).isEqualTo(1);

        // the remote cursor is kept for snapshots, and the instance still serves
        WsClient bob = client(a);
        JsonObject ack = bob.joinAndAck("doc:9", "bob", meta("Bob"));
        JsonObject nora = ack.getJsonArray("users").stream().map(JsonObject.class::cast)
                .filter(u -> "nora".equals(u.getString("userId"))).findFirst().orElseThrow();
        assertThat(nora.getJsonObject("cursor")).isEqualTo(new JsonObject().put("x", 0.5).put("y", 0.1));
    }

    @Test
    void snapshotOnAnotherInstance_listsUsersOfAllInstances_withLastCursor() {
        FlockServer a = instance();
        FlockServer b = instance();
        FlockServer c = instance();
        WsClient alice = client(a);
        WsClient bob = client(b);
        alice.joinAndAck("r", "alice", meta("Alice"));
        bob.joinAndAck("r", "bob", meta("Bob"));
        alice.move("r", 0.1, 0.2);
        bob.await(is("cursor:updated", "r", "alice"));

        // B hears the room: its snapshot comes from what it heard, cursor included
        JsonObject ackB = client(b).joinAndAck("r", "carol", meta("Carol"));
        assertThat(userIds(ackB)).containsExactlyInAnyOrder("alice", "bob");
        JsonObject aliceOnB = ackB.getJsonArray("users").stream().map(JsonObject.class::cast)
                .filter(u -> "alice".equals(u.getString("userId"))).findFirst().orElseThrow();
        assertThat(aliceOnB.getJsonObject("cursor").getDouble("x")).isEqualTo(0.1);

        // C has nobody in the room: it reads Redis, where the cursor hash is written within about a second
        awaitTrue("cursor hash written", Duration.ofSeconds(5), () -> command("HGET", layout().cursor("r", "alice"), "x") != null);
        JsonObject ackC = client(c).joinAndAck("r", "dave", meta("Dave"));
        assertThat(userIds(ackC)).containsExactlyInAnyOrder("alice", "bob", "carol");
        JsonObject aliceOnC = ackC.getJsonArray("users").stream().map(JsonObject.class::cast)
                .filter(u -> "alice".equals(u.getString("userId"))).findFirst().orElseThrow();
        assertThat(aliceOnC.getJsonObject("metadata")).isEqualTo(meta("Alice"));
        assertThat(aliceOnC.getJsonObject("cursor").getDouble("y")).isEqualTo(0.2);
    }

    @Test
    void threeInstances_everyEventReachesEveryRecipientExactlyOnce_inSenderOrder() {
        List<FlockServer> instances = List.of(instance(FAST), instance(FAST), instance(FAST));
        int perInstance = 2;
        int moves = 160;
        List<WsClient> users = new ArrayList<>();
        for (int i = 0; i < instances.size() * perInstance; i++) {
            WsClient c = client(instances.get(i % instances.size()));
            c.joinAndAck("busy", "u" + i, meta("U" + i));
            users.add(c);
        }
        for (WsClient c : users) { // everyone has seen everyone join
            for (int j = 0; j < users.size(); j++) {
                if (c != users.get(j) && c.indexOf(is("user:joined", "busy", "u" + j)) < 0) {
                    // joined before this one: listed in its ack instead
                    assertThat(c.indexOf(m -> type(m, "join:ack"))).isGreaterThanOrEqualTo(0);
                }
            }
        }
        int updates = 40;
        Thread[] senders = new Thread[users.size()];
        for (int i = 0; i < users.size(); i++) {
            WsClient c = users.get(i);
            senders[i] = new Thread(() -> {
                for (int k = 1; k <= moves; k++) {
                    c.move("busy", k / 1000.0, 0.5);
                    if (k % (moves / updates) == 0) { // presence events are never coalesced: exactly once, always
                        c.send(new JsonObject().put("type", "presence:update").put("roomId", "busy")
                                .put("metadata", new JsonObject().put("seq", k / (moves / updates))));
                    }
                }
            });
            senders[i].start();
        }
        for (Thread t : senders) {
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
        double coalesced = instances.stream()
                .mapToDouble(s -> s.metrics().registry().find("flock.cursor.coalesced").counter().count()).sum();
        for (int r = 0; r < users.size(); r++) {
            WsClient receiver = users.get(r);
            for (int s = 0; s < users.size(); s++) {
                String sender = "u" + s;
                if (r == s) {
                    continue;
                }
                receiver.await(m -> is("presence:updated", "busy", sender).test(m)
                        && m.getJsonObject("metadata").getInteger("seq") == updates);
                List<Integer> seqs = receiver.messages().stream().filter(is("presence:updated", "busy", sender))
                        .map(m -> m.getJsonObject("metadata").getInteger("seq")).toList();
                assertThat(seqs).as("presence updates of %s seen by u%d", sender, r).hasSize(updates).isSorted()
                        .doesNotHaveDuplicates();
                receiver.await(m -> is("cursor:updated", "busy", sender).test(m)
                        && m.getJsonObject("position").getDouble("x") == moves / 1000.0);
                List<Double> xs = receiver.messages().stream().filter(is("cursor:updated", "busy", sender))
                        .map(m -> m.getJsonObject("position").getDouble("x")).toList();
                assertThat(xs).as("moves of %s seen by u%d", sender, r).isSorted().doesNotHaveDuplicates();
                if (coalesced == 0) { // cursors to a slow reader are "latest value" (issue 9); otherwise exactly once
                    assertThat(xs).hasSize(moves);
                }
                // cursor publishes wait for a batch, presence publishes do not: neither may overtake the other
                double lastX = 0;
                for (JsonObject m : receiver.messages()) {
                    if (is("cursor:updated", "busy", sender).test(m)) {
                        lastX = m.getJsonObject("position").getDouble("x");
                    } else if (is("presence:updated", "busy", sender).test(m)) {
                        double sentAfterX = m.getJsonObject("metadata").getInteger("seq") * (moves / updates) / 1000.0;
                        assertThat(lastX).as("last move of %s before its presence update %s", sender, m)
                                .isLessThanOrEqualTo(sentAfterX);
                        if (coalesced == 0) {
                            assertThat(lastX).as("last move of %s before its presence update %s", sender, m)
                                    .isEqualTo(sentAfterX);
                        }
                    }
                }
            }
            assertThat(receiver.count(is("cursor:updated", "busy", "u" + r))).isZero();
            assertThat(receiver.count(is("presence:updated", "busy", "u" + r))).isZero();
        }
    }

    @Test
    void roomLimit_holdsClusterWide_whenTwoInstancesRaceForTheLastSeat() {
        FlockServer a = instance("FLOCK_MAX_ROOM_SIZE", "2");
        FlockServer b = instance("FLOCK_MAX_ROOM_SIZE", "2");
        for (int round = 0; round < 8; round++) {
            String room = "race-" + round;
            client(a).joinAndAck(room, "first", meta("F"));
            WsClient onA = client(a);
            WsClient onB = client(b);
            onA.join(room, "x", meta("X"));
            onB.join(room, "y", meta("Y"));
            Predicate<JsonObject> answer = m -> room.equals(m.getString("roomId"))
                    && (type(m, "join:ack") || (type(m, "error") && "ROOM_FULL".equals(m.getString("code"))));
            JsonObject ra = onA.await(answer);
            JsonObject rb = onB.await(answer);
            long admitted = (type(ra, "join:ack") ? 1 : 0) + (type(rb, "join:ack") ? 1 : 0);
            assertThat(admitted).as("round %d: %s / %s", round, ra, rb).isEqualTo(1);
            assertThat((List<Object>) command("SMEMBERS", layout().members(room))).hasSize(2);
        }
    }

    @Test
    void shareMode_twoTabsOnTwoInstances_oneJoinOneLeave() {
        FlockServer a = instance();
        FlockServer b = instance();
        WsClient watcher = client(a);
        watcher.joinAndAck("s", "watcher", meta("W"));
        WsClient tab1 = client(a);
        WsClient tab2 = client(b);
        tab1.joinAndAck("s", "alice", meta("Alice"));
        JsonObject ack2 = tab2.joinAndAck("s", "alice", new JsonObject().put("name", "Alice").put("tab", 2));
        assertThat(userIds(ack2)).containsExactly("watcher");
        assertThat(watcher.await(is("presence:updated", "s", "alice")).getJsonObject("metadata"))
                .isEqualTo(new JsonObject().put("tab", 2));

        tab2.move("s", 0.3, 0.3); // the cursor belongs to the user: seen by the watcher, not by the other tab
        watcher.await(is("cursor:updated", "s", "alice"));
        tab1.close();
        tab2.move("s", 0.4, 0.4);
        watcher.await(m -> is("cursor:updated", "s", "alice").test(m) && m.getJsonObject("position").getDouble("x") == 0.4);
        assertThat(countFor(watcher, "user:left", "alice")).isZero();
        tab2.close();
        watcher.await(is("user:left", "s", "alice"));
        assertThat(countFor(watcher, "user:joined", "alice")).isEqualTo(1);
        assertThat(countFor(watcher, "user:left", "alice")).isEqualTo(1);
        assertThat(tab1.count(is("cursor:updated", null, "alice"))).isZero();
        // a probe after everything settled: still exactly one leave
        WsClient probe = client(b);
        probe.joinAndAck("s", "probe", meta("P"));
        watcher.await(is("user:joined", "s", "probe"));
        assertThat(countFor(watcher, "user:left", "alice")).isEqualTo(1);
    }

    @Test
    void evictMode_sameUserOnAnotherInstance_closesTheOldSocket_oneLeaveOneJoin() {
        FlockServer a = instance("FLOCK_DUPLICATE_JOIN", "evict");
        FlockServer b = instance("FLOCK_DUPLICATE_JOIN", "evict");
        FlockServer c = instance("FLOCK_DUPLICATE_JOIN", "evict");
        WsClient watcher = client(c);
        watcher.joinAndAck("e", "watcher", meta("W"));
        WsClient old = client(a);
        old.joinAndAck("e", "alice", meta("Old"));
        watcher.await(is("user:joined", "e", "alice"));
        WsClient fresh = client(b);
        fresh.joinAndAck("e", "alice", meta("New"));
        assertThat(old.awaitClose()).isEqualTo(4000);
        watcher.await(is("user:left", "e", "alice"));
        int left = watcher.indexOf(is("user:left", "e", "alice"));
        JsonObject rejoined = watcher.awaitFrom(left, is("user:joined", "e", "alice"));
        assertThat(rejoined.getJsonObject("metadata")).isEqualTo(meta("New"));
        // the superseded socket closing does not evict the live user
        WsClient probe = client(a);
        probe.joinAndAck("e", "probe", meta("P"));
        watcher.await(is("user:joined", "e", "probe"));
        assertThat(countFor(watcher, "user:left", "alice")).isEqualTo(1);
        assertThat(countFor(watcher, "user:joined", "alice")).isEqualTo(2);
        fresh.move("e", 0.9, 0.9);
        watcher.await(is("cursor:updated", "e", "alice"));
    }

    @Test
    void stoppedInstance_usersExpireViaKeyspaceEvents_withinTtlPlus5s_withoutAnnouncingAtShutdown() {
        FlockServer a = instance("FLOCK_PRESENCE_TTL_SECONDS", "2", "FLOCK_REDIS_SWEEP_INTERVAL_MS", "60000");
        FlockServer b = instance("FLOCK_PRESENCE_TTL_SECONDS", "2", "FLOCK_REDIS_SWEEP_INTERVAL_MS", "60000");
        assertThat(command("CONFIG", "GET", "notify-keyspace-events").toString()).contains("E").contains("x");
        WsClient watcher = client(a);
        watcher.joinAndAck("k", "watcher", meta("W"));
        keepAlive(watcher, "k");
        WsClient alice = client(b);
        alice.joinAndAck("k", "alice", meta("A"));
        watcher.await(is("user:joined", "k", "alice"));

        long stoppedAt = System.nanoTime();
        WsClient.await(b.stop()); // graceful: no leave announced, presence left to expire
        assertThat(alice.awaitClose()).isEqualTo(4001);
        watcher.await(is("user:left", "k", "alice"));
        long tookMs = (System.nanoTime() - stoppedAt) / 1_000_000;
        assertThat(tookMs).isBetween(1500L, 7000L);
        assertThat(countFor(watcher, "user:left", "alice")).isEqualTo(1);
    }

    @Test
    void withoutKeyspaceEvents_theSweepEvictsVanishedUsers() {
        FlockServer a = instance("FLOCK_PRESENCE_TTL_SECONDS", "2", "FLOCK_REDIS_KEYSPACE_EVENTS", "false",
                "FLOCK_REDIS_SWEEP_INTERVAL_MS", "1000");
        FlockServer b = instance("FLOCK_PRESENCE_TTL_SECONDS", "2", "FLOCK_REDIS_KEYSPACE_EVENTS", "false");
        assertThat(command("CONFIG", "GET", "notify-keyspace-events").toString()).doesNotContain("x");
        WsClient watcher = client(a);
        watcher.joinAndAck("w", "watcher", meta("W"));
        keepAlive(watcher, "w");
        WsClient alice = client(b);
        alice.joinAndAck("w", "alice", meta("A"));
        watcher.await(is("user:joined", "w", "alice"));
        long stoppedAt = System.nanoTime();
        WsClient.await(b.stop());
        watcher.await(is("user:left", "w", "alice"));
        assertThat((System.nanoTime() - stoppedAt) / 1_000_000).isLessThan(7000L);
        assertThat((List<Object>) command("SMEMBERS", layout().members("w"))).containsExactly("watcher");
    }

    @Test
    void gracefulShutdown_clientReconnectingElsewhereWithinTtl_causesNoFlicker() {
        FlockServer a = instance();
        FlockServer b = instance();
        WsClient watcher = client(a);
        watcher.joinAndAck("g", "watcher", meta("W"));
        WsClient alice = client(b);
        alice.joinAndAck("g", "alice", meta("A"));
        watcher.await(is("user:joined", "g", "alice"));
        assertThat(httpStatus(b.port(), "/ready")).isEqualTo(200);
        WsClient.await(b.stop());
        assertThat(alice.awaitClose()).isEqualTo(4001);
        WsClient again = client(a);
        JsonObject ack = again.joinAndAck("g", "alice", meta("A"));
        assertThat(userIds(ack)).containsExactly("watcher");
        WsClient probe = client(a);
        probe.joinAndAck("g", "probe", meta("P"));
        watcher.await(is("user:joined", "g", "probe"));
        assertThat(countFor(watcher, "user:left", "alice")).isZero();
        assertThat(countFor(watcher, "user:joined", "alice")).isEqualTo(1);
    }

    @Test
    void joiningWhileTheRoomIsBusy_snapshotThenEveryLaterEventOnce() throws Exception {
        FlockServer a = instance(FAST);
        FlockServer b = instance(FAST);
        List<WsClient> movers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            WsClient m = client(a);
            m.joinAndAck("busy", "m" + i, meta("M" + i));
            movers.add(m);
        }
        int moves = 300;
        Thread[] senders = new Thread[movers.size()];
        for (int i = 0; i < movers.size(); i++) {
            WsClient m = movers.get(i);
            senders[i] = new Thread(() -> {
                for (int k = 1; k <= moves; k++) {
                    m.move("busy", k / 1000.0, 0.5);
                }
            });
            senders[i].start();
        }
        WsClient late = client(b); // first member on B: B subscribes, reads the snapshot, then applies what came meanwhile
        JsonObject ack = late.joinAndAck("busy", "late", meta("L"));
        WsClient joiner = client(a); // and someone joins on A at the same time
        joiner.join("busy", "j", meta("J"));
        for (Thread t : senders) {
            t.join();
        }
        assertThat(userIds(ack)).contains("m0", "m1", "m2");
        if (!userIds(ack).contains("j")) {
            late.await(is("user:joined", "busy", "j"));
        }
        for (int i = 0; i < movers.size(); i++) {
            String sender = "m" + i;
            late.await(m -> is("cursor:updated", "busy", sender).test(m) && m.getJsonObject("position").getDouble("x") == moves / 1000.0);
            List<Double> xs = late.messages().stream().filter(is("cursor:updated", "busy", sender))
                    .map(m -> m.getJsonObject("position").getDouble("x")).toList();
            assertThat(xs).as("a contiguous, duplicate-free tail of %s's moves", sender).isSorted().doesNotHaveDuplicates();
            double first = xs.get(0);
            double coalesced = b.metrics().registry().find("flock.cursor.coalesced").counter().count();
            if (coalesced == 0) { // a slow reader gets "latest value" cursors (issue 9): gaps allowed only then
                assertThat(xs).hasSize((int) Math.round((moves / 1000.0 - first) * 1000) + 1);
            }
        }
        for (String u : List.of("m0", "m1", "m2")) {
            assertThat(late.count(is("user:joined", "busy", u))).as("already in the snapshot: " + u).isZero();
        }
        assertThat(late.count(is("user:joined", "busy", "j")) + (userIds(ack).contains("j") ? 1 : 0)).isEqualTo(1);
    }

    @Test
    void idsWithColonsAndPercents_getEncodedKeys_rawChannels() {
        FlockServer a = instance();
        FlockServer b = instance();
        WsClient x = client(a);
        WsClient y = client(b);
        x.joinAndAck("a:b", "c", meta("X"));
        y.joinAndAck("a", "b:c", meta("Y"));
        assertThat(command("EXISTS", layout().presence("a:b", "c"))).isEqualTo(1L);
        assertThat(command("EXISTS", layout().presence("a", "b:c"))).isEqualTo(1L);
        WsClient z = client(b);
        JsonObject ack = z.joinAndAck("a:b", "100%", meta("Z"));
        assertThat(userIds(ack)).containsExactly("c");
        assertThat(command("EXISTS", layout().presence("a:b", "100%"))).isEqualTo(1L);
        x.await(is("user:joined", "a:b", "100%"));
    }
}
