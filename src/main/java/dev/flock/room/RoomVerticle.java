package dev.flock.room;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import dev.flock.protocol.ClientMessage;
import dev.flock.protocol.ErrorCode;
import dev.flock.protocol.ServerMessage;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import static net.logstash.logback.argument.StructuredArguments.kv;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The single owner of one room's state: its members (a user with one or more local connections), their
 * merged metadata and last cursor. It processes the commands at {@code flock.room.<roomId>} one at a time
 * on its own event loop, so the state needs no locks.
 */
public final class RoomVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(RoomVerticle.class);

    private final String roomId;
    private final FlockConfig config;
    private final RoomRegistry registry;
    private final FlockMetrics metrics;

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
        this.roomId = roomId;
        this.config = config;
        this.registry = registry;
        this.metrics = metrics;
    }

    @Override
    public Future<?> start() {
        consumer = vertx.eventBus().localConsumer(RoomRegistry.address(roomId), this::onCommand);
        return consumer.completion();
    }

    private void onCommand(Message<Object> message) {
        Object body = message.body();
        try {
            if (body instanceof RoomCommand.Join c) {
                join(c.peer(), c.seq(), c.join());
            } else if (body instanceof RoomCommand.Relay c) {
                relay(c.peer(), c.message(), c.receivedNanos());
            } else if (body instanceof RoomCommand.Expire c) {
                if (remove(c.peer())) {
                    metrics.eviction("ttl");
                }
            } else if (body instanceof RoomCommand.Disconnect c) {
                remove(c.peer());
            } else if (body instanceof RoomCommand.Close c) {
                message.reply(close(), RoomBus.LOCAL);
            } else if (body instanceof RoomCommand.Inspect) {
                message.reply(view(), RoomBus.LOCAL);
            }
        } catch (RuntimeException e) {
            LOG.error("room command failed {} {}", kv("roomId", roomId), kv("command", body.getClass().getSimpleName()), e);
        }
        retireIfEmpty();
    }

    private void join(Peer peer, long seq, ClientMessage.Join join) {
        registry.joinArrived(roomId);
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
        Fanout.broadcast(new ServerMessage.UserJoined(roomId, member.userId, member.metadata), DeliveryKind.EVENT,
                member.userId, recipients, member.userId);
    }

    /** Share mode (or a re-join on the same socket): the join's metadata merges like a patch. */
    private void admitAnotherConnection(Peer peer, long seq, Member member, ObjectNode metadata, boolean newPeer) {
        ObjectNode changes = Metadata.changes(member.metadata, metadata);
        if (!changes.isEmpty()) {
            ObjectNode merged = Metadata.merged(member.metadata, changes);
            if (!Metadata.fits(merged, config.maxMetadataBytes())) {
                refuse(peer, seq, ErrorCode.INVALID_MESSAGE, "merged metadata would exceed "
                        + config.maxMetadataBytes() + " bytes", Peer.JoinResult.REJECTED);
                return;
            }
            member.metadata = merged;
        }
        if (newPeer) {
            attach(peer, member);
        }
        acknowledge(peer, seq, member);
        if (!changes.isEmpty()) {
            Fanout.broadcast(new ServerMessage.PresenceUpdated(roomId, member.userId, changes), DeliveryKind.EVENT,
                    member.userId, recipients, member.userId);
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
        Fanout.broadcast(new ServerMessage.UserLeft(roomId, member.userId), DeliveryKind.CURSOR_END, member.userId,
                recipients, member.userId);
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
        if (message instanceof ClientMessage.CursorMove m) {
            long now = System.currentTimeMillis();
            member.cursor = new ServerMessage.Cursor(m.x(), m.y(), now);
            Fanout.broadcast(new ServerMessage.CursorUpdated(roomId, member.userId, m.x(), m.y(), now), DeliveryKind.CURSOR,
                    member.userId, recipients, member.userId, metrics, receivedNanos);
        } else if (message instanceof ClientMessage.CursorLeave) {
            member.cursor = null;
            Fanout.broadcast(new ServerMessage.CursorRemoved(roomId, member.userId), DeliveryKind.CURSOR_END, member.userId,
                    recipients, member.userId);
        } else if (message instanceof ClientMessage.PresenceUpdate m) {
            updatePresence(peer, member, m.patch());
        } else if (message instanceof ClientMessage.Leave) {
            remove(peer);
        }
        // heartbeats need nothing here: the connection keeps the TTL, and acks them itself
    }

    private void updatePresence(Peer peer, Member member, ObjectNode patch) {
        ObjectNode merged = Metadata.merged(member.metadata, patch);
        if (!Metadata.fits(merged, config.maxMetadataBytes())) {
            metrics.errorSent(ErrorCode.INVALID_MESSAGE);
            Fanout.sendTo(peer, new ServerMessage.Error(ErrorCode.INVALID_MESSAGE, "merged metadata would exceed "
                    + config.maxMetadataBytes() + " bytes; update ignored", roomId), null);
            return;
        }
        member.metadata = merged;
        Fanout.broadcast(new ServerMessage.PresenceUpdated(roomId, member.userId, patch), DeliveryKind.EVENT,
                member.userId, recipients, member.userId);
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
            Fanout.broadcast(new ServerMessage.UserLeft(roomId, member.userId), DeliveryKind.CURSOR_END, member.userId,
                    recipients, member.userId);
        }
        return true;
    }

    private int close() {
        int users = members.size();
        for (Member member : List.copyOf(members.values())) {
            for (Peer peer : List.copyOf(member.peers)) {
                detach(peer, member);
                metrics.errorSent(ErrorCode.ROOM_CLOSED);
                Fanout.sendTo(peer, new ServerMessage.Error(ErrorCode.ROOM_CLOSED, "the room was closed by an operator", roomId),
                        () -> peer.removed(roomId, Peer.Removal.CLOSED_BY_OPERATOR));
            }
            members.remove(member.userId);
            Fanout.broadcast(new ServerMessage.UserLeft(roomId, member.userId), DeliveryKind.CURSOR_END, member.userId,
                    recipients, member.userId);
        }
        LOG.info("room closed by operator {} {}", kv("roomId", roomId), kv("users", users));
        return users;
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
        if (retiring || !members.isEmpty() || !registry.tryRetire(roomId)) {
            return;
        }
        retiring = true;
        vertx.undeploy(deploymentID()).onComplete(ar -> registry.retired(roomId));
    }
}
