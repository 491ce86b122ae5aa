package dev.flock.room;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.protocol.ServerMessage;

import java.util.ArrayList;
import java.util.List;

/** A user present in the room, with their local connections (none: present on another instance only). */
final class Member {

    final String userId;
    final long joinedAt;
    final List<Peer> peers = new ArrayList<>(1);
    ObjectNode metadata;
    ServerMessage.Cursor cursor;
    /** The instance whose publish set {@link #cursor}; null when it was set here (a local move, or a store snapshot). */
    String cursorSource;

    Member(String userId, ObjectNode metadata, long joinedAt) {
        this.userId = userId;
        this.metadata = metadata;
        this.joinedAt = joinedAt;
    }

    boolean local() {
        return !peers.isEmpty();
    }

    /**
     * Whether a cursor move published by {@code source} at {@code timestamp} (its instance's clock) is the user's
     * latest. Moves from one source arrive in order (one channel) and always are. Moves from two sources (two tabs of
     * one user on two instances, or a local tab and a remote one) race: each instance holds its publishes for a
     * batch, so an older move can arrive after a newer one, and would otherwise roll the cursor back in snapshots and
     * on screens; the later timestamp wins (instances' clocks are assumed to agree within a move's interval).
     */
    boolean isLatestCursor(long timestamp, String source) {
        return cursor == null || java.util.Objects.equals(source, cursorSource) || timestamp >= cursor.timestamp();
    }
}
