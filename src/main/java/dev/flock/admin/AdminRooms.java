package dev.flock.admin;

import io.vertx.core.Future;

import java.util.List;

/**
  * What the admin dashboard needs from the server core ({@link DirectoryAdminRooms} adapts the room side's
  * {@code RoomDirectory}); in Redis mode the
  * answers cover every instance (rooms and members from the shared store, closes published to all).
  * Methods may be called from any event loop.
  */
public interface AdminRooms {

    /** Every room that has at least one member, with its members. */
    Future<List<RoomView>> rooms();

    /**
      * Closes a room: each member gets {@code error} {@code ROOM_CLOSED} with the roomId and leaves the
      * room (the others see {@code user:left}); sockets stay open. Succeeds for an unknown room too.
      */
    Future<Void> closeRoom(String roomId);

    /** How many users the room holds, fleet-wide (for the audit line of a close); by default from {@link #rooms()}. */
    default Future<Integer> userCount(String roomId) {
        return rooms().map(list -> list.stream().filter(r -> r.roomId().equals(roomId)).mapToInt(r -> r.members().size()).sum());
    }

    /** Closes every room as {@link #closeRoom} does; answers how many rooms were closed. */
    Future<Integer> closeAll();

    /** The webhooks' pending count and last failure; null when no webhook URL is configured. */
    default Future<WebhookStatus> webhooks() {
        return Future.succeededFuture(null);
    }

    /** Instances sharing the fleet (1 without Redis). Shown on the dashboard only. */
    default Future<Integer> instanceCount() {
        return Future.succeededFuture(1);
    }
}
