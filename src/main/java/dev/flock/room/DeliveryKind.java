package dev.flock.room;

/** How a frame leaves: batched or at once, and whether a slow recipient may coalesce it. */
public enum DeliveryKind {
    /** {@code cursor:updated}: batched; a slow recipient keeps only the latest per sender. */
    CURSOR,
    /** {@code cursor:removed} / {@code user:left}: flushed at once; drops the sender's pending cursor, so no ghost. */
    CURSOR_END,
    /** Joins, presence, acks and errors: never dropped, flushed at once. */
    EVENT
}
