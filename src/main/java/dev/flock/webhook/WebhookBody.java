package dev.flock.webhook;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.protocol.ProtocolCodec;

import java.io.IOException;
import java.util.List;

/**
 * A webhook request's body: {@code {"id": <delivery id>, "time_ms": <when sent first>, "events": [{"id", "type",
 * "roomId", "userId"?, "reason"?, "metadata"?, "time_ms"}]}} (docs/PROTOCOL.md). Written once per delivery: a retry
 * sends the same bytes under a new signature timestamp.
 */
final class WebhookBody {

    private WebhookBody() {
    }

    static byte[] of(String deliveryId, long timeMs, List<WebhookEvent> events) {
        ObjectNode root = ProtocolCodec.MAPPER.createObjectNode();
        root.put("id", deliveryId);
        root.put("time_ms", timeMs);
        ArrayNode list = root.putArray("events");
        for (WebhookEvent e : events) {
            ObjectNode o = list.addObject();
            o.put("id", e.id());
            o.put("type", e.type().wire());
            o.put("roomId", e.roomId());
            if (e.userId() != null) {
                o.put("userId", e.userId());
            }
            if (e.reason() != null) {
                o.put("reason", e.reason().wire());
            }
            if (e.metadata() != null) {
                o.set("metadata", e.metadata());
            }
            o.put("time_ms", e.timeMs());
        }
        try {
            return ProtocolCodec.MAPPER.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException("a tree of strings and numbers always serializes", e);
        }
    }
}
