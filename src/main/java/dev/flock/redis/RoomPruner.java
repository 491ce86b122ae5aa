package dev.flock.redis;

import dev.flock.protocol.ProtocolCodec;
import dev.flock.protocol.ServerMessage;
import dev.flock.room.BrokerEventHandler;
import io.vertx.core.Future;

import java.util.List;

/**
 * Removes a room's members whose connections all expired, wherever the room is shown, always with the one sweep
 * script: a room with a verticle on this instance sweeps itself (and announces whom it removed, to its members and
 * the fleet); a room shown by no verticle here is swept from here, and each removed user's {@code user:left} is
 * published once, by this instance, for the instances that show the room. Used for an operator's read of the rooms,
 * for expired-key events and for the search of the room index for rooms a crashed instance left behind.
 *
 * <p>The sweep removes only members with no unexpired connection and no presence hash, so a user alive on any
 * instance is never removed; when several instances prune the same room at once, the script (atomic in Redis)
 * removes each user once, and only that instance announces them.
 */
final class RoomPruner {

    private final RedisPresenceStore presence;
    private final RedisBroker broker;
    private volatile BrokerEventHandler rooms;

    RoomPruner(RedisPresenceStore presence, RedisBroker broker) {
        this.presence = presence;
        this.broker = broker;
    }

    void register(BrokerEventHandler rooms) {
        this.rooms = rooms;
    }

    /**
     * Prunes {@code userId} of the room ({@code null}: every member). Completes when done here, or once a room of
     * this instance was asked to sweep itself; never fails (an unreachable Redis leaves the room to a later prune).
     */
    Future<Void> prune(String roomId, String userId) {
        BrokerEventHandler h = rooms;
        if (h != null && h.onPresenceExpired(roomId, userId)) {
            return Future.succeededFuture();
        }
        return presence.sweep(roomId, userId).onSuccess(gone -> announce(roomId, gone)).<Void>mapEmpty().otherwiseEmpty();
    }

    private void announce(String roomId, List<String> gone) {
        for (String userId : gone) {
            ServerMessage.UserLeft left = new ServerMessage.UserLeft(roomId, userId);
            broker.publish(roomId, left, ProtocolCodec.encode(left));
        }
    }
}
