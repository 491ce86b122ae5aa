package dev.flock.room;

import io.vertx.core.Future;

import java.util.List;

/**
 * What operators (the admin dashboard, the server API) can read and do with rooms. {@link LocalRoomDirectory} covers
 * this instance (each room verticle answers for itself); {@code dev.flock.redis.FleetRoomDirectory} covers every
 * instance sharing a Redis. Methods may be called from any event loop.
 */
public interface RoomDirectory {

    /** Every room that has at least one member, with its members. */
    Future<List<RoomInspection>> rooms();

    /**
     * Closes a room: each member gets {@code error} {@code ROOM_CLOSED} with the roomId and leaves the room (the
     * others see {@code user:left}); sockets stay open. Succeeds for an unknown room too.
     */
    Future<Void> closeRoom(String roomId);

    /** Closes every room as {@link #closeRoom} does; answers how many rooms were closed. */
    Future<Integer> closeAll();

    /** Instances sharing the fleet (1 for a single instance). */
    default Future<Integer> instanceCount() {
        return Future.succeededFuture(1);
    }
}
