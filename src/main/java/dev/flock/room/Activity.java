package dev.flock.room;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.protocol.ClientMessage;
import dev.flock.protocol.ServerMessage;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What admitted members do in the room: cursor moves, cursor leaves, presence updates and heartbeats. Cursors are
 * relayed at once; what the store must know (connections still active, the latest cursors) is written at the first
 * activity after a quiet interval (leading edge: a joiner on another instance 100 ms later finds the cursor), then
 * in one batch at most every {@link #REFRESH_INTERVAL_MS} while activity goes on, and once more when it stops
 * (trailing edge: the last position is stored). Never per move.
 */
final class Activity {

    /** Connection expiries and cursor hashes are written at most this often. */
    static final long REFRESH_INTERVAL_MS = 1000;

    private final String roomId;
    private final RoomServices services;
    private final Members members;
    private final Announcer announcer;
    private final CommandQueue<?> queue;
    private final Set<Peer> touched = new LinkedHashSet<>();
    private final Map<String, ServerMessage.Cursor> dirtyCursors = new LinkedHashMap<>();
    private final Set<String> removedCursors = new HashSet<>();
    private long refreshTimer = -1;

    Activity(String roomId, RoomServices services, Members members, Announcer announcer, CommandQueue<?> queue) {
        this.roomId = roomId;
        this.services = services;
        this.members = members;
        this.announcer = announcer;
        this.queue = queue;
    }

    /** A heartbeat, cursor move, cursor leave or presence update of an admitted member's connection. */
    void relay(Peer peer, Member member, ClientMessage message, long receivedNanos) {
        if (message instanceof ClientMessage.CursorMove m) {
            moveCursor(member, m, receivedNanos);
        } else if (message instanceof ClientMessage.CursorLeave) {
            removeCursor(member);
        } else if (message instanceof ClientMessage.PresenceUpdate m) {
            updatePresence(peer, member, m.patch(), receivedNanos);
        }
        // last, so that a leading-edge write takes this message's cursor along; a heartbeat needs only the touch
        touch(peer);
    }

    /** The cursor belongs to the user: kept for snapshots, relayed now, written to the store with the next refresh. */
    private void moveCursor(Member member, ClientMessage.CursorMove m, long receivedNanos) {
        long now = services.clock().millis();
        member.cursor = new ServerMessage.Cursor(m.x(), m.y(), now);
        member.cursorSource = null;
        dirtyCursors.put(member.userId, member.cursor);
        removedCursors.remove(member.userId);
        announcer.cursor(new ServerMessage.CursorUpdated(roomId, member.userId, m.x(), m.y(), now), receivedNanos);
    }

    private void removeCursor(Member member) {
        member.cursor = null;
        dirtyCursors.remove(member.userId);
        removedCursors.add(member.userId);
        announcer.emit(new ServerMessage.CursorRemoved(roomId, member.userId), DeliveryKind.CURSOR_END, member.userId, true);
    }

    private void updatePresence(Peer peer, Member member, ObjectNode patch, long receivedNanos) {
        applyPatch(member, patch, receivedNanos).onFailure(err -> announcer.refusePatch(peer));
    }

    /**
     * The server API's patch (issue 19): merged and broadcast exactly as a client's {@code presence:update} of the
     * user would be, whether the user's connections are here or on another instance. Fails with
     * {@link java.util.NoSuchElementException} when the room does not show the user, and with
     * {@link PresenceStore.MetadataTooLarge} when the result would not fit.
     */
    io.vertx.core.Future<ObjectNode> serverPatch(String userId, ObjectNode patch) {
        Member member = members.get(userId);
        if (member == null) {
            return io.vertx.core.Future.failedFuture(new java.util.NoSuchElementException("the user is not in the room"));
        }
        return applyPatch(member, patch, 0);
    }

    /**
     * One merge path for both patches: the store merges (once for the fleet), then the room tells everyone else.
     * {@code receivedNanos} > 0 (a client's frame) times the fan-out from the frame's arrival, the merge included.
     */
    private io.vertx.core.Future<ObjectNode> applyPatch(Member member, ObjectNode patch, long receivedNanos) {
        io.vertx.core.Promise<ObjectNode> done = io.vertx.core.Promise.promise();
        queue.await(services.store().merge(roomId, member.userId, member.metadata, patch), ar -> {
            ObjectNode merged = ar.succeeded() ? ar.result() : Metadata.merged(member.metadata, patch);
            if ((ar.failed() && ar.cause() instanceof PresenceStore.MetadataTooLarge)
                    || !Metadata.fits(merged, services.config().maxMetadataBytes())) {
                done.fail(new PresenceStore.MetadataTooLarge());
                return;
            }
            member.metadata = merged;
            announcer.emit(new ServerMessage.PresenceUpdated(roomId, member.userId, patch), DeliveryKind.EVENT,
                    member.userId, true, receivedNanos);
            done.complete(merged.deepCopy());
        });
        return done.future();
    }

    /** The connection left the room: nothing of it is refreshed any more. */
    void forget(Peer peer) {
        touched.remove(peer);
    }

    /** The user's last connection here ended without a goodbye: their cursor goes now, for everyone and in the store. */
    void dropCursor(Member member) {
        if (member.cursor == null) {
            return;
        }
        removeCursor(member);
        scheduleRefresh();
    }

    /** The user left the room: their cursor is not written any more. */
    void forgetCursor(String userId) {
        dirtyCursors.remove(userId);
        removedCursors.remove(userId);
    }

    private void touch(Peer peer) {
        touched.add(peer);
        scheduleRefresh();
    }

    /**
     * Quiet until now (no interval open): writes at once and opens an interval. Within one, the write waits for its
     * end; an interval that ends with something to write writes it and opens the next, one that ends with nothing
     * closes.
     */
    private void scheduleRefresh() {
        if (refreshTimer < 0) {
            flush();
            openInterval();
        }
    }

    private void openInterval() {
        refreshTimer = services.clock().setTimer(REFRESH_INTERVAL_MS, id -> {
            refreshTimer = -1;
            if (!touched.isEmpty() || !dirtyCursors.isEmpty() || !removedCursors.isEmpty()) {
                flush();
                openInterval();
            }
        });
    }

    /** Pushes out the expiry of active connections and writes changed cursors, in one store call. */
    void flush() {
        List<PresenceStore.Touch> touches = new ArrayList<>(touched.size());
        for (Peer p : touched) {
            Member m = members.of(p);
            if (m != null) {
                touches.add(new PresenceStore.Touch(m.userId, services.connectionId(p), m.metadata));
            }
        }
        List<PresenceStore.CursorWrite> cursors = new ArrayList<>(dirtyCursors.size() + removedCursors.size());
        dirtyCursors.forEach((userId, cursor) -> {
            if (members.has(userId)) {
                cursors.add(new PresenceStore.CursorWrite(userId, cursor));
            }
        });
        for (String userId : removedCursors) {
            cursors.add(new PresenceStore.CursorWrite(userId, null));
        }
        touched.clear();
        dirtyCursors.clear();
        removedCursors.clear();
        if (!touches.isEmpty() || !cursors.isEmpty()) {
            services.store().refresh(roomId, touches, cursors, false);
        }
    }

    void stop() {
        if (refreshTimer >= 0) {
            services.clock().cancelTimer(refreshTimer);
            refreshTimer = -1;
        }
    }
}
