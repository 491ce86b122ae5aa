package dev.flock.room;

import dev.flock.protocol.ServerMessage;
import io.vertx.core.Future;

/**
 * Carries a room's events between the instances that serve it. {@link MemoryBroker} carries them inside one JVM
 * (the embedded default: with one instance there is nobody else to tell); {@code dev.flock.redis.RedisBroker}
 * carries them over Redis pub/sub. What arrives from other instances goes to the {@link BrokerEventHandler}.
 */
public interface RoomBroker {

    /** Where events from other instances go; set once, before the first subscribe. */
    void register(BrokerEventHandler handler);

    /** Starts hearing the room's events from other instances; completes once they flow. */
    Future<Void> subscribe(String roomId);

    /** This instance no longer has members in the room. */
    void unsubscribe(String roomId);

    /**
     * Sends one server message, with its encoding (UTF-8 JSON), to the other instances, in call order; never blocks,
     * may drop.
     */
    void publish(String roomId, ServerMessage message, byte[] encoded);

    /**
     * Like {@link #publish} for a cursor move, which may wait for the next batch (at most half the flush interval),
     * as cursor frames to local sockets wait for theirs; any later {@link #publish} sends it first, so the order holds.
     */
    default void publishCursor(String roomId, ServerMessage message, byte[] encoded) {
        publish(roomId, message, encoded);
    }
}
