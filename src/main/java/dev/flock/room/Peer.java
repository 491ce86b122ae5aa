package dev.flock.room;

/**
 * A local connection as a room sees it. The room calls these methods only through {@link Delivery} (which runs them
 * on the connection's own event loop), so a connection's state is never touched by two threads.
 */
public interface Peer {

    /** Unique on this instance; with the instance id, unique in the fleet. */
    long id();

    /** The connection proved its user with a signed token (issue 18); false for an anonymous one. */
    default boolean verified() {
        return false;
    }

    /** The room admitted or refused the join with sequence number {@code seq}. */
    void joinResult(String roomId, long seq, JoinResult result);

    /** The room removed this peer for a reason of its own (not a leave the peer asked for). */
    void removed(String roomId, Removal reason);

    enum JoinResult { ADMITTED, ROOM_FULL, REJECTED }

    enum Removal {
        /** {@code evict} mode: the same user joined from another connection; the peer closes its socket. */
        SUPERSEDED,
        /** An operator closed the room; only a new join re-admits. */
        CLOSED_BY_OPERATOR,
        /** The server API kicked the user from the room; only a new join re-admits. */
        KICKED
    }
}
