package dev.flock.room;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import dev.flock.protocol.ClientMessage;
import dev.flock.protocol.ErrorCode;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.protocol.ServerMessage;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import static net.logstash.logback.argument.StructuredArguments.kv;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The single owner of one room's state: its members (a user with one or more local connections), their
 * merged metadata and last cursor. It processes the commands at {@code flock.room.<roomId>} one at a time
 * on its own event loop, so the state needs no locks.
 *
 * <p>With a shared {@link PresenceStore} (Redis mode) the room also holds the users present on other instances
 * (a member without local connections), takes its decisions through the store's atomic scripts, publishes every
 * event once through the {@link RoomBroker}, and applies what other instances publish. Store calls are
 * asynchronous; while one is pending, later commands wait in {@link #pending}, so they are still processed one
 * at a time, in arrival order.
 */
public final class RoomVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(RoomVerticle.class);
    /** Commands held while a store call is in flight; beyond this, cursor moves are dropped (never joins or leaves). */
    static final int MAX_PENDING = 4096;
    /** Twice the Redis bridge's longest reconnect backoff (5 s), so every instance has re-written its users. */
    static final long RECONCILE_GRACE_MS = 10_000;

    private final String roomId;
    private final FlockConfig config;
    private final RoomRegistry registry;
    private final FlockMetrics metrics;
    private final RoomBroker broker;
    private final PresenceStore store;

    /** Redis mode: connection TTLs and cursor hashes are written at most this often (batched). */
    static final long REFRESH_INTERVAL_MS = 1000;

    private final ArrayDeque<Message<Object>> pending = new ArrayDeque<>();
    /** Store calls in flight; commands wait in {@code pending} while any is (a continuation may start another). */
    private int inFlight;
    private final Set<Peer> touched = new LinkedHashSet<>();
    private final Map<String, ServerMessage.Cursor> dirtyCursors = new LinkedHashMap<>();
    private final Set<String> removedCursors = new HashSet<>();
    private long refreshTimer = -1;

    private final Map<String, Member> members = new LinkedHashMap<>();
    private final Map<Peer, Member> memberOf = new HashMap<>();
    private final Recipients recipients = new Recipients();
    private MessageConsumer<Object> consumer;
    private boolean retiring;

    /** A user present in the room, with all of their local connections. */
    private static final class Member {
        final String userId;
        final long joinedAt;
        final List<Peer> peers = new ArrayList<>(1);
        ObjectNode metadata;
        ServerMessage.Cursor cursor;

        Member(String userId, ObjectNode metadata, long joinedAt) {
            this.userId = userId;
            this.metadata = metadata;
            this.joinedAt = joinedAt;
        }
    }

    public RoomVerticle(String roomId, FlockConfig config, RoomRegistry registry, FlockMetrics metrics) {
        this(roomId, config, registry, metrics, LocalBroker.INSTANCE, LocalPresence.INSTANCE);
    }

    public RoomVerticle(String roomId, FlockConfig config, RoomRegistry registry, FlockMetrics metrics,
                        RoomBroker broker, PresenceStore store) {
        this.roomId = roomId;
        this.config = config;
        this.registry = registry;
        this.metrics = metrics;
        this.broker = broker;
        this.store = store;
    }

    @Override
    public Future<?> start() {
        consumer = vertx.eventBus().localConsumer(RoomRegistry.address(roomId), this::onCommand);
        if (broker != LocalBroker.INSTANCE) {
            // subscribe before reading the snapshot; what arrives meanwhile waits in the queue and is applied after it
            await(broker.subscribe(roomId).compose(v -> store.available() ? store.snapshot(roomId)
                    : Future.succeededFuture(List.of())), ar -> {
                if (ar.succeeded()) {
                    loadSnapshot(ar.result());
                } else {
                    LOG.warn("room snapshot unavailable roomId={}: {}", roomId, ar.cause().toString());
                }
            });
        }
        return consumer.completion();
    }

    @Override
    public Future<?> stop() {
        if (refreshTimer >= 0) {
            vertx.cancelTimer(refreshTimer);
        }
        broker.unsubscribe(roomId);
        return Future.succeededFuture();
    }

    private void onCommand(Message<Object> message) {
        if (inFlight > 0 || !pending.isEmpty()) {
            if (pending.size() >= MAX_PENDING && isCursorMove(message.body())) {
                metrics.dropped(); // a stalled Redis must not grow memory: cursors are latest-value, the next one follows
                return;
            }
            pending.add(message);
            return;
        }
        process(message);
        if (inFlight == 0) {
            retireIfEmpty();
        }
    }

    /** Runs {@code then} on this room's loop when {@code f} completes; commands arriving meanwhile wait. */
    private <T> void await(Future<T> f, Handler<AsyncResult<T>> then) {
        inFlight++;
        io.vertx.core.Context ctx = context;
        f.onComplete(ar -> {
            if (Vertx.currentContext() == ctx) {
                resume(then, ar);
            } else {
                ctx.runOnContext(v -> resume(then, ar));
            }
        });
    }

    private <T> void resume(Handler<AsyncResult<T>> then, AsyncResult<T> ar) {
        inFlight--;
        try {
            then.handle(ar);
        } catch (RuntimeException e) {
            LOG.error("room continuation failed roomId={}", roomId, e);
        }
        while (inFlight == 0 && !pending.isEmpty()) {
            process(pending.poll());
        }
        if (inFlight == 0) {
            retireIfEmpty();
        }
    }

    private static boolean isCursorMove(Object command) {
        return command instanceof RoomCommand.Relay r && r.message() instanceof ClientMessage.CursorMove;
    }

    private void process(Message<Object> message) {
        Object body = message.body();
        try {
            if (body instanceof RoomCommand.Join c) {
                join(c.peer(), c.seq(), c.join());
            } else if (body instanceof RoomCommand.Relay c) {
                relay(c.peer(), c.message(), c.receivedNanos());
            } else if (body instanceof RoomCommand.Expire c) {
                if (memberOf.containsKey(c.peer())) {
                    metrics.eviction("ttl");
                }
                removePeer(c.peer(), null);
            } else if (body instanceof RoomCommand.Disconnect c) {
                removePeer(c.peer(), null);
            } else if (body instanceof RoomCommand.Remote c) {
                remote(c.message(), c.encoded());
            } else if (body instanceof RoomCommand.Sweep c) {
                sweep(c.userId());
            } else if (body instanceof RoomCommand.Resync) {
                resync();
            } else if (body instanceof RoomCommand.Recheck c) {
                recheck(c.userIds());
            } else if (body instanceof RoomCommand.Close c) {
                message.reply(close(), RoomBus.LOCAL);
            } else if (body instanceof RoomCommand.Inspect) {
                message.reply(view(), RoomBus.LOCAL);
            }
        } catch (RuntimeException e) {
            LOG.error("room command failed {} {}", kv("roomId", roomId), kv("command", body.getClass().getSimpleName()), e);
        }
    }

    private void join(Peer peer, long seq, ClientMessage.Join join) {
        registry.joinArrived(roomId);
        if (store.available()) {
            Member current = memberOf.get(peer);
            if (current != null && !current.userId.equals(join.userId())) {
                removePeer(peer, () -> sharedJoin(peer, seq, join)); // the same socket switches user
            } else {
                sharedJoin(peer, seq, join);
            }
            return;
        }
        localJoin(peer, seq, join);
    }

    private void localJoin(Peer peer, long seq, ClientMessage.Join join) {
        Member current = memberOf.get(peer);
        if (current != null && !current.userId.equals(join.userId())) {
            remove(peer); // the same socket switches user: the old one leaves first
            current = null;
        }
        Member member = current != null ? current : members.get(join.userId());
        if (member == null) {
            admitNewUser(peer, seq, join);
        } else if (current != null || config.duplicateJoin() == FlockConfig.DuplicateJoin.SHARE) {
            admitAnotherConnection(peer, seq, member, join.metadata(), current == null);
        } else {
            supersede(member);
            admitNewUser(peer, seq, join);
        }
    }

    private void admitNewUser(Peer peer, long seq, ClientMessage.Join join) {
        int limit = config.maxRoomSize();
        if (limit > 0 && members.size() >= limit) {
            refuse(peer, seq, ErrorCode.ROOM_FULL, "room is full (" + limit + " users)", Peer.JoinResult.ROOM_FULL);
            return;
        }
        Member member = new Member(join.userId(), join.metadata().deepCopy(), System.currentTimeMillis());
        members.put(member.userId, member);
        attach(peer, member);
        acknowledge(peer, seq, member);
        emit(new ServerMessage.UserJoined(roomId, member.userId, member.metadata), DeliveryKind.EVENT, member.userId, false);
    }

    /** Share mode (or a re-join on the same socket): the join's metadata merges like a patch. */
    private void admitAnotherConnection(Peer peer, long seq, Member member, ObjectNode metadata, boolean newPeer) {
        ObjectNode changes = Metadata.changes(member.metadata, metadata);
        if (!changes.isEmpty()) {
            ObjectNode merged = Metadata.merged(member.metadata, changes);
            if (!Metadata.fits(merged, config.maxMetadataBytes())) {
                // a socket already in the room stays in it with its old metadata; a new one is not admitted
                refuse(peer, seq, ErrorCode.INVALID_MESSAGE, tooLarge(""),
                        newPeer ? Peer.JoinResult.REJECTED : Peer.JoinResult.ADMITTED);
                return;
            }
            member.metadata = merged;
        }
        if (newPeer) {
            attach(peer, member);
        }
        acknowledge(peer, seq, member);
        if (!changes.isEmpty()) {
            emit(new ServerMessage.PresenceUpdated(roomId, member.userId, changes), DeliveryKind.EVENT, member.userId,
                    false);
        }
    }

    /** Evict mode: the user's older connections are closed and the room sees the user leave. */
    private void supersede(Member member) {
        for (Peer old : List.copyOf(member.peers)) {
            detach(old, member);
            old.context().runOnContext(v -> old.removed(roomId, Peer.Removal.SUPERSEDED));
            metrics.eviction("duplicate");
        }
        members.remove(member.userId);
        emit(new ServerMessage.UserLeft(roomId, member.userId), DeliveryKind.CURSOR_END, member.userId, false);
    }

    private String tooLarge(String consequence) {
        return "merged metadata would exceed " + config.maxMetadataBytes() + " bytes" + consequence;
    }

    /** A presence:update whose merge would overflow the limit: ignored, and the sender told so. */
    private void refusePatch(Peer peer) {
        metrics.errorSent(ErrorCode.INVALID_MESSAGE);
        Fanout.sendTo(peer, new ServerMessage.Error(ErrorCode.INVALID_MESSAGE, tooLarge("; update ignored"), roomId), null);
    }

    private void refuse(Peer peer, long seq, ErrorCode code, String text, Peer.JoinResult result) {
        metrics.errorSent(code);
        Fanout.sendTo(peer, new ServerMessage.Error(code, text, roomId), () -> peer.joinResult(roomId, seq, result));
    }

    private void acknowledge(Peer peer, long seq, Member joiner) {
        List<ServerMessage.UserSnapshot> others = new ArrayList<>(members.size());
        for (Member m : members.values()) {
            if (m != joiner) {
                others.add(new ServerMessage.UserSnapshot(m.userId, m.metadata, m.cursor));
            }
        }
        Fanout.sendTo(peer, new ServerMessage.JoinAck(roomId, others), () -> peer.joinResult(roomId, seq, Peer.JoinResult.ADMITTED));
    }

    private void relay(Peer peer, ClientMessage message, long receivedNanos) {
        Member member = memberOf.get(peer);
        if (member == null) {
            metrics.dropped(); // raced with an eviction or expiry: the connection learns it on its loop
            return;
        }
        if (shared()) {
            if (!(message instanceof ClientMessage.Leave)) {
                touch(peer);
            }
            sharedRelay(peer, member, message, receivedNanos);
            return;
        }
        if (message instanceof ClientMessage.CursorMove m) {
            moveCursor(member, m, receivedNanos);
        } else if (message instanceof ClientMessage.CursorLeave) {
            removeCursor(member);
        } else if (message instanceof ClientMessage.PresenceUpdate m) {
            updatePresence(peer, member, m.patch());
        } else if (message instanceof ClientMessage.Leave) {
            removePeer(peer, null);
        }
        // heartbeats need nothing here: the connection keeps the TTL, and acks them itself
    }

    /**
     * The cursor belongs to the user: kept for snapshots, encoded once for local members and, when shared,
     * published with the same bytes; Redis's cursor hash is written by the next refresh, not per move.
     */
    private void moveCursor(Member member, ClientMessage.CursorMove m, long receivedNanos) {
        long now = System.currentTimeMillis();
        member.cursor = new ServerMessage.Cursor(m.x(), m.y(), now);
        if (!shared() && recipients.groups().isEmpty()) {
            return; // nobody to tell
        }
        byte[] json = ProtocolCodec.encode(new ServerMessage.CursorUpdated(roomId, member.userId, m.x(), m.y(), now));
        Fanout.broadcast(json, DeliveryKind.CURSOR, member.userId, recipients, member.userId, metrics, receivedNanos);
        if (shared()) {
            dirtyCursors.put(member.userId, member.cursor);
            removedCursors.remove(member.userId);
            broker.publishCursor(roomId, json);
        }
    }

    private void removeCursor(Member member) {
        member.cursor = null;
        if (shared()) {
            dirtyCursors.remove(member.userId);
            removedCursors.add(member.userId);
            scheduleRefresh();
        }
        emit(new ServerMessage.CursorRemoved(roomId, member.userId), DeliveryKind.CURSOR_END, member.userId, shared());
    }

    private void updatePresence(Peer peer, Member member, ObjectNode patch) {
        ObjectNode merged = Metadata.merged(member.metadata, patch);
        if (!Metadata.fits(merged, config.maxMetadataBytes())) {
            refusePatch(peer);
            return;
        }
        member.metadata = merged;
        emit(new ServerMessage.PresenceUpdated(roomId, member.userId, patch), DeliveryKind.EVENT, member.userId, false);
    }

    /** Removes one connection; the user leaves (announced once) with their last connection. */
    private boolean remove(Peer peer) {
        Member member = memberOf.get(peer);
        if (member == null) {
            return false;
        }
        detach(peer, member);
        if (member.peers.isEmpty()) {
            members.remove(member.userId);
            emit(new ServerMessage.UserLeft(roomId, member.userId), DeliveryKind.CURSOR_END, member.userId, false);
        }
        return true;
    }

    private int close() {
        int users = members.size();
        for (Member member : List.copyOf(members.values())) {
            for (Peer peer : List.copyOf(member.peers)) {
                detach(peer, member);
                if (shared()) {
                    String userId = member.userId;
                    store.remove(roomId, userId, store.connectionId(peer)).onSuccess(last -> {
                        if (last) {
                            broker.publish(roomId, ProtocolCodec.encode(new ServerMessage.UserLeft(roomId, userId)));
                        }
                    });
                }
                metrics.errorSent(ErrorCode.ROOM_CLOSED);
                Fanout.sendTo(peer, new ServerMessage.Error(ErrorCode.ROOM_CLOSED, "the room was closed by an operator", roomId),
                        () -> peer.removed(roomId, Peer.Removal.CLOSED_BY_OPERATOR));
            }
            members.remove(member.userId);
            emit(new ServerMessage.UserLeft(roomId, member.userId), DeliveryKind.CURSOR_END, member.userId, false);
        }
        LOG.info("room closed by operator {} {}", kv("roomId", roomId), kv("users", users));
        return users;
    }

    // ---- shared presence (Redis mode) ---------------------------------------------------------------------

    private boolean shared() {
        return store.available();
    }

    /** Sends to the local members (all but {@code aboutUserId}'s connections) and, if asked, to other instances. */
    private void emit(ServerMessage message, DeliveryKind kind, String aboutUserId, boolean publish) {
        if (!publish && recipients.groups().isEmpty()) {
            return; // nobody to tell: skip the encoding
        }
        byte[] json = ProtocolCodec.encode(message);
        Fanout.broadcast(json, kind, aboutUserId, recipients, aboutUserId, null, 0);
        if (publish) {
            broker.publish(roomId, json);
        }
    }

    /** Removes one connection; in shared mode the store decides, once for the cluster, whether the user left. */
    private void removePeer(Peer peer, Runnable then) {
        Member member = memberOf.get(peer);
        if (member == null || !shared()) {
            remove(peer);
            if (then != null) {
                then.run();
            }
            return;
        }
        detach(peer, member);
        touched.remove(peer);
        if (store.draining()) {
            // shutdown: say nothing, leave the presence to expire; a reconnect elsewhere within the TTL causes no flicker
            if (then != null) {
                then.run();
            }
            return;
        }
        String connectionId = store.connectionId(peer);
        if (!member.peers.isEmpty()) {
            store.remove(roomId, member.userId, connectionId); // another local connection keeps the user present
            if (then != null) {
                then.run();
            }
            return;
        }
        await(store.remove(roomId, member.userId, connectionId), ar -> {
            if (ar.failed()) {
                LOG.debug("presence removal failed roomId={} userId={}: {}", roomId, member.userId, ar.cause().toString());
            }
            if ((ar.failed() || ar.result()) && member.peers.isEmpty() && members.get(member.userId) == member) {
                userLeft(member.userId, true);
            }
            // otherwise the user is still connected on another instance: a member without local connections
            if (then != null) {
                then.run();
            }
        });
    }

    private void userLeft(String userId, boolean publish) {
        members.remove(userId);
        dirtyCursors.remove(userId);
        removedCursors.remove(userId);
        emit(new ServerMessage.UserLeft(roomId, userId), DeliveryKind.CURSOR_END, userId, publish);
    }

    private void sharedJoin(Peer peer, long seq, ClientMessage.Join join) {
        if (!shared()) {
            localJoin(peer, seq, join);
            return;
        }
        Member current = memberOf.get(peer);
        boolean evict = current == null && config.duplicateJoin() == FlockConfig.DuplicateJoin.EVICT;
        String userId = join.userId();
        await(store.admit(roomId, userId, store.connectionId(peer), join.metadata(), config.maxRoomSize(), evict), ar -> {
            if (ar.failed()) {
                LOG.warn("shared admission failed roomId={}, deciding locally: {}", roomId, ar.cause().toString());
                localJoin(peer, seq, join);
                return;
            }
            PresenceStore.Admission a = ar.result();
            announceGone(a.pruned());
            switch (a.status()) {
                case FULL -> refuse(peer, seq, ErrorCode.ROOM_FULL, "room is full (" + config.maxRoomSize() + " users)",
                        Peer.JoinResult.ROOM_FULL);
                case JOINED -> joinedCluster(peer, seq, current, join);
                case PRESENT -> joinedPresentUser(peer, seq, current, join, a.storedMetadata());
                case REPLACED -> {
                    Member old = members.get(userId);
                    if (old != null) {
                        supersede(old);
                    }
                    broker.publish(roomId, ProtocolCodec.encode(new ServerMessage.UserLeft(roomId, userId)));
                    Member member = new Member(userId, join.metadata().deepCopy(), System.currentTimeMillis());
                    members.put(userId, member);
                    attach(peer, member);
                    acknowledge(peer, seq, member);
                    emit(new ServerMessage.UserJoined(roomId, userId, member.metadata), DeliveryKind.EVENT, userId, true);
                }
            }
        });
    }

    /** The store admitted a user who was present nowhere. */
    private void joinedCluster(Peer peer, long seq, Member current, ClientMessage.Join join) {
        String userId = join.userId();
        Member member = members.get(userId);
        if (member == null) {
            member = new Member(userId, join.metadata().deepCopy(), System.currentTimeMillis());
            members.put(userId, member);
            attach(peer, member);
            acknowledge(peer, seq, member);
            emit(new ServerMessage.UserJoined(roomId, userId, member.metadata), DeliveryKind.EVENT, userId, true);
            return;
        }
        // this instance still shows the user (Redis had lost them): the others must hear of them again
        ObjectNode changes = Metadata.changes(member.metadata, join.metadata());
        member.metadata = Metadata.merged(member.metadata, changes);
        if (current == null) {
            attach(peer, member);
        }
        acknowledge(peer, seq, member);
        if (!changes.isEmpty()) {
            emit(new ServerMessage.PresenceUpdated(roomId, userId, changes), DeliveryKind.EVENT, userId, false);
        }
        broker.publish(roomId, ProtocolCodec.encode(new ServerMessage.UserJoined(roomId, userId, member.metadata)));
    }

    /** Share mode: another connection of a user already present (here or on another instance). */
    private void joinedPresentUser(Peer peer, long seq, Member current, ClientMessage.Join join, ObjectNode stored) {
        String userId = join.userId();
        Member member = members.get(userId);
        if (member == null) {
            member = new Member(userId, stored, System.currentTimeMillis());
            members.put(userId, member);
            // this instance had not heard of the user yet: its members see them arrive
            emit(new ServerMessage.UserJoined(roomId, userId, stored), DeliveryKind.EVENT, userId, false);
        } else {
            member.metadata = stored;
        }
        ObjectNode changes = Metadata.changes(stored, join.metadata());
        if (changes.isEmpty()) {
            if (current == null) {
                attach(peer, member);
            }
            acknowledge(peer, seq, member);
            return;
        }
        Member target = member;
        await(store.merge(roomId, userId, stored, changes), mr -> {
            if (mr.failed() && mr.cause() instanceof PresenceStore.MetadataTooLarge) {
                refuse(peer, seq, ErrorCode.INVALID_MESSAGE, tooLarge(""),
                        current == null ? Peer.JoinResult.REJECTED : Peer.JoinResult.ADMITTED);
                if (current == null) {
                    store.remove(roomId, userId, store.connectionId(peer));
                }
                return;
            }
            target.metadata = mr.succeeded() ? mr.result() : Metadata.merged(stored, changes);
            if (current == null && !memberOf.containsKey(peer)) {
                attach(peer, target);
            }
            acknowledge(peer, seq, target);
            emit(new ServerMessage.PresenceUpdated(roomId, userId, changes), DeliveryKind.EVENT, userId, true);
        });
    }

    /** Users the store removed (their connections all expired): announced once, by this instance. */
    private void announceGone(List<String> userIds) {
        List<Peer> reassert = new ArrayList<>();
        for (String userId : userIds) {
            Member m = members.get(userId);
            if (m != null && !m.peers.isEmpty()) {
                reassert.addAll(m.peers); // not gone: this instance holds live connections of the user
                continue;
            }
            metrics.eviction("expired");
            if (m != null) {
                userLeft(userId, true);
            } else {
                broker.publish(roomId, ProtocolCodec.encode(new ServerMessage.UserLeft(roomId, userId)));
            }
        }
        if (!reassert.isEmpty()) {
            rewrite(reassert, null);
        }
    }

    private void sharedRelay(Peer peer, Member member, ClientMessage message, long receivedNanos) {
        String userId = member.userId;
        if (message instanceof ClientMessage.CursorMove m) {
            moveCursor(member, m, receivedNanos);
        } else if (message instanceof ClientMessage.CursorLeave) {
            removeCursor(member);
        } else if (message instanceof ClientMessage.PresenceUpdate m) {
            ObjectNode patch = m.patch();
            await(store.merge(roomId, userId, member.metadata, patch), ar -> {
                ObjectNode merged = ar.succeeded() ? ar.result() : Metadata.merged(member.metadata, patch);
                if ((ar.failed() && ar.cause() instanceof PresenceStore.MetadataTooLarge)
                        || !Metadata.fits(merged, config.maxMetadataBytes())) {
                    refusePatch(peer);
                    return;
                }
                member.metadata = merged;
                emit(new ServerMessage.PresenceUpdated(roomId, userId, patch), DeliveryKind.EVENT, userId, true);
            });
        } else if (message instanceof ClientMessage.Leave) {
            removePeer(peer, null);
        }
    }

    /**
     * An event published by another instance: applied only when it changes this instance's view. A cursor update
     * that arrives with its {@code encoded} bytes is framed as it is (no second encoding of the hottest event).
     */
    private void remote(ServerMessage message, byte[] encoded) {
        if (message instanceof ServerMessage.UserJoined j) {
            if (members.containsKey(j.userId())) {
                return; // already shown (a duplicate, or a re-announcement)
            }
            members.put(j.userId(), new Member(j.userId(), j.metadata(), System.currentTimeMillis()));
            emit(j, DeliveryKind.EVENT, j.userId(), false);
        } else if (message instanceof ServerMessage.UserLeft l) {
            Member m = members.get(l.userId());
            if (m == null) {
                return;
            }
            if (m.peers.isEmpty()) {
                userLeft(l.userId(), false);
            } else if (config.duplicateJoin() == FlockConfig.DuplicateJoin.EVICT) {
                supersede(m); // the user joined on another instance, which took them over
            } else {
                rewrite(List.copyOf(m.peers), null); // this instance still holds the user's connections
            }
        } else if (message instanceof ServerMessage.CursorUpdated c) {
            Member m = members.get(c.userId());
            if (m != null) {
                m.cursor = new ServerMessage.Cursor(c.x(), c.y(), c.timestamp());
            }
            if (encoded == null) {
                emit(c, DeliveryKind.CURSOR, c.userId(), false);
            } else {
                Fanout.broadcast(encoded, DeliveryKind.CURSOR, c.userId(), recipients, c.userId(), null, 0);
            }
        } else if (message instanceof ServerMessage.CursorRemoved c) {
            Member m = members.get(c.userId());
            if (m != null) {
                m.cursor = null;
            }
            emit(c, DeliveryKind.CURSOR_END, c.userId(), false);
        } else if (message instanceof ServerMessage.PresenceUpdated p) {
            Member m = members.get(p.userId());
            if (m != null) {
                m.metadata = Metadata.merged(m.metadata, p.patch());
            }
            emit(p, DeliveryKind.EVENT, p.userId(), false);
        }
    }

    private void sweep(String userId) {
        if (!shared()) {
            return;
        }
        await(store.sweep(roomId, userId), ar -> {
            if (ar.succeeded()) {
                announceGone(ar.result());
            }
        });
    }

    /** After Redis came back: write the presence of every local connection again, then reconcile with Redis. */
    private void resync() {
        if (!shared()) {
            return;
        }
        rewrite(List.copyOf(memberOf.keySet()), () -> await(store.snapshot(roomId), ar -> {
            if (ar.succeeded()) {
                reconcile(ar.result());
            }
        }));
    }

    /** Re-creates the presence of these local connections; users that had to be re-created are announced again. */
    private void rewrite(List<Peer> peers, Runnable then) {
        List<PresenceStore.Touch> touches = new ArrayList<>(peers.size());
        List<PresenceStore.CursorWrite> cursors = new ArrayList<>();
        Set<String> users = new HashSet<>();
        for (Peer p : peers) {
            Member m = memberOf.get(p);
            if (m != null) {
                touches.add(new PresenceStore.Touch(m.userId, store.connectionId(p), m.metadata));
                if (users.add(m.userId) && m.cursor != null) {
                    cursors.add(new PresenceStore.CursorWrite(m.userId, m.cursor));
                }
            }
        }
        if (touches.isEmpty()) {
            if (then != null) {
                then.run();
            }
            return;
        }
        await(store.refresh(roomId, touches, cursors, true), ar -> {
            if (ar.succeeded()) {
                for (String userId : new LinkedHashSet<>(ar.result())) {
                    Member m = members.get(userId);
                    if (m != null) {
                        broker.publish(roomId, ProtocolCodec.encode(new ServerMessage.UserJoined(roomId, userId, m.metadata)));
                    }
                }
            }
            if (then != null) {
                then.run();
            }
        });
    }

    /** Announces locally the difference between this instance's view and Redis (after Redis was lost). */
    private void reconcile(List<PresenceStore.Snapshot> snapshot) {
        Map<String, PresenceStore.Snapshot> present = new HashMap<>();
        for (PresenceStore.Snapshot s : snapshot) {
            present.put(s.userId(), s);
        }
        // Remote users missing from a Redis that just came back may only wait for their own instance to
        // reconnect and re-write them: announce them gone only if they are still missing after a grace period.
        Set<String> missing = new HashSet<>();
        for (Member m : members.values()) {
            if (m.peers.isEmpty() && !present.containsKey(m.userId)) {
                missing.add(m.userId);
            }
        }
        if (!missing.isEmpty()) {
            vertx.setTimer(RECONCILE_GRACE_MS, id -> RoomBus.send(vertx, roomId, new RoomCommand.Recheck(missing)));
        }
        for (PresenceStore.Snapshot s : snapshot) {
            Member m = members.get(s.userId());
            if (m == null) {
                m = new Member(s.userId(), s.metadata(), System.currentTimeMillis());
                m.cursor = s.cursor();
                members.put(s.userId(), m);
                emit(new ServerMessage.UserJoined(roomId, s.userId(), s.metadata()), DeliveryKind.EVENT, s.userId(), false);
            } else if (m.peers.isEmpty()) {
                m.metadata = s.metadata();
                if (s.cursor() != null) {
                    m.cursor = s.cursor();
                }
            }
        }
    }

    private void recheck(Set<String> userIds) {
        if (!shared()) {
            return;
        }
        await(store.snapshot(roomId), ar -> {
            if (ar.failed()) {
                return; // Redis is gone again: the next reconcile starts over
            }
            Set<String> present = new HashSet<>();
            for (PresenceStore.Snapshot s : ar.result()) {
                present.add(s.userId());
            }
            for (String userId : userIds) {
                Member m = members.get(userId);
                if (m != null && m.peers.isEmpty() && !present.contains(userId)) {
                    userLeft(userId, false);
                }
            }
        });
    }

    private void loadSnapshot(List<PresenceStore.Snapshot> snapshot) {
        for (PresenceStore.Snapshot s : snapshot) {
            if (!members.containsKey(s.userId())) {
                Member m = new Member(s.userId(), s.metadata(), System.currentTimeMillis());
                m.cursor = s.cursor();
                members.put(s.userId(), m);
            }
        }
    }

    private void touch(Peer peer) {
        touched.add(peer);
        scheduleRefresh();
    }

    private void scheduleRefresh() {
        if (refreshTimer < 0) {
            refreshTimer = vertx.setTimer(REFRESH_INTERVAL_MS, id -> {
                refreshTimer = -1;
                flushRefresh();
            });
        }
    }

    /** At most once a second: pushes out the TTL of active connections and writes changed cursors, in one script. */
    private void flushRefresh() {
        if (!shared()) {
            touched.clear();
            dirtyCursors.clear();
            removedCursors.clear();
            return;
        }
        List<PresenceStore.Touch> touches = new ArrayList<>(touched.size());
        for (Peer p : touched) {
            Member m = memberOf.get(p);
            if (m != null) {
                touches.add(new PresenceStore.Touch(m.userId, store.connectionId(p), m.metadata));
            }
        }
        List<PresenceStore.CursorWrite> cursors = new ArrayList<>(dirtyCursors.size() + removedCursors.size());
        dirtyCursors.forEach((userId, cursor) -> {
            if (members.containsKey(userId)) {
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
            store.refresh(roomId, touches, cursors, false);
        }
    }

    private RoomInspection view() {
        List<RoomInspection.MemberInspection> list = new ArrayList<>(members.size());
        for (Member m : members.values()) {
            list.add(new RoomInspection.MemberInspection(m.userId, m.metadata.deepCopy(), m.joinedAt, m.peers.size(),
                    m.cursor == null ? 0 : m.cursor.timestamp()));
        }
        return new RoomInspection(roomId, list);
    }

    private void attach(Peer peer, Member member) {
        member.peers.add(peer);
        memberOf.put(peer, member);
        recipients.add(peer, member.userId);
        metrics.memberAdded();
    }

    private void detach(Peer peer, Member member) {
        member.peers.remove(peer);
        memberOf.remove(peer);
        recipients.remove(peer);
        metrics.memberRemoved();
    }

    private void retireIfEmpty() {
        if (retiring || !memberOf.isEmpty() || !registry.tryRetire(roomId)) {
            return;
        }
        retiring = true;
        vertx.undeploy(deploymentID()).onComplete(ar -> registry.retired(roomId));
    }
}
