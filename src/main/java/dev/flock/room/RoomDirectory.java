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

    // ---- the server API (issue 19) --------------------------------------------------------------------------------

    /** Ids of the rooms that may have members (unordered; a room that just emptied may still be listed). */
    Future<List<String>> roomIds();

    /** One room's live members, fleet-wide; an empty member list when nobody is in it. */
    Future<RoomInspection> room(String roomId);

    /** The rooms the user is present in, fleet-wide. */
    Future<List<String>> roomsOf(String userId);

    /**
     * Kicks the user from the room on every instance: each of their connections gets {@code error} {@code KICKED} with
     * the roomId and leaves the room (the others see {@code user:left} once); the sockets stay.
     */
    Future<Void> kick(String roomId, String userId);

    /**
     * Merges {@code patch} into the user's metadata and broadcasts it as a client's {@code presence:update} would be.
     * Fails with {@link NotPresent} when the user is not in the room, with {@link PresenceStore.MetadataTooLarge} when
     * the result would not fit.
     */
    Future<com.fasterxml.jackson.databind.node.ObjectNode> patch(String roomId, String userId,
                                                                 com.fasterxml.jackson.databind.node.ObjectNode patch);

    /** The user is not in the room. */
    final class NotPresent extends RuntimeException {
        public NotPresent() {
            super("the user is not in the room", null, false, false);
        }
    }

    /** Instances sharing the fleet (1 for a single instance). */
    default Future<Integer> instanceCount() {
        return Future.succeededFuture(1);
    }
}
