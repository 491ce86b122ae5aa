package dev.flock.room;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.config.FlockConfig;
import dev.flock.protocol.ClientMessage;
import dev.flock.protocol.ErrorCode;
import dev.flock.protocol.ServerMessage;
import dev.flock.protocol.LeaveReason;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Who is in the room: admission, re-admission, leaving, expiry, operator close. Every decision is the store's
 * ({@link PresenceStore#admit}, {@link PresenceStore#remove}, {@link PresenceStore#merge}), taken once for the whole
 * fleet; this class applies the answer to the room's view and says what changed, once.
 */
final class Membership {

    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);

    private final String roomId;
    private final RoomServices services;
    private final FlockConfig config;
    private final PresenceStore store;
    private final Members members;
    private final Announcer announcer;
    private final CommandQueue<?> queue;
    private final Activity activity;
    private final io.vertx.core.Vertx vertx;
    /** Connections in their reconnect grace, by user id: those users stay present (and hold their seat) meanwhile. */
    private final java.util.Map<String, Set<String>> graces = new java.util.HashMap<>();

    Membership(String roomId, RoomServices services, Members members, Announcer announcer, CommandQueue<?> queue,
               Activity activity, io.vertx.core.Vertx vertx) {
        this.roomId = roomId;
        this.services = services;
        this.config = services.config();
        this.store = services.store();
        this.members = members;
        this.announcer = announcer;
        this.queue = queue;
        this.activity = activity;
        this.vertx = vertx;
    }

    // ---- joining ------------------------------------------------------------------------------------------

    void join(Peer peer, long seq, ClientMessage.Join join) {
        Member current = members.of(peer);
        if (current != null && !current.userId.equals(join.userId())) {
            // the same socket switches user: the old one leaves first
            removePeer(peer, LeaveReason.LEFT, () -> admit(peer, seq, join, null));
        } else {
            admit(peer, seq, join, null);
        }
    }

    /**
     * The room's first command is a join: its admission brings the room's view along ({@link PresenceStore#admitFirst}),
     * which {@code loadView} applies before the admission (null: no view could be read).
     */
    void firstJoin(Peer peer, long seq, ClientMessage.Join join, Consumer<List<PresenceStore.Snapshot>> loadView) {
        admit(peer, seq, join, loadView);
    }

    private void admit(Peer peer, long seq, ClientMessage.Join join, Consumer<List<PresenceStore.Snapshot>> loadView) {
        Member current = members.of(peer);
        boolean evict = current == null && config.duplicateJoin() == FlockConfig.DuplicateJoin.EVICT;
        String connectionId = services.connectionId(peer);
        Future<PresenceStore.Admission> decision = loadView == null
                ? store.admit(roomId, join.userId(), connectionId, join.metadata(), config.maxRoomSize(), evict)
                : store.admitFirst(roomId, join.userId(), connectionId, join.metadata(), config.maxRoomSize(), evict);
        queue.await(decision, ar -> {
            if (loadView != null) {
                loadView.accept(ar.succeeded() ? ar.result().view() : null);
            }
            if (ar.failed()) {
                LOG.warn("admission failed {}: {}", kv("roomId", roomId), ar.cause().toString());
                announcer.refuse(peer, seq, ErrorCode.INTERNAL_ERROR, "the join could not be decided; try again",
                        current == null ? Peer.JoinResult.REJECTED : Peer.JoinResult.ADMITTED);
                return;
            }
            PresenceStore.Admission a = ar.result();
            announceGone(a.pruned());
            switch (a.status()) {
                case FULL -> announcer.refuse(peer, seq, ErrorCode.ROOM_FULL, "room is full (" + config.maxRoomSize()
                        + " users)", Peer.JoinResult.ROOM_FULL);
                case JOINED -> joinedRoom(peer, seq, current, join);
                case PRESENT -> joinedPresentUser(peer, seq, current, join, a.storedMetadata());
                case REPLACED -> replaced(peer, seq, join);
            }
        });
    }

    /** The store admitted a user who was present nowhere. */
    private void joinedRoom(Peer peer, long seq, Member current, ClientMessage.Join join) {
        String userId = join.userId();
        Member member = members.get(userId);
        if (member == null) {
            member = members.add(userId, join.metadata().deepCopy(), services.clock().millis());
            members.attach(peer, member);
            announcer.acknowledge(peer, seq, member);
            announcer.emit(new ServerMessage.UserJoined(roomId, userId, member.metadata), DeliveryKind.EVENT, userId, true);
            return;
        }
        // this instance still shows the user (the store had lost them): the others must hear of them again
        ObjectNode changes = Metadata.changes(member.metadata, join.metadata());
        member.metadata = Metadata.merged(member.metadata, changes);
        if (current == null) {
            members.attach(peer, member);
        }
        announcer.acknowledge(peer, seq, member);
        if (!changes.isEmpty()) {
            announcer.emit(new ServerMessage.PresenceUpdated(roomId, userId, changes), DeliveryKind.EVENT, userId, false);
        }
        announcer.publish(new ServerMessage.UserJoined(roomId, userId, member.metadata));
    }

    /** Share mode (or a re-join on the same socket): another connection of a present user; its metadata merges. */
    private void joinedPresentUser(Peer peer, long seq, Member current, ClientMessage.Join join, ObjectNode stored) {
        String userId = join.userId();
        Member member = members.get(userId);
        if (member == null) {
            member = members.add(userId, stored, services.clock().millis());
            // this instance had not heard of the user yet: its members see them arrive
            announcer.emit(new ServerMessage.UserJoined(roomId, userId, stored), DeliveryKind.EVENT, userId, false);
        } else {
            member.metadata = stored;
        }
        ObjectNode changes = Metadata.changes(stored, join.metadata());
        if (changes.isEmpty()) {
            if (current == null) {
                members.attach(peer, member);
            }
            announcer.acknowledge(peer, seq, member);
            return;
        }
        Member target = member;
        queue.await(store.merge(roomId, userId, stored, changes), mr -> {
            if (mr.failed() && mr.cause() instanceof PresenceStore.MetadataTooLarge) {
                // a socket already in the room stays in it with its old metadata; a new one is not admitted
                announcer.refuse(peer, seq, ErrorCode.INVALID_MESSAGE, announcer.tooLarge(""),
                        current == null ? Peer.JoinResult.REJECTED : Peer.JoinResult.ADMITTED);
                if (current == null) {
                    store.remove(roomId, userId, services.connectionId(peer), LeaveReason.LEFT);
                }
                return;
            }
            target.metadata = mr.succeeded() ? mr.result() : Metadata.merged(stored, changes);
            if (current == null && members.of(peer) == null) {
                members.attach(peer, target);
            }
            announcer.acknowledge(peer, seq, target);
            announcer.emit(new ServerMessage.PresenceUpdated(roomId, userId, changes), DeliveryKind.EVENT, userId, true);
        });
    }

    /** Evict mode: the store dropped the user's other connections; the room sees the user leave and join again. */
    private void replaced(Peer peer, long seq, ClientMessage.Join join) {
        String userId = join.userId();
        Member old = members.get(userId);
        if (old != null) {
            supersede(old);
        }
        announcer.publish(new ServerMessage.UserLeft(roomId, userId));
        Member member = members.add(userId, join.metadata().deepCopy(), services.clock().millis());
        members.attach(peer, member);
        announcer.acknowledge(peer, seq, member);
        announcer.emit(new ServerMessage.UserJoined(roomId, userId, member.metadata), DeliveryKind.EVENT, userId, true);
    }

    /** Evict mode: the user's local connections are closed and the room sees the user leave. */
    void supersede(Member member) {
        for (Peer old : List.copyOf(member.peers)) {
            members.detach(old, member);
            announcer.tell(old, () -> old.removed(roomId, Peer.Removal.SUPERSEDED));
            services.metrics().eviction("duplicate");
        }
        members.remove(member.userId);
        announcer.emit(new ServerMessage.UserLeft(roomId, member.userId), DeliveryKind.CURSOR_END, member.userId, false);
    }

    // ---- leaving ------------------------------------------------------------------------------------------

    /** The connection sent nothing for the room for the TTL. */
    void expire(Peer peer) {
        if (members.of(peer) != null) {
            services.metrics().eviction("ttl");
        }
        removePeer(peer, LeaveReason.EXPIRED, null);
    }

    /**
     * A connection ended without a clean goodbye (issue 20). When it was the user's last here, the user stays present
     * for {@code FLOCK_RECONNECT_GRACE_MS}: the store keeps the connection as a graced entry (the seat stays taken), the
     * cursor goes at once (a frozen cursor is worse than none), and the room sees nothing else. A return of the user
     * within the grace, here or on another instance, takes over silently; otherwise its end announces the leave once.
     */
    void disconnectGraced(Peer peer) {
        Member member = members.of(peer);
        long graceMs = config.reconnectGraceMs();
        if (member == null || graceMs <= 0) {
            removePeer(peer, LeaveReason.CLOSED, null);
            return;
        }
        members.detach(peer, member);
        activity.forget(peer);
        String connectionId = services.connectionId(peer);
        if (member.local()) {
            store.remove(roomId, member.userId, connectionId, LeaveReason.CLOSED); // another local connection keeps the user
            return;
        }
        String userId = member.userId;
        activity.dropCursor(member);
        graces.computeIfAbsent(userId, u -> new HashSet<>()).add(connectionId);
        queue.await(store.grace(roomId, userId, connectionId, graceMs), ar -> {
            if (ar.failed()) {
                LOG.debug("grace not written {} {}: {}", kv("roomId", roomId), kv("userId", userId), ar.cause().toString());
            }
        });
        services.clock().setTimer(graceMs, id -> RoomBus.send(vertx, roomId, new RoomCommand.GraceEnded(userId, connectionId)));
    }

    /** The grace is over: the graced entry goes, and if nobody came back, the user leaves, announced once. */
    void graceEnded(String userId, String connectionId) {
        Set<String> pending = graces.get(userId);
        if (pending == null || !pending.remove(connectionId)) {
            return; // the room was closed meanwhile
        }
        if (pending.isEmpty()) {
            graces.remove(userId);
        }
        queue.await(store.endGrace(roomId, userId, connectionId, LeaveReason.CLOSED), ar -> {
            Member m = members.get(userId);
            if (m == null) {
                services.metrics().graceEnded("left"); // announced gone meanwhile (a sweep, an operator)
            } else if (!m.local() && !graces.containsKey(userId) && (ar.failed() || ar.result())) {
                services.metrics().graceEnded("left");
                userLeft(userId, true);
            } else {
                // the user came back (here or elsewhere), or another of their connections is still graced
                services.metrics().graceEnded("returned");
            }
        });
    }

    /** A reconnect grace is running: the room must stay to end it. */
    boolean gracing() {
        return !graces.isEmpty();
    }

    /** The user has no connection here and is held by a grace of this room. */
    boolean reconnecting(String userId) {
        Member m = members.get(userId);
        return graces.containsKey(userId) && m != null && !m.local();
    }

    /**
     * Removes one connection; the store decides, once for the fleet, whether that was the user's last (and records the
     * leave, with {@code reason}, for the webhooks).
     */
    void removePeer(Peer peer, LeaveReason reason, Runnable then) {
        Member member = members.of(peer);
        if (member == null) {
            run(then);
            return;
        }
        members.detach(peer, member);
        activity.forget(peer);
        String connectionId = services.connectionId(peer);
        if (member.local()) {
            // another local connection keeps the user present
            store.remove(roomId, member.userId, connectionId, reason);
            run(then);
            return;
        }
        queue.await(store.remove(roomId, member.userId, connectionId, reason), ar -> {
            if (ar.failed()) {
                LOG.debug("presence removal failed roomId={} userId={}: {}", roomId, member.userId, ar.cause().toString());
            }
            if ((ar.failed() || ar.result()) && !member.local() && members.current(member)) {
                userLeft(member.userId, true);
            }
            // otherwise the user is still connected elsewhere: a member without local connections
            run(then);
        });
    }

    void userLeft(String userId, boolean publish) {
        members.remove(userId);
        activity.forgetCursor(userId);
        announcer.emit(new ServerMessage.UserLeft(roomId, userId), DeliveryKind.CURSOR_END, userId, publish);
    }

    /** Users the store removed (their connections all expired): announced once, by this instance. */
    void announceGone(List<String> userIds) {
        List<Peer> reassert = new ArrayList<>();
        for (String userId : userIds) {
            Member m = members.get(userId);
            if (m != null && m.local()) {
                reassert.addAll(m.peers); // not gone: this instance holds live connections of the user
                continue;
            }
            services.metrics().eviction("sweep"); // METRICS.md: pruned by a sweep or an expiry event
            if (m != null) {
                userLeft(userId, true);
            } else {
                announcer.publish(new ServerMessage.UserLeft(roomId, userId));
            }
        }
        if (!reassert.isEmpty()) {
            rewrite(reassert, null);
        }
    }

    /** Re-creates the presence of these local connections; users that had to be re-created are announced again. */
    void rewrite(List<Peer> peers, Runnable then) {
        List<PresenceStore.Touch> touches = new ArrayList<>(peers.size());
        List<PresenceStore.CursorWrite> cursors = new ArrayList<>();
        Set<String> users = new HashSet<>();
        for (Peer p : peers) {
            Member m = members.of(p);
            if (m != null) {
                touches.add(new PresenceStore.Touch(m.userId, services.connectionId(p), m.metadata));
                if (users.add(m.userId) && m.cursor != null) {
                    cursors.add(new PresenceStore.CursorWrite(m.userId, m.cursor));
                }
            }
        }
        if (touches.isEmpty()) {
            run(then);
            return;
        }
        queue.await(store.refresh(roomId, touches, cursors, true), ar -> {
            if (ar.succeeded()) {
                for (String userId : new LinkedHashSet<>(ar.result())) {
                    Member m = members.get(userId);
                    if (m != null) {
                        announcer.publish(new ServerMessage.UserJoined(roomId, userId, m.metadata));
                    }
                }
            }
            run(then);
        });
    }

    /** An operator closes the room: every member gets ROOM_CLOSED and leaves; answers how many users there were. */
    int close() {
        graces.forEach((userId, connections) -> connections.forEach(c -> store.endGrace(roomId, userId, c,
                LeaveReason.CLOSED_BY_ADMIN).onSuccess(last -> {
            if (last) {
                announcer.publish(new ServerMessage.UserLeft(roomId, userId)); // the local view says it below
            }
        })));
        graces.clear();
        List<Member> all = members.all();
        for (Member member : all) {
            for (Peer peer : List.copyOf(member.peers)) {
                members.detach(peer, member);
                activity.forget(peer);
                String userId = member.userId;
                store.remove(roomId, userId, services.connectionId(peer), LeaveReason.CLOSED_BY_ADMIN).onSuccess(last -> {
                    if (last) {
                        announcer.publish(new ServerMessage.UserLeft(roomId, userId));
                    }
                });
                announcer.error(peer, ErrorCode.ROOM_CLOSED, "the room was closed by an operator",
                        () -> peer.removed(roomId, Peer.Removal.CLOSED_BY_OPERATOR));
            }
            members.remove(member.userId);
            activity.forgetCursor(member.userId);
            announcer.emit(new ServerMessage.UserLeft(roomId, member.userId), DeliveryKind.CURSOR_END, member.userId, false);
        }
        LOG.info("room closed by operator {} {}", kv("roomId", roomId), kv("users", all.size()));
        return all.size();
    }

    /**
     * The server API kicks the user (issue 19): each of their connections here gets {@code KICKED} and leaves the room
     * (the socket and its other rooms stay), and their reconnect graces here end; the store decides, once for the fleet,
     * which removal was the user's last, and that one announces the leave. Answers how many connections were kicked.
     */
    int kick(String userId) {
        Member member = members.get(userId);
        int kicked = 0;
        if (member != null) {
            for (Peer peer : List.copyOf(member.peers)) {
                announcer.error(peer, ErrorCode.KICKED, "removed from the room by the server",
                        () -> peer.removed(roomId, Peer.Removal.KICKED));
                removePeer(peer, LeaveReason.KICKED, null);
                kicked++;
            }
        }
        Set<String> graced = graces.remove(userId);
        if (graced != null) {
            for (String connectionId : graced) {
                queue.await(store.endGrace(roomId, userId, connectionId, LeaveReason.KICKED), ar -> {
                    Member m = members.get(userId);
                    if (m != null && !m.local() && (ar.failed() || ar.result())) {
                        services.metrics().graceEnded("left");
                        userLeft(userId, true);
                    }
                });
            }
        }
        return kicked;
    }

    private static void run(Runnable then) {
        if (then != null) {
            then.run();
        }
    }
}
