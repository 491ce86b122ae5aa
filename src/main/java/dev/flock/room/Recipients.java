package dev.flock.room;

import io.vertx.core.Context;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A room's local connections grouped by event loop. Each group is an immutable array replaced on every
 * join or leave (rare), so a fan-out hands the current array to the loop without copying (frequent).
 */
final class Recipients {

    /** One local connection and the user it belongs to, so the sender's own connections can be skipped. */
    record Entry(Peer peer, String userId) {
    }

    record Group(Context context, Entry[] entries) {
    }

    private final List<Group> groups = new ArrayList<>(2);

    void add(Peer peer, String userId) {
        for (int i = 0; i < groups.size(); i++) {
            Group g = groups.get(i);
            if (g.context() == peer.context()) {
                Entry[] next = Arrays.copyOf(g.entries(), g.entries().length + 1);
                next[next.length - 1] = new Entry(peer, userId);
                groups.set(i, new Group(g.context(), next));
                return;
            }
        }
        groups.add(new Group(peer.context(), new Entry[]{new Entry(peer, userId)}));
    }

    void remove(Peer peer) {
        for (int i = 0; i < groups.size(); i++) {
            Group g = groups.get(i);
            if (g.context() != peer.context()) {
                continue;
            }
            Entry[] next = Arrays.stream(g.entries()).filter(e -> e.peer() != peer).toArray(Entry[]::new);
            if (next.length == 0) {
                groups.remove(i);
            } else {
                groups.set(i, new Group(g.context(), next));
            }
            return;
        }
    }

    List<Group> groups() {
        return groups;
    }
}
