package dev.flock.protocol;

import java.util.Locale;

/**
 * Why a user left a room, as {@code user.left} reports it. The store that decides "this was the user's last
 * connection" is told the reason with the removal, so the event it records in the same step carries it.
 */
public enum LeaveReason {
    /** The client sent {@code leave}. */
    LEFT,
    /** The socket closed (cleanly, or without a goodbye and nobody came back within the reconnect grace). */
    CLOSED,
    /** The presence expired: no message for the TTL, or the instance holding it died and a survivor swept it. */
    EXPIRED,
    /** The server API kicked the user. */
    KICKED,
    /** An operator (dashboard, admin API or server API) closed the room. */
    CLOSED_BY_ADMIN;

    private final String wire = name().toLowerCase(Locale.ROOT);

    public String wire() {
        return wire;
    }
}
