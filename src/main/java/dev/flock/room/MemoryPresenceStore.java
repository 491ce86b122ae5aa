package dev.flock.room;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.protocol.ServerMessage;
import dev.flock.time.Clock;
import dev.flock.webhook.EventLog;
import dev.flock.protocol.WebhookEventType;
import dev.flock.protocol.LeaveReason;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Presence in this JVM: the embedded default, and the reference the Redis store is tested against. The same model
 * and the same decisions as the Redis scripts (members, connections with an expiry, metadata, last cursor), so the
 * room runs one algorithm over both. Every future is complete when returned, so the room's continuation runs at
 * once on the caller's context.
 *
 * <p>Each room's state is changed inside {@link ConcurrentHashMap#compute} for that room, so rooms on different
 * event loops (or several servers sharing one store) never interleave inside a decision, and the webhook event of a
 * decision is recorded ({@link EventLog}) inside it, in the order the decisions were taken.
 */
public final class MemoryPresenceStore implements PresenceStore {

    private final Map<String, RoomPresence> rooms = new ConcurrentHashMap<>();
    private final Clock clock;
    private final long ttlMs;
    private final int maxMetadataBytes;
    private final EventLog events;

    /** One room's users by id, in join order. */
    private static final class RoomPresence {
        final Map<String, UserPresence> users = new LinkedHashMap<>();
    }

    private static final class UserPresence {
        ObjectNode metadata;
        ServerMessage.Cursor cursor;
        /** Connection id → expiry (clock millis). */
        final Map<String, Long> connections = new HashMap<>(2);
        /** Those of {@link #connections} that ended without a goodbye and are kept for the reconnect grace only. */
        final java.util.Set<String> graced = new java.util.HashSet<>(1);

        UserPresence(ObjectNode metadata) {
            this.metadata = metadata;
        }

        /** Drops expired connections; true while one is left. */
        boolean alive(long now) {
            connections.values().removeIf(expiresAt -> expiresAt <= now);
            graced.retainAll(connections.keySet());
            return !connections.isEmpty();
        }

        /** Every live connection is a graced one: a new connection takes the user over silently, in either mode. */
        boolean onlyGraced() {
            return !connections.isEmpty() && graced.containsAll(connections.keySet());
        }
    }

    /** {@code ttlMs}: how long a connection lives without a refresh (the local TTL plus {@link #EXPIRY_GRACE_MS}). */
    public MemoryPresenceStore(Clock clock, long ttlMs, int maxMetadataBytes) {
        this(clock, ttlMs, maxMetadataBytes, EventLog.NONE);
    }

    /** As {@link #MemoryPresenceStore(Clock, long, int)}, recording each decision's webhook event in {@code events}. */
    public MemoryPresenceStore(Clock clock, long ttlMs, int maxMetadataBytes, EventLog events) {
        this.clock = clock;
        this.ttlMs = ttlMs;
        this.maxMetadataBytes = maxMetadataBytes;
        this.events = events;
    }

    @Override
    public Future<Admission> admit(String roomId, String userId, String connectionId, ObjectNode metadata, int limit,
                                   boolean evict) {
        return Future.succeededFuture(inRoom(roomId, room -> admitIn(room, roomId, userId, connectionId, metadata, limit,
                evict, clock.millis())));
    }

    @Override
    public Future<Admission> admitFirst(String roomId, String userId, String connectionId, ObjectNode metadata, int limit,
                                        boolean evict) {
        return Future.succeededFuture(inRoom(roomId, room -> {
            long now = clock.millis(); // one instant for both: a user expiring in between is in neither or both
            List<Snapshot> before = snapshotOf(room, now);
            return admitIn(room, roomId, userId, connectionId, metadata, limit, evict, now).withView(before);
        }));
    }

