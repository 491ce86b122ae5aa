package dev.flock.protocol;

/**
 * Input that breaks the protocol. {@code roomId} is set when the message named a valid room, so the
 * error can be routed to that room alone. No stack trace: this is a client's mistake, not ours.
 */
public final class InvalidMessage extends Exception {

    private final String roomId;

    public InvalidMessage(String message, String roomId) {
        super(message, null, false, false);
        this.roomId = roomId;
    }

    public String roomId() {
        return roomId;
    }
}
