package dev.flock.room;

import dev.flock.protocol.ServerMessage;
import io.vertx.core.Future;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Carries room events between the servers of one JVM that share a {@link Hub}. The embedded default gives each
 * server a hub of its own: with one instance there is nobody else to tell, so a publish costs one size check.
 * A publisher never hears its own events, as with Redis.
 */
public final class MemoryBroker implements RoomBroker {

    /** The servers that hear each other. */
    public static final class Hub {
        private final List<MemoryBroker> brokers = new CopyOnWriteArrayList<>();
    }

    private final Hub hub;
    /** Rooms with a local verticle, with a reference count (a retiring and a new verticle may overlap). */
    private final Map<String, Integer> rooms = new ConcurrentHashMap<>();
    private volatile BrokerEventHandler handler;

    /** A broker alone on its own hub: one instance. */
    public MemoryBroker() {
        this(new Hub());
    }

    public MemoryBroker(Hub hub) {
        this.hub = hub;
        hub.brokers.add(this);
    }

    @Override
    public void register(BrokerEventHandler handler) {
        this.handler = handler;
    }

    @Override
    public Future<Void> subscribe(String roomId) {
        rooms.merge(roomId, 1, Integer::sum);
        return Future.succeededFuture();
    }

    @Override
    public void unsubscribe(String roomId) {
        rooms.computeIfPresent(roomId, (k, n) -> n == 1 ? null : n - 1);
    }

    @Override
    public void publish(String roomId, ServerMessage message, byte[] encoded) {
        List<MemoryBroker> all = hub.brokers;
        if (all.size() < 2) {
            return;
        }
        for (MemoryBroker other : all) {
            BrokerEventHandler h = other.handler;
            if (other != this && h != null && other.rooms.containsKey(roomId)) {
                h.onPublication(roomId, message, encoded, null);
            }
        }
    }

    /** Leaves the hub (the server stopped). */
    public void close() {
        hub.brokers.remove(this);
    }
}