    private Admission admitIn(RoomPresence room, String roomId, String userId, String connectionId, ObjectNode metadata,
                              int limit, boolean evict, long now) {
        List<String> pruned = new ArrayList<>();
        UserPresence user = room.users.get(userId);
        if (user != null) {
            if (user.alive(now)) {
                boolean returning = user.onlyGraced();
                if (returning) {
                    graced(user); // a return within the reconnect grace: a silent take-over, in either mode
                }
                if (returning || !evict) {
                    user.connections.put(connectionId, now + ttlMs);
                    return new Admission(Admission.Status.PRESENT, user.metadata.deepCopy(), pruned);
                }
                user.connections.clear();
                user.cursor = null;
                user.metadata = metadata.deepCopy();
                user.connections.put(connectionId, now + ttlMs);
                return new Admission(Admission.Status.REPLACED, null, pruned);
            }
            drop(room, roomId, userId, LeaveReason.EXPIRED);
            pruned.add(userId);
        }
        if (limit > 0) {
            int count = 0;
            for (Iterator<Map.Entry<String, UserPresence>> it = room.users.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<String, UserPresence> e = it.next();
                if (e.getValue().alive(now)) {
                    count++;
                } else {
                    it.remove();
                    left(room, roomId, e.getKey(), e.getValue(), LeaveReason.EXPIRED);
                    pruned.add(e.getKey());
                }
            }
            if (count >= limit) {
                return new Admission(Admission.Status.FULL, null, pruned);
            }
        }
        UserPresence fresh = new UserPresence(metadata.deepCopy());
        fresh.connections.put(connectionId, now + ttlMs);
        add(room, roomId, userId, fresh);
        return new Admission(Admission.Status.JOINED, null, pruned);
    }

    @Override
    public Future<Boolean> remove(String roomId, String userId, String connectionId, LeaveReason reason) {
        return Future.succeededFuture(inRoom(roomId, room -> {
            UserPresence user = room.users.get(userId);
            if (user == null) {
                return true; // already gone (swept, pruned): whoever still shows the user must say they left
            }
            user.connections.remove(connectionId);
            if (user.alive(clock.millis())) {
                return false;
            }
            drop(room, roomId, userId, reason);
            return true;
        }));
    }

    @Override
    public Future<Void> grace(String roomId, String userId, String connectionId, long graceMs) {
        inRoom(roomId, room -> {
            UserPresence user = room.users.get(userId);
            if (user != null && user.connections.containsKey(connectionId)) {
                user.connections.put(connectionId, clock.millis() + graceMs);
                user.graced.add(connectionId);
            }
            return null;
        });
        return Future.succeededFuture();
    }

    @Override
    public Future<Boolean> endGrace(String roomId, String userId, String connectionId, LeaveReason reason) {
        return remove(roomId, userId, connectionId, reason);
    }

    /** A return takes the user over: the graced entries are not needed any more. */
    private static void graced(UserPresence user) {
        user.graced.forEach(user.connections::remove);
        user.graced.clear();
    }

    @Override
    public Future<ObjectNode> merge(String roomId, String userId, ObjectNode base, ObjectNode patch) {
        ObjectNode result = inRoom(roomId, room -> {
            UserPresence user = room.users.get(userId);
            // merged into what is stored, as the Redis store's compare-and-set converges to
            ObjectNode merged = Metadata.merged(user == null ? base : user.metadata, patch);
            if (!Metadata.fits(merged, maxMetadataBytes)) {
                return null;
            }
            if (user != null) {
                user.metadata = merged;
                events.record(WebhookEventType.PRESENCE_UPDATED, roomId, userId, null, merged.deepCopy());
            }
            return merged.deepCopy();
        });
        return result == null ? Future.failedFuture(new MetadataTooLarge()) : Future.succeededFuture(result);
    }

    @Override
    public Future<List<String>> refresh(String roomId, List<Touch> touches, List<CursorWrite> cursors, boolean rewrite) {
        return Future.succeededFuture(inRoom(roomId, room -> {
            long now = clock.millis();
            long expiresAt = now + ttlMs;
            List<String> recreated = new ArrayList<>();
            for (Touch t : touches) {
                UserPresence user = room.users.get(t.userId());
                if (rewrite) {
                    // an expired user counts as lost, as in Redis, where their presence hash is gone by then
                    if (user == null || !user.alive(now)) {
                        UserPresence back = new UserPresence(t.metadata().deepCopy());
                        if (user == null) {
                            add(room, roomId, t.userId(), back); // announced gone before: present again
                        } else {
                            room.users.put(t.userId(), back); // never announced gone: nobody saw them leave
                        }
                        user = back;
                        recreated.add(t.userId());
                    }
                    user.connections.put(t.connectionId(), expiresAt);
                } else if (user != null) {
                    // only existing connections: one removed meanwhile stays removed
                    user.connections.computeIfPresent(t.connectionId(), (c, old) -> expiresAt);
                }
            }
            for (CursorWrite c : cursors) {
                UserPresence user = room.users.get(c.userId());
                if (user != null) {
                    user.cursor = c.cursor();
                }
            }
            return recreated;
        }));
    }

