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
    ROOM_CLOSED
}
