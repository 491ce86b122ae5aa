package dev.flock.bench;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** roomId → members, shared by every event loop of the floor server. */
final class FloorRooms {
    private final ConcurrentHashMap<String, Set<FloorConnection>> rooms = new ConcurrentHashMap<>();

    void join(String roomId, FloorConnection conn) {
        rooms.compute(roomId, (id, members) -> {
            Set<FloorConnection> set = members != null ? members : ConcurrentHashMap.newKeySet();
            set.add(conn);
            return set;
        });
    }

    void leave(String roomId, FloorConnection conn) {
        // compute() makes "remove the last member, then drop the room" atomic against a concurrent join.
        rooms.computeIfPresent(roomId, (id, members) -> {
            members.remove(conn);
            return members.isEmpty() ? null : members;
        });
    }

    Set<FloorConnection> members(String roomId) {
        return rooms.get(roomId);
    }
}