    @Override
    public Future<List<Snapshot>> snapshot(String roomId) {
        return Future.succeededFuture(inRoom(roomId, room -> snapshotOf(room, clock.millis())));
    }

    private List<Snapshot> snapshotOf(RoomPresence room, long now) {
        List<Snapshot> out = new ArrayList<>(room.users.size());
        room.users.forEach((userId, user) -> {
            if (user.alive(now)) {
                int graced = user.graced.size();
                out.add(new Snapshot(userId, user.metadata.deepCopy(), user.cursor, user.connections.size() - graced,
                        user.onlyGraced()));
            }
        });
        return out;
    }

    @Override
    public Future<List<String>> sweep(String roomId, String userId) {
        return Future.succeededFuture(inRoom(roomId, room -> {
            long now = clock.millis();
            List<String> removed = new ArrayList<>();
            for (String u : userId == null ? List.copyOf(room.users.keySet()) : List.of(userId)) {
                UserPresence user = room.users.get(u);
                if (user != null && !user.alive(now)) {
                    drop(room, roomId, u, LeaveReason.EXPIRED);
                    removed.add(u);
                }
            }
            return removed;
        }));
    }

    /** One process: every publisher is this one, and a connection is held while it has not expired. */
    @Override
    public Future<Takeover> takeover(String roomId, String userId, List<String> connectionIds, String publisher,
                                     boolean joined) {
        return Future.succeededFuture(inRoom(roomId, room -> {
            UserPresence user = room.users.get(userId);
            long now = clock.millis();
            boolean held = user != null && user.alive(now) && connectionIds.stream().anyMatch(user.connections::containsKey);
            return new Takeover(held, true);
        }));
    }

    // ---- the decisions' events (as prelude.lua's member() and drop()) ------------------------------------------

    /** A user becomes present: the room's first one occupies it. */
    private void add(RoomPresence room, String roomId, String userId, UserPresence user) {
        if (room.users.isEmpty()) {
            events.record(WebhookEventType.ROOM_OCCUPIED, roomId, null, null, null);
        }
        room.users.put(userId, user);
        events.record(WebhookEventType.USER_JOINED, roomId, userId, null, user.metadata.deepCopy());
    }

    /** A user is present no more: the room's last one vacates it. */
    private void drop(RoomPresence room, String roomId, String userId, LeaveReason reason) {
        UserPresence user = room.users.remove(userId);
        if (user != null) {
            left(room, roomId, userId, user, reason);
        }
    }

    /** {@code user} has just been taken out of {@code room}. */
    private void left(RoomPresence room, String roomId, String userId, UserPresence user, LeaveReason reason) {
        events.record(WebhookEventType.USER_LEFT, roomId, userId, reason, user.metadata.deepCopy());
        if (room.users.isEmpty()) {
            events.record(WebhookEventType.ROOM_VACATED, roomId, null, null, null);
        }
    }

    /** Sets the stored metadata of a present user (a mirror of a decision the shared store took). */
    public void overwriteMetadata(String roomId, String userId, ObjectNode metadata) {
        inRoom(roomId, room -> {
            UserPresence user = room.users.get(userId);
            if (user != null) {
                user.metadata = metadata.deepCopy();
            }
            return null;
        });
    }

    /** Rooms holding any presence (for tests and inspection). */
    public int roomCount() {
        return rooms.size();
    }

    /** Runs {@code action} atomically for the room; a room left without users is forgotten. */
    private <T> T inRoom(String roomId, Function<RoomPresence, T> action) {
        Object[] result = new Object[1];
        rooms.compute(roomId, (id, room) -> {
            RoomPresence r = room == null ? new RoomPresence() : room;
            result[0] = action.apply(r);
            return r.users.isEmpty() ? null : r;
        });
        @SuppressWarnings("unchecked")
        T t = (T) result[0];
        return t;
    }
}
