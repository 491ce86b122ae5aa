package dev.flock.room;

import dev.flock.protocol.ClientMessage;

/** What a connection (or an operator) asks of a room verticle, sent over the event bus with a local codec. */
public sealed interface RoomCommand {

    /** A join (new, or re-admitting an expired or refused connection); {@code seq} matches the answer to it. */
    record Join(Peer peer, long seq, ClientMessage.Join join) implements RoomCommand {
    }

    /**
     * A heartbeat, cursor move, cursor leave, presence update or leave from an admitted connection.
     * {@code receivedNanos} is when its frame arrived, for the delivery duration meter; 0 for the messages that do not
     * fan out a frame of their own (heartbeat, cursor leave, leave), which are not timed.
     */
    record Relay(Peer peer, ClientMessage message, long receivedNanos) implements RoomCommand {
        /** Built where the frame is read, so "now" is its arrival: one clock read per frame that fans out. */
        public Relay(Peer peer, ClientMessage message) {
            this(peer, message, message instanceof ClientMessage.CursorMove || message instanceof ClientMessage.PresenceUpdate
                    ? System.nanoTime() : 0);
        }
    }

    /** The connection sent nothing for this room for the TTL. */
    record Expire(Peer peer) implements RoomCommand {
    }

    /**
     * The connection's socket closed. {@code graced}: it ended without a clean goodbye (no close frame from the
     * client, a close code other than 1000, 1001 and 1005, or a server restart's 4001), so its rooms keep the user for
     * the reconnect grace.
     */
    record Disconnect(Peer peer, boolean graced) implements RoomCommand {
        public Disconnect(Peer peer) {
            this(peer, false);
        }
    }

    /** The reconnect grace of this connection of {@code userId} is over. */
    record GraceEnded(String userId, String connectionId) implements RoomCommand {
    }

    /** An operator closes the room: every member gets ROOM_CLOSED and leaves. Replies the number of users removed. */
    record Close(String reason) implements RoomCommand {
    }

    /**
     * An event another instance published for this room (Redis mode). {@code encoded}, when not null, is the
     * event's JSON exactly as published, delivered as it is instead of being encoded again. {@code publisher}: the
     * publishing instance's id, or null.
     */
    record Remote(dev.flock.protocol.ServerMessage message, byte[] encoded, String publisher) implements RoomCommand {
    }

    /** Redis mode: remove members whose presence expired ({@code userId} null = check all of the room). */
    record Sweep(String userId) implements RoomCommand {
    }

    /** Redis mode, after (re)connecting: re-write local presence, then reconcile the room with Redis. */
    record Resync() implements RoomCommand {
    }

    /**
     * Redis mode, a grace period after a reconcile: these remote users were missing from Redis then; the ones
     * still missing now have really gone (the others' instances had just not re-written them yet).
     */
    record Recheck(java.util.Set<String> userIds) implements RoomCommand {
    }

    /**
     * The server API kicks a user (issue 19): their connections here get {@code KICKED} and leave the room, their
     * reconnect graces here end. Replies the number of connections kicked.
     */
    record Kick(String userId) implements RoomCommand {
    }

    /**
     * The server API patches a user's metadata (issue 19), merged and broadcast as a client's {@code presence:update}
     * is. Replies the merged metadata; fails with {@link #NOT_PRESENT} or {@link #TOO_LARGE}.
     */
    record ServerPatch(String userId, com.fasterxml.jackson.databind.node.ObjectNode patch) implements RoomCommand {
        public static final int NOT_PRESENT = 404;
        public static final int TOO_LARGE = 413;
    }

    /** An operator reads the room. Replies a {@link RoomInspection}. */
    record Inspect() implements RoomCommand {
    }
}
