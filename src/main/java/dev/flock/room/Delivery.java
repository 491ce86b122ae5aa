package dev.flock.room;

/**
 * How a room's bytes reach its local connections: the room says "these bytes, to these peers, of this kind"; the
 * transport that owns the sockets implements it (framing once, one task per event loop, the flush policy). The
 * room never sees a socket, a frame or an event loop.
 */
public interface Delivery {

    /** A new, empty set of local connections; the implementation may group them as it likes to send to them. */
    Audience newAudience();

    /**
     * Sends one encoded message (UTF-8 JSON) to every connection in {@code audience} except those of
     * {@code excludedUserId} (null = nobody). {@code receivedNanos} > 0 records, once per broadcast, the time from
     * the triggering frame's arrival ({@link System#nanoTime()}) to the write to the last local recipient: as a
     * cursor delivery for {@link DeliveryKind#CURSOR}, as a presence delivery otherwise.
     */
    void broadcast(Audience audience, byte[] json, DeliveryKind kind, String aboutUserId, String excludedUserId,
                   long receivedNanos);

    /** Sends one encoded message to one connection, then runs {@code after} (may be null) on that connection's loop. */
    void send(Peer peer, byte[] json, Runnable after);

    /** Runs {@code action} on the connection's own loop. */
    void run(Peer peer, Runnable action);

    /** Local connections of a room, each with the user it belongs to (so a sender's own tabs can be skipped). */
    interface Audience {

        void add(Peer peer, String userId);

        void remove(Peer peer);

        boolean isEmpty();
    }
}
