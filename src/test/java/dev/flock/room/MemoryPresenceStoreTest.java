package dev.flock.room;

import dev.flock.protocol.WebhookEventType;
import dev.flock.support.VirtualClock;
import dev.flock.webhook.MemoryOutbox;
import dev.flock.webhook.WebhookEvent;
import io.vertx.core.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The store contract on the embedded store, with a {@link VirtualClock} for expiry. Every future must already be
 * complete when returned (the room's continuation runs at once on its own thread).
 */
class MemoryPresenceStoreTest extends PresenceStoreContract {

    private static final long TTL_MS = 30_000 + PresenceStore.EXPIRY_GRACE_MS;

    private VirtualClock clock;
    private MemoryPresenceStore store;
    private MemoryOutbox outbox;
    /** Connections this test expired (never refreshed again by {@link #expireConnection}). */
    private final Set<Conn> expired = new HashSet<>();

    @BeforeEach
    void newStore() {
        clock = new VirtualClock();
        outbox = new MemoryOutbox(clock, 100_000, List.of("test"), java.util.EnumSet.allOf(WebhookEventType.class));
        store = new MemoryPresenceStore(clock, TTL_MS, contractConfig().maxMetadataBytes(), outbox);
    }

    @Override
    protected List<WebhookEvent> recordedEvents() {
        return outbox.next("test", Integer.MAX_VALUE).result();
    }

    @Override
    protected PresenceStore storeWithoutEvents() {
        return new MemoryPresenceStore(clock, TTL_MS, contractConfig().maxMetadataBytes());
    }

    @Override
    protected PresenceStore store() {
        return store;
    }

    @Override
    protected <T> Future<T> invoke(Supplier<Future<T>> call) {
        Future<T> f = call.get();
        assertThat(f.isComplete()).as("the memory store's future is complete when returned").isTrue();
        return f;
    }

    /**
     * Time moves past the connection's expiry while every other connection is refreshed on the way: one millisecond
     * on, a refresh (without rewrite, so nothing removed comes back) of every other connection, then the rest of the
     * TTL. The target's expiry was at most the start plus the TTL; the others' is one millisecond later.
     */
    @Override
    protected void expireConnection(String roomId, String userId, String connectionId) {
        Conn target = new Conn(roomId, userId, connectionId);
        expired.add(target);
        clock.advance(1);
        for (Conn c : admitted) {
            if (!expired.contains(c)) {
                store.refresh(c.roomId(), List.of(new PresenceStore.Touch(c.userId(), c.connectionId(), meta("{}"))),
                        List.of(), false);
            }
        }
        clock.advance(TTL_MS - 1);
    }

    // ---- the memory store alone ----------------------------------------------------------------------------------

    @Test
    void aConnectionExpiresExactlyAtItsTtl_andARefreshPushesItsExpiryOut() {
        admit("alice", "a1", "{}");
        clock.advance(TTL_MS - 1);
        assertThat(users(ROOM)).containsExactly("alice");

        refresh(List.of(new PresenceStore.Touch("alice", "a1", meta("{}"))), List.of(), false);
        clock.advance(TTL_MS - 1);
        assertThat(users(ROOM)).containsExactly("alice");

        clock.advance(1);
        assertThat(users(ROOM)).isEmpty();
        assertThat(sweep(null)).containsExactly("alice");
    }

    @Test
    void aRoomLeftWithoutUsersIsForgotten() {
        admit("alice", "a1", "{}");
        assertThat(store.roomCount()).isEqualTo(1);

        remove("alice", "a1");

        assertThat(store.roomCount()).isZero();
    }

    @Test
    void overwriteMetadata_setsAPresentUsersMetadata_andIgnoresAnAbsentOne() {
        admit("alice", "a1", "{\"name\":\"A\"}");

        store.overwriteMetadata(ROOM, "alice", meta("{\"name\":\"Mirror\"}"));
        store.overwriteMetadata(ROOM, "ghost", meta("{\"name\":\"G\"}"));

        assertThat(snapshot(ROOM)).containsExactly(new Presence("alice", meta("{\"name\":\"Mirror\"}"), null));
    }
}
