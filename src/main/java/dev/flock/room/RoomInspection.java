package dev.flock.room;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/** A read-only picture of one room, for operators. */
public record RoomInspection(String roomId, List<MemberInspection> members) {

    /**
     * {@code connections} counts this user's local sockets, {@code verifiedConnections} those of them that proved the
     * user with a signed token; {@code lastCursorAt} is 0 without a cursor; {@code reconnecting}: present only by a
     * reconnect grace of this instance (its connection ended without a goodbye, and it has not come back yet).
     */
    public record MemberInspection(String userId, ObjectNode metadata, long joinedAt, int connections,
                                   int verifiedConnections, long lastCursorAt, boolean reconnecting) {

        /** This member with the local facts (join time, sockets, a grace) of {@code local}, which Redis does not hold. */
        public MemberInspection withLocal(MemberInspection local) {
            return new MemberInspection(userId, metadata, local.joinedAt, local.connections, local.verifiedConnections,
                    lastCursorAt, local.reconnecting);
        }
    }
}
