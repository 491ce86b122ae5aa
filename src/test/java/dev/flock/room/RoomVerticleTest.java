package dev.flock.room;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import dev.flock.protocol.ClientMessage;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.protocol.ServerMessage;
import dev.flock.support.Fleet;
import dev.flock.support.VirtualClock;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The room verticle on its own: a real Vert.x and {@link RoomRegistry}, the memory store, a {@link FakeDelivery} and
 * {@link FakePeer}s instead of sockets, and a {@link VirtualClock}. Commands travel as transport sends them
 * ({@link RoomRegistry#routeJoin} first, then {@link RoomBus#send}); a {@link RoomCommand.Inspect} request after them
 * waits until the room has processed them (one command at a time, in order).
 */
@ExtendWith(VertxExtension.class)
class RoomVerticleTest {

    private static final String ROOM = "doc:1";
    private static final Duration WAIT = Duration.ofSeconds(5);

    private Vertx vertx;
    private VirtualClock clock;
    private FlockConfig config;
    private MemoryPresenceStore memory;
    private CountingPresenceStore store;
    private FakeDelivery delivery;
    private RoomRegistry registry;
    /** Every room verticle the registry made, in order. */
    private final List<RoomVerticle> made = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp(Vertx vertx) {
        this.vertx = vertx;
        RoomBus.registerCodec(vertx);
    }

    @AfterEach
    void tearDown() {
        if (registry != null) {
            await(registry.closeAll());
        }
    }

    /** The room side of one server, with these {@code FLOCK_*} settings. */
    private void start(String... envPairs) {
        Map<String, String> env = new HashMap<>();
        for (int i = 0; i + 1 < envPairs.length; i += 2) {
            env.put(envPairs[i], envPairs[i + 1]);
        }
        config = FlockConfig.fromEnv(env);
        clock = new VirtualClock();
        memory = new MemoryPresenceStore(clock, PresenceStore.connectionTtlMs(config),
                config.maxMetadataBytes());
        store = new CountingPresenceStore(memory);
        delivery = new FakeDelivery();
        RoomRegistry[] ref = new RoomRegistry[1];
        RoomServices services = new RoomServices(config, FlockMetrics.inMemory(), store, new MemoryBroker(), delivery,
                clock, "test-instance");
        registry = new RoomRegistry(vertx, roomId -> {
            RoomVerticle v = new RoomVerticle(roomId, ref[0], services);
            made.add(v);
            return v;
        });
        ref[0] = registry;
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    private static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static ObjectNode meta(String json) {
        try {
            return (ObjectNode) ProtocolCodec.MAPPER.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException(json, e);
        }
    }

    /** Routes and sends a join, as transport does; returns its sequence number. */
    private long sendJoin(FakePeer peer, String roomId, String userId, String metadata) {
        long seq = peer.nextSeq();
        await(registry.routeJoin(roomId));
        RoomBus.send(vertx, roomId, new RoomCommand.Join(peer, seq, new ClientMessage.Join(roomId, userId, meta(metadata), null)));
        return seq;
    }

    /** Joins and waits for the room's answer. */
    private Peer.JoinResult join(FakePeer peer, String roomId, String userId, String metadata) {
        return peer.awaitJoinResult(sendJoin(peer, roomId, userId, metadata));
    }

    private Peer.JoinResult join(FakePeer peer, String userId) {
        return join(peer, ROOM, userId, "{\"name\":\"" + userId + "\"}");
    }

    private void send(RoomCommand command) {
        RoomBus.send(vertx, ROOM, command);
    }

    private void relay(FakePeer peer, ClientMessage message) {
        send(new RoomCommand.Relay(peer, message));
    }

    /** Waits until the room processed everything sent before; returns what it shows. */
    private RoomInspection inspect(String roomId) {
        return await(RoomBus.request(vertx, roomId, new RoomCommand.Inspect()));
    }

    private RoomInspection inspect() {
        return inspect(ROOM);
    }

    private static List<String> userIds(RoomInspection i) {
        return i.members().stream().map(RoomInspection.MemberInspection::userId).toList();
    }

    private static Predicate<JsonObject> is(String type, String userId) {
        return m -> type.equals(m.getString("type")) && (userId == null || userId.equals(m.getString("userId")));
    }

    /** Room verticles deployed right now. */
    private long liveRoomVerticles() {
        var ids = vertx.deploymentIDs();
        return made.stream().filter(v -> v.deploymentID() != null && ids.contains(v.deploymentID())).count();
    }

    // ---- joining -------------------------------------------------------------------------------------------------

    @Test
    void roomsOpenAfterTheirGate_waitingWhileItIsPending_andFailingWhenItFails() throws Exception {
        start();
        io.vertx.core.Promise<Void> gate = io.vertx.core.Promise.promise();
        registry.openAfter(gate.future());
        Future<Void> routed = registry.routeJoin("gated");
        // the gate is what an attached server's Redis bridge deployment is: nothing may open before it (the
        // deployment is chained on the gate, so nothing is even scheduled while it is pending)
        assertThat(routed.isComplete()).isFalse();
        assertThat(made).as("nothing deployed behind a pending gate").isEmpty();
        gate.complete();
        await(routed);
        assertThat(made).hasSize(1);

        RoomRegistry failing = new RoomRegistry(vertx, roomId -> {
            throw new AssertionError("must not be called once the gate failed");
        });
        failing.openAfter(Future.failedFuture(new IllegalStateException("bridge not deployed")));
        Future<Void> refused = failing.routeJoin("x");
        dev.flock.ops.Await.until("routing fails", refused::failed);
        assertThat(refused.cause()).hasMessage("bridge not deployed");
    }

    @Test
    void aRoomThatCannotOpen_failsItsJoins_andItsCauseIsLoggedOncePerWindow() throws Exception {
        VirtualClock logClock = new VirtualClock();
        RoomRegistry broken = new RoomRegistry(vertx, roomId -> {
            throw new IllegalStateException("no broker for " + roomId);
        }, logClock);
        try (dev.flock.support.LogCapture logs = dev.flock.support.LogCapture.of(RoomRegistry.class.getName())) {
            for (int i = 0; i < 3; i++) {
                Future<Void> routed = broken.routeJoin("r" + i);
                dev.flock.ops.Await.until("routing fails", routed::failed);
            }
            assertThat(logs.messages(ch.qos.logback.classic.Level.ERROR)).hasSize(1)
                    .first().asString().contains("could not be opened").contains("no broker for r0");
            logClock.advance(Duration.ofSeconds(60));
            dev.flock.ops.Await.until("the summary line", () -> logs.messages(ch.qos.logback.classic.Level.ERROR).size() == 2);
            assertThat(logs.messages(ch.qos.logback.classic.Level.ERROR).get(1)).contains("2 more like it");
        }
    }

    @Test
    void join_isAcked_withTheOthers_andAnnouncedToThemOnly() {
        start();
        FakePeer alice = new FakePeer("alice");
        FakePeer bob = new FakePeer("bob");

        assertThat(join(alice, "alice")).isEqualTo(Peer.JoinResult.ADMITTED);
        assertThat(join(bob, "bob")).isEqualTo(Peer.JoinResult.ADMITTED);
        inspect();

        assertThat(alice.events()).containsExactly("join:ack", "user:joined bob");
        assertThat(alice.received.get(0).getJsonArray("users")).isEmpty();
        assertThat(bob.events()).containsExactly("join:ack");
        JsonObject ack = bob.received.get(0);
        assertThat(ack.getString("roomId")).isEqualTo(ROOM);
        assertThat(ack.getJsonArray("users")).hasSize(1);
        assertThat(ack.getJsonArray("users").getJsonObject(0).getString("userId")).isEqualTo("alice");
        assertThat(ack.getJsonArray("users").getJsonObject(0).getJsonObject("metadata"))
                .isEqualTo(new JsonObject().put("name", "alice"));
        assertThat(alice.received(is("user:joined", "bob")).get(0).getJsonObject("metadata"))
                .isEqualTo(new JsonObject().put("name", "bob"));
        assertThat(userIds(inspect())).containsExactly("alice", "bob");
        assertThat(registry.roomIds()).containsExactly(ROOM);
    }

    @Test
    void shareMode_aSecondTabOfAPresentUser_mergesItsMetadata_andOthersSeeOnlyTheChangedFields() {
        start();
        FakePeer tab1 = new FakePeer("alice-tab1");
        FakePeer tab2 = new FakePeer("alice-tab2");
        FakePeer bob = new FakePeer("bob");
        join(tab1, ROOM, "alice", "{\"name\":\"Alice\",\"color\":\"red\"}");
        join(bob, "bob");

        assertThat(join(tab2, ROOM, "alice", "{\"name\":\"Alice\",\"color\":\"blue\"}")).isEqualTo(Peer.JoinResult.ADMITTED);
        RoomInspection room = inspect();

        assertThat(bob.events()).containsExactly("join:ack", "presence:updated alice");
        assertThat(bob.received(is("presence:updated", "alice")).get(0).getJsonObject("metadata"))
                .isEqualTo(new JsonObject().put("color", "blue"));
        assertThat(tab2.events()).containsExactly("join:ack");
        assertThat(tab2.received.get(0).getJsonArray("users").stream().map(u -> ((JsonObject) u).getString("userId")))
                .containsExactly("bob"); // never the joiner
        assertThat(tab1.events()).containsExactly("join:ack", "user:joined bob"); // a user's events skip their own tabs
        RoomInspection.MemberInspection alice = room.members().get(0);
        assertThat(alice.userId()).isEqualTo("alice");
        assertThat(alice.connections()).isEqualTo(2);
        assertThat(alice.metadata()).isEqualTo(meta("{\"name\":\"Alice\",\"color\":\"blue\"}"));
        assertThat(memory.snapshot(ROOM).result()).extracting(PresenceStore.Snapshot::metadata)
                .contains(meta("{\"name\":\"Alice\",\"color\":\"blue\"}"));
    }

    @Test
    void shareMode_aSecondTabWithTheSameMetadata_announcesNothing() {
        start();
        FakePeer tab1 = new FakePeer("alice-tab1");
        FakePeer tab2 = new FakePeer("alice-tab2");
        FakePeer bob = new FakePeer("bob");
        join(tab1, "alice");
        join(bob, "bob");

        join(tab2, "alice");
        inspect();

        assertThat(bob.events()).containsExactly("join:ack");
    }

    @Test
    void evictMode_aSecondConnectionSupersedesTheFirst_andTheRoomSeesTheUserLeaveThenJoin() {
        start("FLOCK_DUPLICATE_JOIN", "evict");
        FakePeer old = new FakePeer("alice-old");
        FakePeer fresh = new FakePeer("alice-new");
        FakePeer bob = new FakePeer("bob");
        join(old, ROOM, "alice", "{\"name\":\"Old\"}");
        join(bob, "bob");

        assertThat(join(fresh, ROOM, "alice", "{\"name\":\"New\"}")).isEqualTo(Peer.JoinResult.ADMITTED);
        RoomInspection room = inspect();

        assertThat(old.removals).containsExactly(Peer.Removal.SUPERSEDED);
        assertThat(bob.events()).containsExactly("join:ack", "user:left alice", "user:joined alice");
        assertThat(bob.received(is("user:joined", "alice")).get(0).getJsonObject("metadata"))
                .isEqualTo(new JsonObject().put("name", "New"));
        assertThat(room.members()).extracting(RoomInspection.MemberInspection::userId, RoomInspection.MemberInspection::connections)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("bob", 1), org.assertj.core.groups.Tuple.tuple("alice", 1));

        // the superseded socket closing later does not evict the live user
        send(new RoomCommand.Disconnect(old));
        inspect();
        assertThat(bob.received(is("user:left", "alice"))).hasSize(1);
        assertThat(userIds(inspect())).contains("alice");
    }

    @Test
    void roomFull_refusesWithRoomFull_andOnceASeatFrees_aNewJoinOfTheRefusedConnectionIsAdmitted() {
        start("FLOCK_MAX_ROOM_SIZE", "2");
        FakePeer alice = new FakePeer("alice");
        FakePeer bob = new FakePeer("bob");
        FakePeer carol = new FakePeer("carol");
        join(alice, "alice");
        join(bob, "bob");

        assertThat(join(carol, "carol")).isEqualTo(Peer.JoinResult.ROOM_FULL);
        assertThat(carol.events()).containsExactly("error ROOM_FULL");
        assertThat(carol.received.get(0).getString("roomId")).isEqualTo(ROOM);
        assertThat(userIds(inspect())).containsExactly("alice", "bob");
        assertThat(alice.received(is("user:joined", "carol"))).isEmpty();

        relay(bob, new ClientMessage.Leave(ROOM));
        assertThat(join(carol, "carol")).isEqualTo(Peer.JoinResult.ADMITTED);
        inspect();

        assertThat(alice.events()).containsExactly("join:ack", "user:joined bob", "user:left bob", "user:joined carol");
        assertThat(carol.events()).containsExactly("error ROOM_FULL", "join:ack");
        assertThat(userIds(inspect())).containsExactly("alice", "carol");
    }

    @Test
    void anExpiredConnection_isAnnouncedGone_andAJoinAgainReAdmitsAndAnnouncesItAgain() {
        start();
        FakePeer alice = new FakePeer("alice");
        FakePeer bob = new FakePeer("bob");
        join(alice, "alice");
        join(bob, "bob");

        send(new RoomCommand.Expire(bob));
        assertThat(userIds(inspect())).containsExactly("alice");
        assertThat(alice.events()).containsExactly("join:ack", "user:joined bob", "user:left bob");
        assertThat(memory.snapshot(ROOM).result()).extracting(PresenceStore.Snapshot::userId).containsExactly("alice");

        assertThat(join(bob, "bob")).isEqualTo(Peer.JoinResult.ADMITTED);
        inspect();

        assertThat(alice.events()).containsExactly("join:ack", "user:joined bob", "user:left bob", "user:joined bob");
        assertThat(bob.received(is("join:ack", null))).hasSize(2);
        assertThat(bob.received.get(bob.received.size() - 1).getJsonArray("users")).hasSize(1);
    }

    @Test
    void leavingTabByTab_announcesUserLeftOnce_whenTheLastTabLeaves() {
        start();
        FakePeer tab1 = new FakePeer("alice-tab1");
        FakePeer tab2 = new FakePeer("alice-tab2");
        FakePeer bob = new FakePeer("bob");
        join(tab1, "alice");
        join(tab2, "alice");
        join(bob, "bob");

        relay(tab1, new ClientMessage.Leave(ROOM));
        inspect();
        assertThat(bob.received(is("user:left", "alice"))).isEmpty();

        relay(tab2, new ClientMessage.Leave(ROOM));
        send(new RoomCommand.Disconnect(tab1));
        send(new RoomCommand.Disconnect(tab2));
        RoomInspection room = inspect();

        assertThat(bob.received(is("user:left", "alice"))).hasSize(1);
        assertThat(userIds(room)).containsExactly("bob");
        assertThat(memory.snapshot(ROOM).result()).extracting(PresenceStore.Snapshot::userId).containsExactly("bob");
    }

    /**
     * The store dropped a user whose connections were silent too long (a stalled room), while the room still shows
     * them: their last local connection closing must still announce the leave, not leave a member nobody removes.
     */
    @Test
    void aUserTheStoreDroppedMeanwhile_isAnnouncedGone_whenTheirLastLocalConnectionCloses() {
        start();
        FakePeer tab1 = new FakePeer("alice-tab1");
        FakePeer tab2 = new FakePeer("alice-tab2");
        FakePeer bob = new FakePeer("bob");
        join(tab1, "alice");
        join(tab2, "alice");
        join(bob, "bob");
        // nobody refreshes alice: past the store's TTL she is swept out of it, behind the room's back
        clock.advance(PresenceStore.connectionTtlMs(config) + 1);
        assertThat(memory.sweep(ROOM, "alice").result()).containsExactly("alice");

        send(new RoomCommand.Disconnect(tab1));
        send(new RoomCommand.Disconnect(tab2));
        RoomInspection room = inspect();

        assertThat(bob.received(is("user:left", "alice"))).hasSize(1);
        assertThat(userIds(room)).containsExactly("bob");
    }

    // ---- the registry: retiring and deploying --------------------------------------------------------------------

    @Test
    void theLastMemberLeavingWhileAJoinIsRouted_doesNotLoseTheJoin_andOneVerticleServesTheRoom() {
        start();
        FakePeer alice = new FakePeer("alice");
        FakePeer bob = new FakePeer("bob");
        join(alice, "alice");

        await(registry.routeJoin(ROOM)); // bob's join is on its way...
        send(new RoomCommand.Disconnect(alice)); // ...when the last member leaves
        inspect();
        assertThat(registry.roomIds()).containsExactly(ROOM);
        long seq = bob.nextSeq();
        send(new RoomCommand.Join(bob, seq, new ClientMessage.Join(ROOM, "bob", meta("{}"), null)));

        assertThat(bob.awaitJoinResult(seq)).isEqualTo(Peer.JoinResult.ADMITTED);
        assertThat(bob.received.get(0).getJsonArray("users")).isEmpty();
        assertThat(userIds(inspect())).containsExactly("bob");
        assertThat(registry.size()).isEqualTo(1);
        assertThat(made).hasSize(1);
        assertThat(liveRoomVerticles()).isEqualTo(1);
    }

    @Test
    void aRoomThatEmpties_retires_andALaterJoinDeploysAFreshOne_thatStartsEmpty() {
        start();
        FakePeer alice = new FakePeer("alice");
        FakePeer bob = new FakePeer("bob");
        join(alice, "alice");

        send(new RoomCommand.Disconnect(alice));
        Fleet.awaitTrue("the room retires", WAIT, () -> registry.roomIds().isEmpty() && liveRoomVerticles() == 0);
        assertThat(registry.size()).isZero();

        assertThat(join(bob, "bob")).isEqualTo(Peer.JoinResult.ADMITTED);

        assertThat(made).hasSize(2);
        assertThat(bob.events()).containsExactly("join:ack");
        assertThat(bob.received.get(0).getJsonArray("users")).isEmpty();
        assertThat(userIds(inspect())).containsExactly("bob");
        assertThat(registry.roomIds()).containsExactly(ROOM);
        assertThat(liveRoomVerticles()).isEqualTo(1);
    }

    @Test
    void joinsRacingTheRetirementOfTheirRoom_areNeverLost_andNeverMeetTwoVerticles() {
        start();
        FakePeer previous = new FakePeer("user0");
        join(previous, "user0");
        for (int i = 1; i <= 100; i++) {
            FakePeer next = new FakePeer("user" + i);
            send(new RoomCommand.Disconnect(previous)); // the room empties; the join below races its retirement
            assertThat(join(next, "user" + i)).as("join %d", i).isEqualTo(Peer.JoinResult.ADMITTED);
            assertThat(liveRoomVerticles()).as("verticles after join %d", i).isEqualTo(1);
            assertThat(registry.size()).isEqualTo(1);
            previous = next;
        }
        assertThat(userIds(inspect())).containsExactly("user100");

        send(new RoomCommand.Disconnect(previous));
        Fleet.awaitTrue("the room retires", WAIT, () -> registry.size() == 0 && liveRoomVerticles() == 0);
    }

    @Test
    void roomsAreIndependent() {
        start();
        FakePeer alice = new FakePeer("alice");
        FakePeer bob = new FakePeer("bob");
        join(alice, ROOM, "alice", "{}");
        join(bob, "doc:2", "bob", "{}");

        assertThat(userIds(inspect(ROOM))).containsExactly("alice");
        assertThat(userIds(inspect("doc:2"))).containsExactly("bob");
        assertThat(alice.events()).containsExactly("join:ack");
        assertThat(registry.roomIds()).containsExactlyInAnyOrder(ROOM, "doc:2");
    }

    // ---- the fleet: reconcile grace ------------------------------------------------------------------------------

    /** alice here, "remote" on another instance (as its user:joined arrived); then the store came back without it. */
    private FakePeer remoteMemberMissingAfterResync() {
        start();
        FakePeer alice = new FakePeer("alice");
        join(alice, "alice");
        send(new RoomCommand.Remote(new ServerMessage.UserJoined(ROOM, "remote", meta("{\"name\":\"R\"}")), null, null));
        assertThat(userIds(inspect())).containsExactly("alice", "remote");
        assertThat(alice.events()).containsExactly("join:ack", "user:joined remote");

        int snapshots = store.snapshots.get();
        send(new RoomCommand.Resync());
        inspect();
        assertThat(store.snapshots.get()).isEqualTo(snapshots + 1);
        return alice;
    }

    @Test
    void reconcile_aRemoteMemberMissingFromTheStore_isNotAnnouncedGoneBeforeTheGrace_andIsAfterIt() {
        FakePeer alice = remoteMemberMissingAfterResync();
        int snapshots = store.snapshots.get();

        clock.advance(FleetSync.RECONCILE_GRACE_MS - 1);
        assertThat(userIds(inspect())).containsExactly("alice", "remote");
        assertThat(alice.received(is("user:left", "remote"))).isEmpty();

        clock.advance(1);
        Fleet.awaitTrue("the recheck announces remote gone", WAIT, () -> !alice.received(is("user:left", "remote")).isEmpty());
        assertThat(store.snapshots.get()).isEqualTo(snapshots + 1);
        assertThat(userIds(inspect())).containsExactly("alice");
        assertThat(alice.received(is("user:left", "remote"))).hasSize(1);
    }

    @Test
    void reconcile_aRemoteMemberThatReappearsInTheStoreWithinTheGrace_isNotAnnouncedGone() {
        FakePeer alice = remoteMemberMissingAfterResync();
        int snapshots = store.snapshots.get();
        // its own instance re-writes it after reconnecting
        memory.refresh(ROOM, List.of(new PresenceStore.Touch("remote", "other-instance:7", meta("{\"name\":\"R\"}"))),
                List.of(), true);

        clock.advance(FleetSync.RECONCILE_GRACE_MS + 1);
        Fleet.awaitTrue("the recheck reads the store", WAIT, () -> store.snapshots.get() == snapshots + 1);

        assertThat(userIds(inspect())).containsExactly("alice", "remote");
        assertThat(alice.received(is("user:left", "remote"))).isEmpty();
    }

    // ---- activity: batched refresh -------------------------------------------------------------------------------

    @Test
    void cursorMoves_areRelayedAtOnce_theFirstIsWrittenAtOnce_theRestInOneBatchAtTheIntervalsEnd_withTheLatestCursor() {
        start();
        FakePeer alice = new FakePeer("alice");
        FakePeer bob = new FakePeer("bob");
        join(alice, "alice");
        join(bob, "bob");
        int refreshes = store.refreshes.get();

        for (int i = 1; i <= 20; i++) {
            relay(alice, new ClientMessage.CursorMove(ROOM, i, i * 2));
        }
        inspect();

        assertThat(bob.received(is("cursor:updated", "alice"))).hasSize(20);
        assertThat(alice.received(is("cursor:updated", null))).isEmpty();
        // the first move after a quiet room is written at once (a joiner elsewhere finds it), the others wait
        assertThat(store.refreshes.get()).isEqualTo(refreshes + 1);
        ServerMessage.Cursor first = memory.snapshot(ROOM).result().stream()
                .filter(s -> s.userId().equals("alice")).findFirst().orElseThrow().cursor();
        assertThat(first.x()).isEqualTo(1);

        clock.advance(Activity.REFRESH_INTERVAL_MS);

        assertThat(store.refreshes.get()).isEqualTo(refreshes + 2);
        ServerMessage.Cursor stored = memory.snapshot(ROOM).result().stream()
                .filter(s -> s.userId().equals("alice")).findFirst().orElseThrow().cursor();
        assertThat(stored.x()).isEqualTo(20);
        assertThat(stored.y()).isEqualTo(40);
        JsonObject last = bob.received(is("cursor:updated", "alice")).get(19);
        assertThat(stored.timestamp()).isEqualTo(last.getLong("timestamp"));

        // nothing moved since: the next interval writes nothing, and the one after is not even opened
        clock.advance(Activity.REFRESH_INTERVAL_MS);
        clock.advance(Activity.REFRESH_INTERVAL_MS);
        assertThat(store.refreshes.get()).isEqualTo(refreshes + 2);
        relay(alice, new ClientMessage.CursorMove(ROOM, 7, 7)); // quiet again: written at once
        inspect();
        assertThat(store.refreshes.get()).isEqualTo(refreshes + 3);
    }

    @Test
    void aCursorLeave_removesTheStoredCursor_atTheNextRefresh() {
        start();
        FakePeer alice = new FakePeer("alice");
        FakePeer bob = new FakePeer("bob");
        join(alice, "alice");
        join(bob, "bob");
        relay(alice, new ClientMessage.CursorMove(ROOM, 5, 6));
        inspect();
        clock.advance(Activity.REFRESH_INTERVAL_MS);

        relay(alice, new ClientMessage.CursorLeave(ROOM));
        inspect();
        assertThat(bob.events()).containsSubsequence("cursor:updated alice", "cursor:removed alice");
        clock.advance(Activity.REFRESH_INTERVAL_MS);

        assertThat(memory.snapshot(ROOM).result()).allSatisfy(s -> assertThat(s.cursor()).isNull());
    }
}
