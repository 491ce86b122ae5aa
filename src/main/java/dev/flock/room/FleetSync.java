package dev.flock.room;

import dev.flock.config.FlockConfig;
import dev.flock.protocol.ServerMessage;
import io.vertx.core.AsyncResult;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keeps the room's view in step with the rest of the fleet: applies what other instances publish, sweeps members
 * whose connections all expired, and after the store was unreachable re-writes local presence and reconciles.
 */
final class FleetSync {

    private static final Logger LOG = LoggerFactory.getLogger(FleetSync.class);
    /** Twice the Redis link's longest reconnect backoff (5 s), so every instance has re-written its users. */
    static final long RECONCILE_GRACE_MS = 10_000;

    private final String roomId;
    private final RoomServices services;
    private final Members members;
    private final Announcer announcer;
    private final Membership membership;
    private final CommandQueue<?> queue;
    private final Vertx vertx;

    FleetSync(String roomId, RoomServices services, Members members, Announcer announcer, Membership membership,
              CommandQueue<?> queue, Vertx vertx) {
        this.roomId = roomId;
        this.services = services;
        this.members = members;
        this.announcer = announcer;
        this.membership = membership;
        this.queue = queue;
        this.vertx = vertx;
    }

    /** The room's first view: everyone the store knows (read once the broker's events flow, so none is missed). */
    void load(AsyncResult<List<PresenceStore.Snapshot>> ar) {
        if (ar.failed()) {
            LOG.debug("room snapshot unavailable roomId={}: {}", roomId, ar.cause().toString());
            return;
        }
        load(ar.result());
    }

    /** As {@link #load(AsyncResult)}, the view read with the room's first admission; null: none could be read. */
    void load(List<PresenceStore.Snapshot> view) {
        if (view == null) {
            LOG.debug("room snapshot unavailable roomId={}", roomId);
            return;
        }
        long now = services.clock().millis();
        for (PresenceStore.Snapshot s : view) {
            members.addIfAbsent(s, now);
        }
    }

    /**
     * An event published by another instance: applied only when it changes this instance's view. A cursor update
     * that arrives with its {@code encoded} bytes is delivered as it is (no second encoding of the hottest event).
     */
    void remote(ServerMessage message, byte[] encoded, String publisher) {
        if (message instanceof ServerMessage.UserJoined j) {
            Member m = members.get(j.userId());
            if (m == null) {
                members.add(j.userId(), j.metadata(), services.clock().millis());
                announcer.emit(j, DeliveryKind.EVENT, j.userId(), false);
            } else if (m.local() && evict()) {
                remoteJoinOfALocalUser(m, j, publisher);
            }
            // otherwise already shown: a duplicate, or a re-announcement
        } else if (message instanceof ServerMessage.UserLeft l) {
            remoteLeave(l.userId(), publisher);
        } else if (message instanceof ServerMessage.CursorUpdated c) {
            Member m = members.get(c.userId());
            if (m != null) {
                if (!m.isLatestCursor(c.timestamp(), publisher)) {
                    return; // overtaken by a newer move from elsewhere: showing it would jump the cursor back
                }
                m.cursor = new ServerMessage.Cursor(c.x(), c.y(), c.timestamp());
                m.cursorSource = publisher;
            }
            announcer.relay(c, encoded, DeliveryKind.CURSOR, c.userId());
        } else if (message instanceof ServerMessage.CursorRemoved c) {
            Member m = members.get(c.userId());
            if (m != null) {
                m.cursor = null;
            }
            announcer.relay(c, null, DeliveryKind.CURSOR_END, c.userId());
        } else if (message instanceof ServerMessage.PresenceUpdated p) {
            Member m = members.get(p.userId());
            if (m != null) {
                m.metadata = Metadata.merged(m.metadata, p.patch());
            }
            announcer.relay(p, null, DeliveryKind.EVENT, p.userId());
        }
    }

    private boolean evict() {
        return services.config().duplicateJoin() == FlockConfig.DuplicateJoin.EVICT;
    }

    /**
     * Someone else announced that a user this instance holds left. Share mode: this instance still holds them, so
     * their presence is written again (an original instance deletes the shared keys when its own socket of the user
     * closes; the re-written presence is announced to the fleet as {@code user:joined}). Evict mode: when another
     * instance of ours took the user over (its admission deleted our connections), this instance's sockets are
     * superseded; when our connections are still held, the leave was an original instance's old socket closing (or
     * its duplicate leave after an expiry), and the live user stays, as in share mode.
     */
    private void remoteLeave(String userId, String publisher) {
        Member m = members.get(userId);
        if (m == null) {
            return;
        }
        if (!m.local()) {
            membership.userLeft(userId, false);
            return;
        }
        if (!evict()) {
            membership.rewrite(List.copyOf(m.peers), null);
            return;
        }
        queue.await(services.store().takeover(roomId, userId, connectionIds(m), publisher, false), ar -> {
            Member now = members.get(userId);
            if (now == null || !now.local()) {
                return; // decided meanwhile
            }
            if (ar.succeeded() && !ar.result().connectionsHeld()) {
                membership.supersede(now); // the user joined on another instance of ours, which took them over
            } else {
                membership.rewrite(List.copyOf(now.peers), null);
            }
        });
    }

