package dev.flock.room;

import dev.flock.protocol.LeaveReason;
import dev.flock.protocol.WebhookEventType;
import dev.flock.webhook.WebhookEvent;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.config.FlockConfig;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.protocol.ServerMessage;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What every {@link PresenceStore} must do, one suite for all of them: {@link MemoryPresenceStoreTest} runs it on the
 * embedded store, {@code dev.flock.redis.RedisPresenceStoreTest} on the Redis scripts. A subclass supplies the store,
 * how a call is made (on which context) and how a connection expires ({@link #expireConnection}); every test reads
 * the store only through the interface.
 */
public abstract class PresenceStoreContract {

    /** A room id with ':' so that key encoding is exercised too. */
    protected static final String ROOM = "doc:1";
    protected static final String OTHER_ROOM = "doc:2";
    protected static final int MAX_METADATA_BYTES = 64;
    private static final long CALL_TIMEOUT_MS = 5000;

    /** One admitted (room, user, connection), as {@link #admit} saw it. */
    protected record Conn(String roomId, String userId, String connectionId) {
    }

    /** Every connection admitted through {@link #admit} in this test (removed or not). */
    protected final Set<Conn> admitted = new LinkedHashSet<>();

    /** The settings every store of the suite is built with (plus what a store needs of its own, e.g. its URL). */
    protected static Map<String, String> contractEnv() {
        return Map.of("FLOCK_MAX_METADATA_BYTES", Integer.toString(MAX_METADATA_BYTES),
                "FLOCK_PRESENCE_TTL_SECONDS", "30");
    }

    protected static FlockConfig contractConfig() {
        return FlockConfig.fromEnv(contractEnv());
    }

    /** The store under test (fresh and empty for each test). */
    protected abstract PresenceStore store();

    /** Makes one store call where the store expects to be called; the returned future must complete. */
    protected abstract <T> Future<T> invoke(Supplier<Future<T>> call);

    /**
     * The store must regard this one connection as expired from now on (its other connections, and everyone else's,
     * stay live), as if its TTL had passed without a refresh. Nothing is pruned yet: the next decision sees it.
     */
    protected abstract void expireConnection(String roomId, String userId, String connectionId);

    /**
     * Every webhook event {@link #store()} (and {@link #storeWithoutEvents()}) recorded so far in this test, oldest
     * first: the memory store's {@code EventLog}, the Redis scripts' outbox stream.
     */
    protected abstract List<WebhookEvent> recordedEvents();

    /** A store over the same presence that records no webhook event (webhooks off). */
    protected abstract PresenceStore storeWithoutEvents();

    /**
     * The metadata of the {@code user.left "expired"} of a user whose connections all expired, given their last
     * metadata: the memory store still has it; in Redis the presence hash expired (with the presence TTL, before the
     * connections) and the event carries none (null).
     */
    protected ObjectNode expiredLeaveMetadata(ObjectNode last) {
        return last;
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    protected <T> T await(Supplier<Future<T>> call) {
        Future<T> f = invoke(call);
        try {
            return f.toCompletionStage().toCompletableFuture().get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("store call failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("store call did not complete within " + CALL_TIMEOUT_MS + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    protected Throwable failure(Supplier<Future<?>> call) {
        Future<?> f = invoke(call::get);
        try {
            f.toCompletionStage().toCompletableFuture().get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            throw new AssertionError("store call did not complete within " + CALL_TIMEOUT_MS + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        throw new AssertionError("store call succeeded, a failure was expected");
    }

    protected static ObjectNode meta(String json) {
        try {
            return (ObjectNode) ProtocolCodec.MAPPER.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException(json, e);
        }
    }

    protected PresenceStore.Admission admit(String roomId, String userId, String conn, ObjectNode metadata, int limit,
                                            boolean evict) {
        PresenceStore.Admission a = await(() -> store().admit(roomId, userId, conn, metadata, limit, evict));
        if (a.status() != PresenceStore.Admission.Status.FULL) {
            admitted.add(new Conn(roomId, userId, conn));
        }
        return a;
    }

    protected PresenceStore.Admission admit(String userId, String conn, String metadata) {
        return admit(ROOM, userId, conn, meta(metadata), 0, false);
    }

    protected PresenceStore.Admission admitWithLimit(String userId, String conn, int limit) {
        return admit(ROOM, userId, conn, meta("{\"name\":\"" + userId + "\"}"), limit, false);
    }

    protected boolean remove(String userId, String conn) {
        return await(() -> store().remove(ROOM, userId, conn, LeaveReason.LEFT));
    }

    /** Who is present, with metadata and cursor (the connection counts are checked by their own tests, see {@link #counted}). */
    protected List<Presence> snapshot(String roomId) {
        return counted(roomId).stream().map(s -> new Presence(s.userId(), s.metadata(), s.cursor())).toList();
    }

    /** The store's snapshot as it is, connection counts included. */
    protected List<PresenceStore.Snapshot> counted(String roomId) {
        return await(() -> store().snapshot(roomId));
    }

    /** A snapshot entry without its connection counts. */
    protected record Presence(String userId, ObjectNode metadata, ServerMessage.Cursor cursor) {
    }

    protected List<String> users(String roomId) {
        return snapshot(roomId).stream().map(Presence::userId).toList();
    }

    protected PresenceStore.Snapshot snapshotOf(String userId) {
        return counted(ROOM).stream().filter(s -> s.userId().equals(userId)).findFirst()
                .orElseThrow(() -> new AssertionError(userId + " is not in the snapshot"));
    }

    protected List<String> refresh(List<PresenceStore.Touch> touches, List<PresenceStore.CursorWrite> cursors,
                                   boolean rewrite) {
        return await(() -> store().refresh(ROOM, touches, cursors, rewrite));
    }

    protected List<String> sweep(String userId) {
        return await(() -> store().sweep(ROOM, userId));
    }

    protected ObjectNode merge(String userId, String base, String patch) {
        return await(() -> store().merge(ROOM, userId, meta(base), meta(patch)));
    }

    /** A recorded webhook event without its id, sequence number and time. */
    protected record Event(WebhookEventType type, String roomId, String userId, LeaveReason reason, ObjectNode metadata) {
    }

    private int eventsSeen;

    /** The events recorded since the previous call (the first call: since the test began). */
    protected List<Event> newEvents() {
        List<WebhookEvent> all = recordedEvents();
        List<Event> out = all.subList(Math.min(eventsSeen, all.size()), all.size()).stream()
                .map(e -> new Event(e.type(), e.roomId(), e.userId(), e.reason(), e.metadata())).toList();
        eventsSeen = all.size();
        return out;
    }

    protected static Event occupied() {
        return new Event(WebhookEventType.ROOM_OCCUPIED, ROOM, null, null, null);
    }

    protected static Event vacated() {
        return new Event(WebhookEventType.ROOM_VACATED, ROOM, null, null, null);
    }

    protected static Event joined(String userId, String metadata) {
        return new Event(WebhookEventType.USER_JOINED, ROOM, userId, null, meta(metadata));
    }

    protected static Event left(String userId, LeaveReason reason, String metadata) {
        return left(userId, reason, meta(metadata));
    }

    protected static Event left(String userId, LeaveReason reason, ObjectNode metadata) {
        return new Event(WebhookEventType.USER_LEFT, ROOM, userId, reason, metadata);
    }

    protected static Event updated(String userId, String metadata) {
        return new Event(WebhookEventType.PRESENCE_UPDATED, ROOM, userId, null, meta(metadata));
    }

    protected Event expiredLeft(String userId, String lastMetadata) {
        return left(userId, LeaveReason.EXPIRED, expiredLeaveMetadata(meta(lastMetadata)));
    }

    protected void grace(String userId, String conn, long graceMs) {
        await(() -> store().grace(ROOM, userId, conn, graceMs));
    }

    protected boolean endGrace(String userId, String conn, LeaveReason reason) {
        return await(() -> store().endGrace(ROOM, userId, conn, reason));
    }

    // ---- a room's first admission brings its view (issue 22) ---------------------------------------------------

    protected PresenceStore.Admission admitFirst(String userId, String conn, String metadata, int limit, boolean evict) {
        PresenceStore.Admission a = await(() -> store().admitFirst(ROOM, userId, conn, meta(metadata), limit, evict));
        if (a.status() != PresenceStore.Admission.Status.FULL) {
            admitted.add(new Conn(ROOM, userId, conn));
        }
        return a;
    }

    private static List<String> viewUsers(PresenceStore.Admission a) {
        assertThat(a.view()).as("the view of a first admission").isNotNull();
        return a.view().stream().map(PresenceStore.Snapshot::userId).toList();
    }

    @Test
    void admitFirst_intoAnEmptyRoom_joins_withAnEmptyView() {
        PresenceStore.Admission a = admitFirst("alice", "a1", "{\"name\":\"A\"}", 0, false);

        assertThat(a.status()).isEqualTo(PresenceStore.Admission.Status.JOINED);
        assertThat(viewUsers(a)).isEmpty();
        assertThat(users(ROOM)).containsExactly("alice");
        assertThat(newEvents()).containsExactly(occupied(), joined("alice", "{\"name\":\"A\"}"));
    }

    @Test
    void admitFirst_viewIsTheRoomJustBeforeTheAdmission_withMetadataAndCursors() {
        admit("bob", "b1", "{\"name\":\"B\"}");
        refresh(List.of(), List.of(new PresenceStore.CursorWrite("bob", new ServerMessage.Cursor(3, 4, 5))), false);
        newEvents();

        PresenceStore.Admission a = admitFirst("alice", "a1", "{\"name\":\"A\"}", 0, false);

        assertThat(a.status()).isEqualTo(PresenceStore.Admission.Status.JOINED);
        assertThat(a.view()).singleElement().satisfies(s -> {
            assertThat(s.userId()).isEqualTo("bob");
            assertThat(s.metadata()).isEqualTo(meta("{\"name\":\"B\"}"));
            assertThat(s.cursor()).isEqualTo(new ServerMessage.Cursor(3, 4, 5));
            assertThat(s.connections()).isEqualTo(1);
        });
        assertThat(users(ROOM)).containsExactlyInAnyOrder("alice", "bob");
        assertThat(newEvents()).containsExactly(joined("alice", "{\"name\":\"A\"}"));
    }

    @Test
    void admitFirst_ofAUserPresentElsewhere_sharesAsAdmitDoes_andTheViewShowsThemWithTheirOtherConnection() {
        admit("alice", "a1", "{\"name\":\"A\"}");

        PresenceStore.Admission a = admitFirst("alice", "a2", "{\"name\":\"A2\"}", 0, false);

        assertThat(a.status()).isEqualTo(PresenceStore.Admission.Status.PRESENT);
        assertThat(a.storedMetadata()).isEqualTo(meta("{\"name\":\"A\"}"));
        assertThat(a.view()).singleElement().satisfies(s -> {
            assertThat(s.userId()).isEqualTo("alice");
            assertThat(s.connections()).isEqualTo(1);
        });
        assertThat(snapshotOf("alice").connections()).isEqualTo(2);
    }

    @Test
    void admitFirst_atTheLimit_isFull_writesNothing_andStillBringsTheView() {
        admitWithLimit("bob", "b1", 1);

        PresenceStore.Admission a = admitFirst("carol", "c1", "{}", 1, false);

        assertThat(a.status()).isEqualTo(PresenceStore.Admission.Status.FULL);
        assertThat(viewUsers(a)).containsExactly("bob");
        assertThat(users(ROOM)).containsExactly("bob");
    }

    @Test
    void admitFirst_inEvictMode_replaces_andTheViewStillShowsTheUserAsTheyWere() {
        admit("alice", "a1", "{\"name\":\"A\"}");

        PresenceStore.Admission a = admitFirst("alice", "a2", "{\"name\":\"A2\"}", 0, true);

        assertThat(a.status()).isEqualTo(PresenceStore.Admission.Status.REPLACED);
        assertThat(a.view()).singleElement().satisfies(s -> assertThat(s.metadata()).isEqualTo(meta("{\"name\":\"A\"}")));
        assertThat(snapshotOf("alice").metadata()).isEqualTo(meta("{\"name\":\"A2\"}"));
    }

    @Test
    void admit_aPlainAdmission_hasNoView() {
        assertThat(admit("alice", "a1", "{}").view()).isNull();
    }

    // ---- webhook events (issue 19) -------------------------------------------------------------------------------

    @Test
    void events_firstAdmit_occupiesTheRoom_andJoinsTheUserWithTheirMetadata_aSecondUserOnlyJoins() {
        admit("alice", "a1", "{\"name\":\"A\"}");
        assertThat(newEvents()).containsExactly(occupied(), joined("alice", "{\"name\":\"A\"}"));

        admit("bob", "b1", "{\"name\":\"B\"}");
        assertThat(newEvents()).containsExactly(joined("bob", "{\"name\":\"B\"}"));
    }

    @Test
    void events_aShareModeSecondConnection_anEvictModeReplacement_andRemovingANonLastConnection_recordNothing() {
        admit("alice", "a1", "{\"name\":\"A\"}");
        newEvents();

        assertThat(admit("alice", "a2", "{\"name\":\"A2\"}").status()).isEqualTo(PresenceStore.Admission.Status.PRESENT);
        assertThat(newEvents()).isEmpty();
        assertThat(admit(ROOM, "alice", "a3", meta("{\"name\":\"A3\"}"), 0, true).status())
                .isEqualTo(PresenceStore.Admission.Status.REPLACED);
        assertThat(newEvents()).isEmpty();
        assertThat(admit("alice", "a4", "{}").status()).isEqualTo(PresenceStore.Admission.Status.PRESENT);
        assertThat(remove("alice", "a3")).isFalse();
        assertThat(newEvents()).isEmpty();
        // the replacement's metadata is what the user leaves with
        assertThat(await(() -> store().remove(ROOM, "alice", "a4", LeaveReason.CLOSED))).isTrue();
        assertThat(newEvents()).containsExactly(left("alice", LeaveReason.CLOSED, "{\"name\":\"A3\"}"), vacated());
    }

    @Test
    void events_theLastConnectionRemoved_leavesWithTheReasonAndTheLastMetadata_theRoomsLastUserVacatesIt() {
        admit("alice", "a1", "{\"name\":\"A\"}");
        admit("bob", "b1", "{\"name\":\"B\"}");
        merge("alice", "{\"name\":\"A\"}", "{\"color\":\"red\"}");
        newEvents();

        assertThat(await(() -> store().remove(ROOM, "alice", "a1", LeaveReason.KICKED))).isTrue();
        assertThat(newEvents()).containsExactly(left("alice", LeaveReason.KICKED, "{\"name\":\"A\",\"color\":\"red\"}"));
        assertThat(remove("alice", "a1")).isTrue(); // gone already: nothing more
        assertThat(newEvents()).isEmpty();

        assertThat(await(() -> store().remove(ROOM, "bob", "b1", LeaveReason.CLOSED_BY_ADMIN))).isTrue();
        assertThat(newEvents()).containsExactly(left("bob", LeaveReason.CLOSED_BY_ADMIN, "{\"name\":\"B\"}"), vacated());
        assertThat(remove("nobody", "n1")).isTrue();
        assertThat(newEvents()).isEmpty();
    }

    @Test
    void events_endGrace_leavesWithItsReason_aReturnWithinTheGrace_recordsNothing() {
        admit("alice", "a1", "{\"name\":\"A\"}");
        admit("bob", "b1", "{\"name\":\"B\"}");
        newEvents();
        grace("alice", "a1", 5000);
        grace("bob", "b1", 5000);
        assertThat(newEvents()).isEmpty();

        // alice returns, in either mode: the same user, present throughout
        assertThat(admit(ROOM, "alice", "a2", meta("{\"name\":\"A again\"}"), 0, true).status())
                .isEqualTo(PresenceStore.Admission.Status.PRESENT);
        assertThat(newEvents()).isEmpty();

        assertThat(endGrace("bob", "b1", LeaveReason.CLOSED)).isTrue();
        assertThat(newEvents()).containsExactly(left("bob", LeaveReason.CLOSED, "{\"name\":\"B\"}"));

        grace("alice", "a2", 5000);
        assertThat(endGrace("alice", "a2", LeaveReason.KICKED)).isTrue();
        assertThat(newEvents()).containsExactly(left("alice", LeaveReason.KICKED, "{\"name\":\"A\"}"), vacated());
    }

    @Test
    void events_aSweptUser_leavesExpired_andTheLastVacatesTheRoom() {
        admit("alice", "a1", "{\"name\":\"A\"}");
        admit("bob", "b1", "{\"name\":\"B\"}");
        newEvents();
        expireConnection(ROOM, "bob", "b1");

        assertThat(sweep(null)).containsExactly("bob");
        assertThat(newEvents()).containsExactly(expiredLeft("bob", "{\"name\":\"B\"}"));

        expireConnection(ROOM, "alice", "a1");
        assertThat(sweep("alice")).containsExactly("alice");
        assertThat(newEvents()).containsExactly(expiredLeft("alice", "{\"name\":\"A\"}"), vacated());
        assertThat(sweep(null)).isEmpty();
        assertThat(newEvents()).isEmpty();
    }

    @Test
    void events_anAdmitThatPrunesAnExpiredUser_leavesThemExpired_beforeTheNewJoin() {
        admitWithLimit("alice", "a1", 2);
        admitWithLimit("bob", "b1", 2);
        newEvents();
        expireConnection(ROOM, "bob", "b1");

        assertThat(admitWithLimit("carol", "c1", 2).pruned()).containsExactly("bob");

        assertThat(newEvents()).containsExactly(expiredLeft("bob", "{\"name\":\"bob\"}"),
                joined("carol", "{\"name\":\"carol\"}"));
    }

    @Test
    void events_anAdmitThatPrunesTheRoomsLastUser_vacatesAndOccupiesItAgain() {
        admit("alice", "a1", "{\"name\":\"Before\"}");
        newEvents();
        expireConnection(ROOM, "alice", "a1");

        assertThat(admit("alice", "a2", "{\"name\":\"After\"}").pruned()).containsExactly("alice");

        assertThat(newEvents()).containsExactly(expiredLeft("alice", "{\"name\":\"Before\"}"), vacated(), occupied(),
                joined("alice", "{\"name\":\"After\"}"));
    }

    @Test
    void events_aLimitedAdmitThatPrunesEveryone_vacatesAndOccupiesItAgain() {
        admitWithLimit("bob", "b1", 1);
        newEvents();
        expireConnection(ROOM, "bob", "b1");

        assertThat(admitWithLimit("carol", "c1", 1).status()).isEqualTo(PresenceStore.Admission.Status.JOINED);

        assertThat(newEvents()).containsExactly(expiredLeft("bob", "{\"name\":\"bob\"}"), vacated(), occupied(),
                joined("carol", "{\"name\":\"carol\"}"));
    }

    @Test
    void events_aMerge_updatesThePresenceWithTheMergedMetadata_aMergeOfNobodyRecordsNothing() {
        admit("alice", "a1", "{\"name\":\"A\",\"color\":\"red\"}");
        newEvents();

        merge("alice", "{\"name\":\"A\",\"color\":\"red\"}", "{\"color\":\"blue\"}");
        assertThat(newEvents()).containsExactly(updated("alice", "{\"name\":\"A\",\"color\":\"blue\"}"));

        merge("ghost", "{}", "{\"color\":\"green\"}");
        assertThat(newEvents()).isEmpty();
    }

    @Test
    void events_aFullRoom_recordsNothing() {
        admitWithLimit("alice", "a1", 1);
        newEvents();

        assertThat(admitWithLimit("bob", "b1", 1).status()).isEqualTo(PresenceStore.Admission.Status.FULL);

        assertThat(newEvents()).isEmpty();
    }

    @Test
    void events_aRefreshWithRewrite_recreatingADroppedUser_joinsThemAgain_andOccupiesAnEmptyRoom() {
        admit("alice", "a1", "{\"name\":\"A\"}");
        admit("bob", "b1", "{\"name\":\"B\"}");
        remove("alice", "a1");
        newEvents();

        refresh(List.of(new PresenceStore.Touch("alice", "a1", meta("{\"name\":\"A again\"}")),
                new PresenceStore.Touch("bob", "b1", meta("{\"name\":\"ignored\"}"))), List.of(), true);
        assertThat(newEvents()).containsExactly(joined("alice", "{\"name\":\"A again\"}"));

        remove("alice", "a1");
        remove("bob", "b1");
        assertThat(newEvents()).containsExactly(left("alice", LeaveReason.LEFT, "{\"name\":\"A again\"}"),
                left("bob", LeaveReason.LEFT, "{\"name\":\"B\"}"), vacated());

        refresh(List.of(new PresenceStore.Touch("bob", "b1", meta("{\"name\":\"B back\"}"))), List.of(), true);
        assertThat(newEvents()).containsExactly(occupied(), joined("bob", "{\"name\":\"B back\"}"));
        // without rewrite, and for users that are there: nothing
        refresh(List.of(new PresenceStore.Touch("bob", "b1", meta("{}")), new PresenceStore.Touch("alice", "a1", meta("{}"))),
                List.of(), false);
        refresh(List.of(new PresenceStore.Touch("bob", "b1", meta("{}"))), List.of(), true);
        assertThat(newEvents()).isEmpty();
    }

    @Test
    void events_aStoreBuiltWithoutEvents_recordsNothing() {
        PresenceStore silent = storeWithoutEvents();
        await(() -> silent.admit(ROOM, "alice", "a1", meta("{}"), 0, false));
        await(() -> silent.admit(ROOM, "bob", "b1", meta("{}"), 0, false));
        await(() -> silent.merge(ROOM, "alice", meta("{}"), meta("{\"k\":1}")));
        await(() -> silent.remove(ROOM, "alice", "a1", LeaveReason.LEFT));
        await(() -> silent.refresh(ROOM, List.of(new PresenceStore.Touch("alice", "a1", meta("{}"))), List.of(), true));
        await(() -> silent.remove(ROOM, "alice", "a1", LeaveReason.LEFT));
        await(() -> silent.remove(ROOM, "bob", "b1", LeaveReason.LEFT));

        assertThat(recordedEvents()).isEmpty();
    }

    // ---- snapshot's connection counts ----------------------------------------------------------------------------

    @Test
    void snapshot_countsTheUsersLiveConnections() {
        admit("alice", "a1", "{}");
        admit("alice", "a2", "{}");
        admit("bob", "b1", "{}");

        assertThat(snapshotOf("alice").connections()).isEqualTo(2);
        assertThat(snapshotOf("alice").reconnecting()).isFalse();
        assertThat(snapshotOf("bob").connections()).isEqualTo(1);
        assertThat(remove("alice", "a1")).isFalse();
        assertThat(snapshotOf("alice").connections()).isEqualTo(1);
    }

    @Test
    void snapshot_ofAUserPresentByGracesOnly_countsNoConnection_andIsReconnecting() {
        admit("alice", "a1", "{}");
        admit("alice", "a2", "{}");
        grace("alice", "a1", 5000);

        assertThat(snapshotOf("alice").connections()).isEqualTo(1);
        assertThat(snapshotOf("alice").reconnecting()).isFalse();

        grace("alice", "a2", 5000);
        assertThat(snapshotOf("alice").connections()).isZero();
        assertThat(snapshotOf("alice").reconnecting()).isTrue();

        admit("alice", "a3", "{}"); // back
        assertThat(snapshotOf("alice").connections()).isEqualTo(1);
        assertThat(snapshotOf("alice").reconnecting()).isFalse();
    }

    // ---- admit ---------------------------------------------------------------------------------------------------

    @Test
    void admit_newUser_isJoined_andListedWithItsMetadata() {
        PresenceStore.Admission a = admit("alice", "c1", "{\"name\":\"Alice\"}");

        assertThat(a.status()).isEqualTo(PresenceStore.Admission.Status.JOINED);
        assertThat(a.pruned()).isEmpty();
        assertThat(snapshot(ROOM)).containsExactly(new Presence("alice", meta("{\"name\":\"Alice\"}"), null));
        assertThat(snapshot(OTHER_ROOM)).isEmpty();
    }

    @Test
    void admit_presentUserInShareMode_isPresent_withTheStoredMetadata_whichTheNewTabDoesNotOverwrite() {
        admit("alice", "c1", "{\"name\":\"Alice\",\"color\":\"red\"}");

        PresenceStore.Admission a = admit("alice", "c2", "{\"name\":\"Alice\",\"color\":\"blue\"}");

        assertThat(a.status()).isEqualTo(PresenceStore.Admission.Status.PRESENT);
        assertThat(a.storedMetadata()).isEqualTo(meta("{\"name\":\"Alice\",\"color\":\"red\"}"));
        assertThat(a.pruned()).isEmpty();
        assertThat(snapshot(ROOM)).containsExactly(
                new Presence("alice", meta("{\"name\":\"Alice\",\"color\":\"red\"}"), null));
        // both connections hold the user: the first one leaving is not the last
        assertThat(remove("alice", "c1")).isFalse();
        assertThat(remove("alice", "c2")).isTrue();
    }

    @Test
    void admit_presentUserInEvictMode_isReplaced_theOldConnectionsAndCursorDropped_theNewMetadataStored() {
        admit("alice", "c1", "{\"name\":\"Old\"}");
        admit("alice", "c2", "{\"name\":\"Old\"}");
        refresh(List.of(), List.of(new PresenceStore.CursorWrite("alice", new ServerMessage.Cursor(1, 2, 3))), false);

        PresenceStore.Admission a = admit(ROOM, "alice", "c3", meta("{\"name\":\"New\"}"), 0, true);

        assertThat(a.status()).isEqualTo(PresenceStore.Admission.Status.REPLACED);
        assertThat(a.pruned()).isEmpty();
        assertThat(snapshot(ROOM)).containsExactly(new Presence("alice", meta("{\"name\":\"New\"}"), null));
        // the superseded connections are gone: removing them leaves the new one, removing it is the last
        assertThat(remove("alice", "c1")).isFalse();
        assertThat(remove("alice", "c2")).isFalse();
        assertThat(remove("alice", "c3")).isTrue();
    }

    @Test
    void admit_newUserInEvictMode_isJoined() {
        assertThat(admit(ROOM, "alice", "c1", meta("{}"), 0, true).status())
                .isEqualTo(PresenceStore.Admission.Status.JOINED);
    }

    @Test
    void admit_newUserAtTheLimit_isFull_andNothingIsWritten_whileTabsOfPresentUsersStillFit() {
        assertThat(admitWithLimit("alice", "a1", 2).status()).isEqualTo(PresenceStore.Admission.Status.JOINED);
        assertThat(admitWithLimit("bob", "b1", 2).status()).isEqualTo(PresenceStore.Admission.Status.JOINED);

        PresenceStore.Admission full = admitWithLimit("carol", "c1", 2);

        assertThat(full.status()).isEqualTo(PresenceStore.Admission.Status.FULL);
        assertThat(full.pruned()).isEmpty();
        assertThat(users(ROOM)).containsExactlyInAnyOrder("alice", "bob");
        assertThat(remove("carol", "c1")).isTrue(); // never written: present nowhere
        assertThat(admitWithLimit("alice", "a2", 2).status()).isEqualTo(PresenceStore.Admission.Status.PRESENT);
        // the limit is per room
        assertThat(admit(OTHER_ROOM, "carol", "c1", meta("{}"), 2, false).status())
                .isEqualTo(PresenceStore.Admission.Status.JOINED);
    }

    @Test
    void admit_afterASeatFrees_admitsTheUserThatWasRefused() {
        admitWithLimit("alice", "a1", 1);
        assertThat(admitWithLimit("bob", "b1", 1).status()).isEqualTo(PresenceStore.Admission.Status.FULL);

        assertThat(remove("alice", "a1")).isTrue();

        assertThat(admitWithLimit("bob", "b1", 1).status()).isEqualTo(PresenceStore.Admission.Status.JOINED);
        assertThat(users(ROOM)).containsExactly("bob");
    }

    @Test
    void admit_limitZero_meansNoLimit() {
        for (int i = 0; i < 25; i++) {
            assertThat(admitWithLimit("user" + i, "c" + i, 0).status()).as("user%d", i)
                    .isEqualTo(PresenceStore.Admission.Status.JOINED);
        }
        assertThat(users(ROOM)).hasSize(25);
    }

    @Test
    void admit_prunesUsersWhoseConnectionsAllExpired_reportsThem_andDoesNotCountThem() {
        admitWithLimit("alice", "a1", 2);
        admitWithLimit("bob", "b1", 2);
        expireConnection(ROOM, "bob", "b1");

        PresenceStore.Admission a = admitWithLimit("carol", "c1", 2);

        assertThat(a.status()).isEqualTo(PresenceStore.Admission.Status.JOINED);
        assertThat(a.pruned()).containsExactly("bob");
        assertThat(users(ROOM)).containsExactlyInAnyOrder("alice", "carol");
        assertThat(sweep(null)).isEmpty(); // pruned already: nobody is reported twice
    }

    @Test
    void admit_ofAUserWhoseConnectionsExpired_joinsAfresh_andReportsThemPruned() {
        admit("alice", "a1", "{\"name\":\"Before\"}");
        expireConnection(ROOM, "alice", "a1");

        PresenceStore.Admission a = admit("alice", "a2", "{\"name\":\"After\"}");

        assertThat(a.status()).isEqualTo(PresenceStore.Admission.Status.JOINED);
        assertThat(a.pruned()).containsExactly("alice");
        assertThat(snapshot(ROOM)).containsExactly(new Presence("alice", meta("{\"name\":\"After\"}"), null));
    }

    @Test
    void admit_aUserWithOneExpiredAndOneLiveConnection_isStillPresent() {
        admit("alice", "a1", "{}");
        admit("alice", "a2", "{}");
        expireConnection(ROOM, "alice", "a1");

        PresenceStore.Admission a = admit("alice", "a3", "{\"name\":\"x\"}");

        assertThat(a.status()).isEqualTo(PresenceStore.Admission.Status.PRESENT);
        assertThat(a.pruned()).isEmpty();
    }

    // ---- remove --------------------------------------------------------------------------------------------------

    @Test
    void remove_ofAConnectionThatIsNotTheUsersLast_isFalse_andTheUserStays() {
        admit("alice", "c1", "{}");
        admit("alice", "c2", "{}");

        assertThat(remove("alice", "c1")).isFalse();

        assertThat(users(ROOM)).containsExactly("alice");
    }

    @Test
    void remove_ofTheUsersLastConnection_isTrue_andTheUserIsGone() {
        admit("alice", "c1", "{}");
        admit("bob", "b1", "{}");

        assertThat(remove("alice", "c1")).isTrue();

        assertThat(users(ROOM)).containsExactly("bob");
        assertThat(remove("alice", "c1")).isTrue(); // still gone; the room detaches a peer once, so it announces once
    }

    @Test
    void remove_ofTheLastLiveConnection_whenTheOtherExpired_isTrue() {
        admit("alice", "c1", "{}");
        admit("alice", "c2", "{}");
        expireConnection(ROOM, "alice", "c1");

        assertThat(remove("alice", "c2")).isTrue();

        assertThat(users(ROOM)).isEmpty();
    }

    @Test
    void remove_ofAnUnknownConnectionOfAPresentUser_isFalse_andChangesNothing() {
        admit("alice", "c1", "{}");

        assertThat(remove("alice", "no-such-connection")).isFalse();

        assertThat(users(ROOM)).containsExactly("alice");
        assertThat(remove("alice", "c1")).isTrue();
    }

    /**
     * A user the store no longer has (expired and swept, or never there) is present nowhere: true, so a room that
     * still shows them says they left instead of keeping a member nobody will ever remove.
     */
    @Test
    void remove_ofAUserTheStoreNoLongerHas_isTrue_andChangesNothingElse() {
        admit("alice", "c1", "{}");
        admit("bob", "b1", "{}");
        expireConnection(ROOM, "bob", "b1");
        assertThat(sweep(null)).containsExactly("bob");

        assertThat(remove("bob", "b1")).isTrue();
        assertThat(remove("nobody", "c1")).isTrue();
        assertThat(await(() -> store().remove(OTHER_ROOM, "alice", "c1", LeaveReason.LEFT))).isTrue();

        assertThat(users(ROOM)).containsExactly("alice");
    }

    // ---- merge ---------------------------------------------------------------------------------------------------

    @Test
    void merge_isIntoTheStoredMetadata_evenWhenTheCallersBaseIsStale_andIsStored() {
        admit("alice", "c1", "{\"name\":\"A\",\"color\":\"red\"}");

        ObjectNode merged = merge("alice", "{\"name\":\"A\"}", "{\"status\":\"away\"}");

        assertThat(merged).isEqualTo(meta("{\"name\":\"A\",\"color\":\"red\",\"status\":\"away\"}"));
        assertThat(snapshotOf("alice").metadata()).isEqualTo(merged);
    }

    @Test
    void merge_replacesChangedFields_andNeverRemovesFields() {
        admit("alice", "c1", "{\"name\":\"A\",\"color\":\"red\"}");

        ObjectNode merged = merge("alice", "{\"name\":\"A\",\"color\":\"red\"}", "{\"color\":\"blue\"}");

        assertThat(merged).isEqualTo(meta("{\"name\":\"A\",\"color\":\"blue\"}"));
        assertThat(snapshotOf("alice").metadata()).isEqualTo(merged);
    }

    @Test
    void merge_thatWouldNotFitTheMetadataLimit_failsWithMetadataTooLarge_andLeavesTheStoredMetadata() {
        admit("alice", "c1", "{\"name\":\"A\"}");
        String big = "x".repeat(MAX_METADATA_BYTES);

        Throwable err = failure(() -> store().merge(ROOM, "alice", meta("{\"name\":\"A\"}"),
                meta("{\"bio\":\"" + big + "\"}")));

        assertThat(err).isInstanceOf(PresenceStore.MetadataTooLarge.class);
        assertThat(snapshotOf("alice").metadata()).isEqualTo(meta("{\"name\":\"A\"}"));
    }

    @Test
    void merge_thatFitsExactly_isAccepted() {
        admit("alice", "c1", "{}");
        // {"k":"…"} is 8 bytes around the value
        String value = "v".repeat(MAX_METADATA_BYTES - 8);

        ObjectNode merged = merge("alice", "{}", "{\"k\":\"" + value + "\"}");

        assertThat(ProtocolCodec.serializedSize(merged)).isEqualTo(MAX_METADATA_BYTES);
        assertThat(snapshotOf("alice").metadata()).isEqualTo(merged);
    }

    @Test
    void merge_forAUserWithoutPresence_returnsTheMerge_andCreatesNobody() {
        ObjectNode merged = merge("ghost", "{\"name\":\"G\"}", "{\"color\":\"green\"}");

        assertThat(merged).isEqualTo(meta("{\"name\":\"G\",\"color\":\"green\"}"));
        assertThat(snapshot(ROOM)).isEmpty();
    }

    // ---- refresh -------------------------------------------------------------------------------------------------

    @Test
    void refresh_withoutRewrite_neverResurrectsARemovedConnection() {
        admit("alice", "c1", "{}");
        admit("alice", "c2", "{}");
        assertThat(remove("alice", "c1")).isFalse();

        assertThat(refresh(List.of(new PresenceStore.Touch("alice", "c1", meta("{}")),
                new PresenceStore.Touch("alice", "c2", meta("{}"))), List.of(), false)).isEmpty();

        assertThat(remove("alice", "c2")).isTrue(); // c1 stayed removed, so c2 was the last
    }

    @Test
    void refresh_withoutRewrite_neverRecreatesARemovedUser() {
        admit("alice", "c1", "{\"name\":\"A\"}");
        assertThat(remove("alice", "c1")).isTrue();

        assertThat(refresh(List.of(new PresenceStore.Touch("alice", "c1", meta("{\"name\":\"A\"}"))),
                List.of(new PresenceStore.CursorWrite("alice", new ServerMessage.Cursor(1, 1, 1))), false)).isEmpty();

        assertThat(snapshot(ROOM)).isEmpty();
        assertThat(remove("alice", "c1")).isTrue(); // still nobody
    }

    @Test
    void refresh_withRewrite_recreatesMissingUsersAndConnections_andReturnsTheUsersItRecreated() {
        admit("alice", "a1", "{\"name\":\"A\"}");
        admit("bob", "b1", "{\"name\":\"B\"}");
        assertThat(remove("alice", "a1")).isTrue();

        List<String> recreated = refresh(List.of(
                new PresenceStore.Touch("alice", "a1", meta("{\"name\":\"A again\"}")),
                new PresenceStore.Touch("bob", "b1", meta("{\"name\":\"ignored\"}")),
                new PresenceStore.Touch("bob", "b2", meta("{\"name\":\"ignored\"}"))), List.of(), true);

        assertThat(recreated).containsExactly("alice");
        assertThat(snapshot(ROOM)).containsExactlyInAnyOrder(
                new Presence("alice", meta("{\"name\":\"A again\"}"), null),
                new Presence("bob", meta("{\"name\":\"B\"}"), null));
        assertThat(remove("alice", "a1")).isTrue();
        assertThat(remove("bob", "b1")).isFalse(); // b2 was re-created beside it
        assertThat(remove("bob", "b2")).isTrue();
    }

    @Test
    void refresh_withRewrite_revivesAnExpiredConnection() {
        admit("alice", "a1", "{}");
        admit("bob", "b1", "{}");
        expireConnection(ROOM, "bob", "b1");

        refresh(List.of(new PresenceStore.Touch("bob", "b1", meta("{}"))), List.of(), true);

        assertThat(users(ROOM)).containsExactlyInAnyOrder("alice", "bob");
        assertThat(sweep(null)).isEmpty();
    }

    /** The user was lost (every connection expired): both stores re-create them, so the room announces them again. */
    @Test
    void refresh_withRewrite_ofAUserWhoseConnectionsAllExpired_reportsThemRecreated_withTheTouchsMetadata() {
        admit("alice", "a1", "{}");
        admit("bob", "b1", "{\"v\":1}");
        expireConnection(ROOM, "bob", "b1");

        List<String> recreated = refresh(List.of(new PresenceStore.Touch("bob", "b1", meta("{\"v\":2}"))), List.of(), true);

        assertThat(recreated).containsExactly("bob");
        assertThat(snapshotOf("bob").metadata()).isEqualTo(meta("{\"v\":2}"));
    }

    @Test
    void refresh_cursorWrites_showInTheSnapshot_andANullCursorRemovesIt() {
        admit("alice", "a1", "{}");
        admit("bob", "b1", "{}");
        ServerMessage.Cursor at = new ServerMessage.Cursor(10.5, 20, 1_700_000_000_123L);

        refresh(List.of(), List.of(new PresenceStore.CursorWrite("alice", at)), false);

        assertThat(snapshotOf("alice").cursor()).isEqualTo(at);
        assertThat(snapshotOf("bob").cursor()).isNull();

        ServerMessage.Cursor later = new ServerMessage.Cursor(-3, 4.25, 1_700_000_000_456L);
        refresh(List.of(), List.of(new PresenceStore.CursorWrite("alice", later)), false);
        assertThat(snapshotOf("alice").cursor()).isEqualTo(later);

        refresh(List.of(), List.of(new PresenceStore.CursorWrite("alice", null)), false);
        assertThat(snapshotOf("alice").cursor()).isNull();
        assertThat(users(ROOM)).containsExactlyInAnyOrder("alice", "bob");
    }

    @Test
    void refresh_cursorOfANonMember_isNotWritten() {
        admit("alice", "a1", "{}");

        refresh(List.of(), List.of(new PresenceStore.CursorWrite("ghost", new ServerMessage.Cursor(1, 2, 3))), false);

        assertThat(users(ROOM)).containsExactly("alice");
    }

    // ---- snapshot and sweep --------------------------------------------------------------------------------------

    @Test
    void snapshot_listsLiveUsersOnly() {
        admit("alice", "a1", "{\"name\":\"A\"}");
        admit("bob", "b1", "{\"name\":\"B\"}");
        admit("carol", "c1", "{\"name\":\"C\"}");
        admit("carol", "c2", "{\"name\":\"C\"}");
        expireConnection(ROOM, "bob", "b1");
        expireConnection(ROOM, "carol", "c1");

        assertThat(snapshot(ROOM)).containsExactlyInAnyOrder(
                new Presence("alice", meta("{\"name\":\"A\"}"), null),
                new Presence("carol", meta("{\"name\":\"C\"}"), null));
    }

    @Test
    void sweep_ofTheRoom_removesEveryUserWhoseConnectionsAllExpired_once() {
        admit("alice", "a1", "{}");
        admit("bob", "b1", "{}");
        admit("carol", "c1", "{}");
        admit("dave", "d1", "{}");
        admit("dave", "d2", "{}");
        expireConnection(ROOM, "bob", "b1");
        expireConnection(ROOM, "carol", "c1");
        expireConnection(ROOM, "dave", "d1");

        assertThat(sweep(null)).containsExactlyInAnyOrder("bob", "carol");

        assertThat(users(ROOM)).containsExactlyInAnyOrder("alice", "dave");
        assertThat(sweep(null)).isEmpty();
        assertThat(remove("bob", "b1")).isTrue(); // swept: present nowhere
        assertThat(remove("dave", "d2")).isTrue();
    }

    @Test
    void sweep_ofOneUser_removesOnlyThatUser_andOnlyWhenExpired() {
        admit("alice", "a1", "{}");
        admit("bob", "b1", "{}");
        admit("carol", "c1", "{}");
        expireConnection(ROOM, "bob", "b1");
        expireConnection(ROOM, "carol", "c1");

        assertThat(sweep("alice")).isEmpty();
        assertThat(sweep("bob")).containsExactly("bob");
        assertThat(sweep("bob")).isEmpty();
        assertThat(sweep("nobody")).isEmpty();

        assertThat(users(ROOM)).containsExactly("alice");
        assertThat(sweep(null)).containsExactly("carol");
    }

    @Test
    void sweep_ofAnEmptyRoom_isEmpty() {
        assertThat(sweep(null)).isEmpty();
        assertThat(new ArrayList<>(snapshot(ROOM))).isEmpty();
    }
}
