package dev.flock.protocol;

/** The {@code code} of an {@code error} message. */
public enum ErrorCode {
    INVALID_API_KEY,
    ROOM_FULL,
    RATE_LIMITED,
    INTERNAL_ERROR,
    /** Extension: malformed input. */
    INVALID_MESSAGE,
    /** Extension: an operator closed the room. */
    ROOM_CLOSED,
    /** Extension: the connection's token does not allow this (another userId, a room it does not grant, read-only). */
    FORBIDDEN,
    /** Extension: the connection's token expired; it keeps its rooms, but joins no new one. */
    TOKEN_EXPIRED,
    /** Extension: the app's backend removed the user from the room (server API); only a new join re-admits. */
    KICKED
}
