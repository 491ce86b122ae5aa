package dev.flock.room;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/** A read-only picture of one room, for operators. */
public record RoomInspection(String roomId, List<MemberInspection> members) {

    /** {@code connections} counts this user's local sockets; {@code lastCursorAt} is 0 without a cursor. */
    public record MemberInspection(String userId, ObjectNode metadata, long joinedAt, int connections, long lastCursorAt) {
    }
}
