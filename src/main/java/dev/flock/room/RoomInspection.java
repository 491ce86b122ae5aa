package dev.flock.room;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/** A read-only picture of one room, for operators. */
public record RoomInspection(String roomId, List<MemberInspection> members) {

    /**
     * {@code connections} counts this user's local sockets, {@code verifiedConnections} those of them that proved the
     * user with a signed token; {@code lastCursorAt} is 0 without a cursor; {@code reconnecting}: present only by a
     * reconnect grace (its connection ended without a goodbye, and it has not come back yet); {@code fleetConnections}
     * counts the user's connections on every instance (in memory mode, the same as {@code connections}); {@code cursor}
     * is the last one, or null.
     */
    public record MemberInspection(String userId, ObjectNode metadata, long joinedAt, int connections,
                                   int verifiedConnections, long lastCursorAt, boolean reconnecting, int fleetConnections,
                                   dev.flock.protocol.ServerMessage.Cursor cursor) {

        /** This member with the local facts (join time, sockets, a grace) of {@code local}, which Redis does not hold. */
        public MemberInspection withLocal(MemberInspection local) {
            return new MemberInspection(userId, metadata, local.joinedAt, local.connections, local.verifiedConnections,
                    lastCursorAt, local.reconnecting || reconnecting, fleetConnections, cursor);
        }

        /**
         * Whether the user proved who they are with a signed token on every connection; null when that is unknown (some
         * of their connections are on other instances, which keep tokens to themselves).
         */
        public Boolean verified() {
            if (connections == 0 || connections < fleetConnections) {
                return null;
            }
            return verifiedConnections == connections;
        }
    }
}