    /**
     * Evict mode: another instance announced a user this instance holds as joined. The newest join wins, so this
     * instance's sockets are superseded and the user is shown as the other instance's, unless the announcement is a
     * re-announcement by an instance of ours while our connections are still held (after Redis was lost, every
     * instance re-announces the users it holds). An original Node instance's join leaves our connections in the
     * store: the same script removes them (the user, who lives on there, stays).
     */
    private void remoteJoinOfALocalUser(Member m, ServerMessage.UserJoined j, String publisher) {
        queue.await(services.store().takeover(roomId, j.userId(), connectionIds(m), publisher, true), ar -> {
            Member now = members.get(j.userId());
            if (now == null || !now.local()) {
                return;
            }
            // unknown (Redis failed): the newest join wins, as before the check existed
            PresenceStore.Takeover t = ar.succeeded() ? ar.result() : new PresenceStore.Takeover(false, false);
            if (t.connectionsHeld() && t.publisherIsOurs()) {
                return; // a re-announcement: this instance still holds the user
            }
            membership.supersede(now);
            members.add(j.userId(), j.metadata(), services.clock().millis());
            announcer.emit(j, DeliveryKind.EVENT, j.userId(), false);
        });
    }

    private List<String> connectionIds(Member m) {
        return m.peers.stream().map(services::connectionId).toList();
    }

    /** Removes members whose connections all expired ({@code userId} null = check the whole room). */
    void sweep(String userId) {
        queue.await(services.store().sweep(roomId, userId), ar -> {
            if (ar.succeeded()) {
                membership.announceGone(ar.result());
            }
        });
    }

    /** After the store came back: write the presence of every local connection again, then reconcile with it. */
    void resync() {
        membership.rewrite(members.localPeers(), () -> queue.await(services.store().snapshot(roomId), ar -> {
            if (ar.succeeded()) {
                reconcile(ar.result());
            }
        }));
    }

    /** Announces locally the difference between this instance's view and the store's. */
    private void reconcile(List<PresenceStore.Snapshot> snapshot) {
        Map<String, PresenceStore.Snapshot> present = new HashMap<>();
        for (PresenceStore.Snapshot s : snapshot) {
            present.put(s.userId(), s);
        }
        // Remote users missing from a store that just came back may only wait for their own instance to
        // reconnect and re-write them: announce them gone only if they are still missing after a grace period.
        Set<String> missing = new HashSet<>();
        for (Member m : members.all()) {
            if (!m.local() && !present.containsKey(m.userId)) {
                missing.add(m.userId);
            }
        }
        if (!missing.isEmpty()) {
            services.clock().setTimer(RECONCILE_GRACE_MS, id -> RoomBus.send(vertx, roomId, new RoomCommand.Recheck(missing)));
        }
        long now = services.clock().millis();
        for (PresenceStore.Snapshot s : snapshot) {
            Member m = members.get(s.userId());
            if (m == null) {
                members.addIfAbsent(s, now);
                announcer.emit(new ServerMessage.UserJoined(roomId, s.userId(), s.metadata()), DeliveryKind.EVENT,
                        s.userId(), false);
            } else if (!m.local()) {
                m.metadata = s.metadata();
                // the store is written at most once a second: a broadcast move seen since is newer
                if (s.cursor() != null && (m.cursor == null || s.cursor().timestamp() >= m.cursor.timestamp())) {
                    m.cursor = s.cursor();
                    m.cursorSource = null;
                }
            }
        }
    }

    /** A grace period after a reconcile: the users still missing from the store now have really gone. */
    void recheck(Set<String> userIds) {
        queue.await(services.store().snapshot(roomId), ar -> {
            if (ar.failed()) {
                return; // the store is gone again: the next reconcile starts over
            }
            Set<String> present = new HashSet<>();
            for (PresenceStore.Snapshot s : ar.result()) {
                present.add(s.userId());
            }
            for (String userId : userIds) {
                Member m = members.get(userId);
                if (m != null && !m.local() && !present.contains(userId)) {
                    membership.userLeft(userId, false);
                }
            }
        });
    }
}
