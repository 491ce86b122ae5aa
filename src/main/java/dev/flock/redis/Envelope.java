package dev.flock.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.protocol.ServerMessage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The pub/sub payload of the original server: {@code {"instanceId":"<uuid>","message":<server message>}}.
 * Published bytes reuse the message exactly as it was encoded for local delivery (encoded once).
 */
final class Envelope {

    private static final byte[] TAIL = {'}'};

    /** A received envelope: who sent it and the room event it carries (null when it is not one we apply). */
    record Received(String instanceId, String roomId, ServerMessage message) {
    }

    private final byte[] head;

    Envelope(String instanceId) {
        this.head = ("{\"instanceId\":\"" + instanceId + "\",\"message\":").getBytes(StandardCharsets.UTF_8);
    }

    byte[] wrap(byte[] message) {
        byte[] out = new byte[head.length + message.length + TAIL.length];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(message, 0, out, head.length, message.length);
        out[out.length - 1] = '}';
        return out;
    }

    /**
     * Our own echo, recognised by the exact bytes we wrap every message in: Redis sends each publish back to
     * its publisher too, and skipping those without a parse halves the receive work.
     */
    boolean isOwn(byte[] payload) {
        return payload.length >= head.length && java.util.Arrays.equals(payload, 0, head.length, head, 0, head.length);
    }

    /** Null when the payload is not an envelope at all. */
    static Received unwrap(byte[] payload) {
        JsonNode root;
        try {
            root = ProtocolCodec.MAPPER.readTree(payload);
        } catch (IOException e) {
            return null;
        }
        if (root == null || !root.isObject()) {
            return null;
        }
        JsonNode id = root.get("instanceId");
        JsonNode message = root.get("message");
        return new Received(id == null ? null : id.asText(), message == null ? null : text(message, "roomId"),
                message == null ? null : toMessage(message));
    }

    private static ServerMessage toMessage(JsonNode m) {
        String type = text(m, "type");
        String roomId = text(m, "roomId");
        String userId = text(m, "userId");
        if (type == null || roomId == null || userId == null) {
            return null;
        }
        return switch (type) {
            case "user:joined" -> new ServerMessage.UserJoined(roomId, userId, object(m.get("metadata")));
            case "user:left" -> new ServerMessage.UserLeft(roomId, userId);
            case "cursor:updated" -> {
                JsonNode p = m.get("position");
                if (p == null || !p.path("x").isNumber() || !p.path("y").isNumber()) {
                    yield null;
                }
                long ts = m.path("timestamp").isNumber() ? m.get("timestamp").asLong() : System.currentTimeMillis();
                yield new ServerMessage.CursorUpdated(roomId, userId, p.get("x").asDouble(), p.get("y").asDouble(), ts);
            }
            case "cursor:removed" -> new ServerMessage.CursorRemoved(roomId, userId);
            case "presence:updated" -> new ServerMessage.PresenceUpdated(roomId, userId, object(m.get("metadata")));
            default -> null;
        };
    }

    private static String text(JsonNode m, String field) {
        JsonNode n = m.get(field);
        return n != null && n.isTextual() ? n.asText() : null;
    }

    private static ObjectNode object(JsonNode n) {
        return n instanceof ObjectNode o ? o : ProtocolCodec.MAPPER.createObjectNode();
    }
}
