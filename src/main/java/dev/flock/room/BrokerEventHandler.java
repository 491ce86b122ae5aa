package dev.flock.room;

import dev.flock.protocol.ServerMessage;

/**
 * What brokers and shared-store housekeeping report to the room side (centrifuge's BrokerEventHandler). Only
 * {@link RoomRegistry} implements it, and only it turns these into room commands. Called from any thread.
 */
public interface BrokerEventHandler {

    /**
     * Another instance published {@code message} to a room this instance subscribed to. {@code encoded}, when not
     * null, is its JSON exactly as published, delivered as it is instead of being encoded again. {@code publisher} is
     * the publishing instance's id (null when unknown), which tells an original Node instance from one of ours.
     */
    void onPublication(String roomId, ServerMessage message, byte[] encoded, String publisher);

    /**
     * The store saw a presence of {@code userId} in the room expire: that user may have gone. {@code userId} null:
     * any member may have (an operator's read of the room, or the store's search for rooms left over by a crashed
     * instance, prunes it). True when a room of this instance shows {@code roomId} and sweeps itself (announcing
     * whom it removes); false when none does, and the caller prunes the store itself.
     */
    boolean onPresenceExpired(String roomId, String userId);

    /** Time for the periodic check of every local room for members whose connections all expired. */
    void onSweepDue();

    /** The shared store is reachable again after an outage: every room re-writes its presence and reconciles. */
    void onReconnected();
}
