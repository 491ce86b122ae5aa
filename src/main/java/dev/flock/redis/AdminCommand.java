package dev.flock.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.protocol.ProtocolCodec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * An operator command on the control channel {@code flock:admin}:
 * {@code {"instanceId":"<uuid>","action":"close-room","roomId":"..."}}, {@code {"instanceId":...,"action":"close-all"}}
 * or {@code {"instanceId":...,"action":"kick","roomId":"...","userId":"..."}}.
 *
 * @param roomId the room for {@link #CLOSE_ROOM} and {@link #KICK}; null for {@link #CLOSE_ALL}
 * @param userId the user for {@link #KICK}, else null
 */
public record AdminCommand(String instanceId, String action, String roomId, String userId) {

    public static final String CLOSE_ROOM = "close-room";
    public static final String CLOSE_ALL = "close-all";
    public static final String KICK = "kick";

    byte[] toJson() {
        ObjectNode o = ProtocolCodec.MAPPER.createObjectNode().put("instanceId", instanceId).put("action", action);
        if (roomId != null) {
            o.put("roomId", roomId);
        }
        if (userId != null) {
            o.put("userId", userId);
        }
        return o.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Null unless the payload is a well-formed command with a known action. */
    static AdminCommand parse(byte[] payload) {
        JsonNode root;
        try {
            root = ProtocolCodec.MAPPER.readTree(payload);
        } catch (IOException e) {
            return null;
        }
        if (root == null || !root.path("instanceId").isTextual() || !root.path("action").isTextual()) {
            return null;
        }
        String action = root.get("action").asText();
        String roomId = root.path("roomId").isTextual() ? root.get("roomId").asText() : null;
        String userId = root.path("userId").isTextual() ? root.get("userId").asText() : null;
        boolean hasRoom = roomId != null && !roomId.isEmpty();
        boolean valid = CLOSE_ALL.equals(action) || (CLOSE_ROOM.equals(action) && hasRoom)
                || (KICK.equals(action) && hasRoom && userId != null && !userId.isEmpty());
        return valid ? new AdminCommand(root.get("instanceId").asText(), action, roomId, KICK.equals(action) ? userId : null)
                : null;
    }
}
