package dev.flock.transport;

import dev.flock.room.Delivery;
import dev.flock.room.Peer;
import io.vertx.core.Context;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A room's local connections grouped by event loop. Each group is an immutable array replaced on every join or
 * leave (rare), so a fan-out hands the current array to the loop without copying (frequent).
 */
final class LoopAudience implements Delivery.Audience {

    /** One local connection and the user it belongs to, so the sender's own connections can be skipped. */
    record Entry(ClientConnection connection, String userId) {
    }

    record Group(Context context, Entry[] entries) {
    }

    private final List<Group> groups = new ArrayList<>(2);

    @Override
    public void add(Peer peer, String userId) {
        ClientConnection c = SocketDelivery.connection(peer);
        for (int i = 0; i < groups.size(); i++) {
            Group g = groups.get(i);
            if (g.context() == c.context()) {
                Entry[] next = Arrays.copyOf(g.entries(), g.entries().length + 1);
                next[next.length - 1] = new Entry(c, userId);
                groups.set(i, new Group(g.context(), next));
                return;
            }
        }
        groups.add(new Group(c.context(), new Entry[]{new Entry(c, userId)}));
    }

    @Override
    public void remove(Peer peer) {
        ClientConnection c = SocketDelivery.connection(peer);
        for (int i = 0; i < groups.size(); i++) {
            Group g = groups.get(i);
            if (g.context() != c.context()) {
                continue;
            }
            Entry[] next = Arrays.stream(g.entries()).filter(e -> e.connection() != c).toArray(Entry[]::new);
            if (next.length == 0) {
                groups.remove(i);
            } else {
                groups.set(i, new Group(g.context(), next));
            }
            return;
        }
    }

    @Override
    public boolean isEmpty() {
        return groups.isEmpty();
    }

    List<Group> groups() {
        return groups;
    }
}
