package dev.flock.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.protocol.ProtocolCodec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * An operator command on the control channel {@code flock:admin}:
 * {@code {"instanceId":"<uuid>","action":"close-room","roomId":"..."}} or {@code {"instanceId":...,"action":"close-all"}}.
 *
 * @param roomId the room for {@link #CLOSE_ROOM}; null for {@link #CLOSE_ALL}
 */
public record AdminCommand(String instanceId, String action, String roomId) {

    public static final String CLOSE_ROOM = "close-room";
    public static final String CLOSE_ALL = "close-all";

    byte[] toJson() {
        ObjectNode o = ProtocolCodec.MAPPER.createObjectNode().put("instanceId", instanceId).put("action", action);
        if (roomId != null) {
            o.put("roomId", roomId);
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
        boolean valid = CLOSE_ALL.equals(action) || (CLOSE_ROOM.equals(action) && roomId != null && !roomId.isEmpty());
        return valid ? new AdminCommand(root.get("instanceId").asText(), action, roomId) : null;
    }
}
