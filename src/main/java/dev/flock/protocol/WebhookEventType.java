package dev.flock.protocol;

import java.util.Locale;

/** What a webhook event reports (issue 19); {@link #wire()} is the {@code type} in the body and in FLOCK_WEBHOOK_EVENTS. */
public enum WebhookEventType {
    /** A room got its first user, fleet-wide. */
    ROOM_OCCUPIED,
    /** A room lost its last user, fleet-wide. */
    ROOM_VACATED,
    /** A user became present in a room (their first connection, fleet-wide). */
    USER_JOINED,
    /** A user stopped being present in a room (their last connection, fleet-wide), with a {@link LeaveReason}. */
    USER_LEFT,
    /** A user's metadata changed (a client's or the server API's patch); off unless listed. */
    PRESENCE_UPDATED;

    private final String wire = name().toLowerCase(Locale.ROOT).replaceFirst("_", ".");

    public String wire() {
        return wire;
    }

    /** The type named {@code wire} ({@code user.left}), or null. */
    public static WebhookEventType of(String wire) {
        for (WebhookEventType t : values()) {
            if (t.wire.equals(wire)) {
                return t;
            }
        }
        return null;
    }
}
