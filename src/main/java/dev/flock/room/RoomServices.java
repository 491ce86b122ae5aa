package dev.flock.room;

import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import dev.flock.time.Clock;

/**
 * What every room verticle of one server shares: its settings, the pluggable store, broker and delivery, the clock,
 * and this instance's id (connection ids are {@code <instanceId>:<peer id>}, unique in the fleet).
 */
public record RoomServices(FlockConfig config, FlockMetrics metrics, PresenceStore store, RoomBroker broker,
                           Delivery delivery, Clock clock, String instanceId) {

    String connectionId(Peer peer) {
        return instanceId + ":" + peer.id();
    }
}
