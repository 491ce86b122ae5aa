package dev.flock.room;

import io.vertx.core.Future;

/**
 * Carries a room's events between the instances that serve it. {@link LocalBroker} (one instance, nothing to
 * carry) is the embedded default; {@code dev.flock.redis.RedisBridge} carries them over Redis pub/sub.
 */
public interface RoomBroker {

    /** Starts hearing the room's events from other instances; completes once they flow (at once when there are none). */
    Future<Void> subscribe(String roomId);

    /** This instance no longer has members in the room. */
    void unsubscribe(String roomId);

    /** Sends one encoded server message (UTF-8 JSON) to the other instances, in call order; never blocks, may drop. */
    void publish(String roomId, byte[] message);

    /**
     * Like {@link #publish} for a cursor move, which may wait for the next batch (at most half the flush interval),
     * as cursor frames to local sockets wait for theirs; any later {@link #publish} sends it first, so the order holds.
     */
    default void publishCursor(String roomId, byte[] message) {
        publish(roomId, message);
    }

    /** True when events published now reach the other instances. */
    boolean connected();
}
