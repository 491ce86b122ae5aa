package dev.flock.identity;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.protocol.ErrorCode;

import java.util.Iterator;

/**
 * What a verified token says about its connection: who the user is, where they may go, what the server asserts
 * about them, where they may only watch, and until when. A connection without a token has no {@code Identity}.
 *
 * @param rooms           the rooms this user may join; null = any room
 * @param meta            metadata the app's backend asserts; merged over every join's, never changed by a patch;
 *                        read only (tokens without meta share one empty node)
 * @param readonly        rooms where this user is present but sends no cursor or presence
 * @param expiresAtMillis epoch ms past which (with the leeway) new joins are refused; {@link Long#MAX_VALUE} = never
 */
public record Identity(String userId, RoomPatterns rooms, ObjectNode meta, RoomPatterns readonly, long expiresAtMillis) {

    /** Why a join on this connection may not go ahead. */
    public record JoinRefusal(ErrorCode code, String message) {
    }

    /**
     * Checks a join. {@code holdsRoom}: the connection is already in (or was admitted to) that room, which an
     * expired token keeps.
     */
    public JoinRefusal refuses(String roomId, String joinUserId, boolean holdsRoom, long nowMillis) {
        if (!userId.equals(joinUserId)) {
            return new JoinRefusal(ErrorCode.FORBIDDEN, "this connection's token is for another userId");
        }
        if (rooms != null && !rooms.matches(roomId)) {
            return new JoinRefusal(ErrorCode.FORBIDDEN, "this connection's token does not grant this room");
        }
        if (!holdsRoom && nowMillis >= expiresAtMillis) {
            return new JoinRefusal(ErrorCode.TOKEN_EXPIRED, "this connection's token has expired; reconnect with a new one to join rooms");
        }
        return null;
    }

    public boolean readOnlyIn(String roomId) {
        return readonly.matches(roomId);
    }

    /** The join's metadata with the asserted fields laid over it, as a new object. */
    public ObjectNode asserted(ObjectNode joinMetadata) {
        if (meta.isEmpty()) {
            return joinMetadata;
        }
        ObjectNode out = joinMetadata.deepCopy();
        out.setAll(meta);
        return out;
    }

    /** The patch without the asserted fields (which no patch may change or remove); the patch itself if none. */
    public ObjectNode unlocked(ObjectNode patch) {
        if (meta.isEmpty()) {
            return patch;
        }
        ObjectNode out = null;
        for (Iterator<String> it = patch.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (meta.has(key)) {
                if (out == null) {
                    out = patch.deepCopy();
                }
                out.remove(key);
            }
        }
        return out == null ? patch : out;
    }
}
