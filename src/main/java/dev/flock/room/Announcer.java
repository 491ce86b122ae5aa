package dev.flock.room;

import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import dev.flock.protocol.ErrorCode;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.protocol.ServerMessage;

/**
 * Everything a room says: to its local connections through the {@link Delivery} port and, when it concerns the
 * whole fleet, to the other instances through the {@link RoomBroker}. Each message is encoded once; the same bytes
 * go to every local connection and to the broker.
 */
final class Announcer {

    private final String roomId;
    private final Members members;
    private final Delivery delivery;
    private final RoomBroker broker;
    private final FlockMetrics metrics;
    private final FlockConfig config;

    Announcer(String roomId, Members members, RoomServices services) {
        this.roomId = roomId;
        this.members = members;
        this.delivery = services.delivery();
        this.broker = services.broker();
        this.metrics = services.metrics();
        this.config = services.config();
    }

    /** To the local members but {@code aboutUserId}'s own connections and, with {@code publish}, to other instances. */
    void emit(ServerMessage message, DeliveryKind kind, String aboutUserId, boolean publish) {
        emit(message, kind, aboutUserId, publish, 0);
    }

    /** As {@link #emit(ServerMessage, DeliveryKind, String, boolean)}, timed from {@code receivedNanos} when > 0. */
    void emit(ServerMessage message, DeliveryKind kind, String aboutUserId, boolean publish, long receivedNanos) {
        if (!publish && members.audience().isEmpty()) {
            return; // nobody to tell: skip the encoding
        }
        byte[] json = ProtocolCodec.encode(message);
        delivery.broadcast(members.audience(), json, kind, aboutUserId, aboutUserId, receivedNanos);
        if (publish) {
            broker.publish(roomId, message, json);
        }
    }

    /** To the other instances only (this instance's members already know, or must not be told). */
    void publish(ServerMessage message) {
        broker.publish(roomId, message, ProtocolCodec.encode(message));
    }

    /** A local cursor move: to everyone else here (timed from the frame's arrival) and, batched, to other instances. */
    void cursor(ServerMessage.CursorUpdated message, long receivedNanos) {
        byte[] json = ProtocolCodec.encode(message);
        delivery.broadcast(members.audience(), json, DeliveryKind.CURSOR, message.userId(), message.userId(), receivedNanos);
        broker.publishCursor(roomId, message, json);
    }

    /** An event from another instance, to the local members; {@code encoded} (may be null) is sent as it came. */
    void relay(ServerMessage message, byte[] encoded, DeliveryKind kind, String aboutUserId) {
        if (encoded == null) {
            emit(message, kind, aboutUserId, false);
        } else {
            delivery.broadcast(members.audience(), encoded, kind, aboutUserId, aboutUserId, 0);
        }
    }

    void acknowledge(Peer peer, long seq, Member joiner) {
        delivery.send(peer, ProtocolCodec.encode(new ServerMessage.JoinAck(roomId, members.snapshotFor(joiner))),
                () -> peer.joinResult(roomId, seq, Peer.JoinResult.ADMITTED));
    }

    void refuse(Peer peer, long seq, ErrorCode code, String text, Peer.JoinResult result) {
        error(peer, code, text, () -> peer.joinResult(roomId, seq, result));
    }

    /** A presence:update whose merge would overflow the limit: ignored, and the sender told so. */
    void refusePatch(Peer peer) {
        error(peer, ErrorCode.INVALID_MESSAGE, tooLarge("; update ignored"), null);
    }

    void error(Peer peer, ErrorCode code, String text, Runnable after) {
        metrics.errorSent(code);
        delivery.send(peer, ProtocolCodec.encode(new ServerMessage.Error(code, text, roomId)), after);
    }

    String tooLarge(String consequence) {
        return "merged metadata would exceed " + config.maxMetadataBytes() + " bytes" + consequence;
    }

    /** Runs {@code action} on the peer's own loop. */
    void tell(Peer peer, Runnable action) {
        delivery.run(peer, action);
    }
}
