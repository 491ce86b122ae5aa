package dev.flock.redis;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.protocol.ServerMessage;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The pub/sub payload of the original server: {@code {"instanceId":"<uuid>","message":<server message>}}.
 * Published bytes reuse the message exactly as it was encoded for local delivery (encoded once); received
 * envelopes are read with the streaming parser, and a cursor update keeps its bytes so the receiving room
 * frames them as they are instead of encoding them again.
 */
final class Envelope {

    /** Larger messages are re-encoded rather than passed through (a cursor update is ~150 bytes). */
    static final int MAX_PASS_THROUGH_BYTES = 1024;

    /**
     * A received envelope: who sent it, the room its message names, the event (null when it is not one we
     * apply) and, for cursor updates, the message's own bytes (null: encode it again).
     */
    record Received(String instanceId, String roomId, ServerMessage message, byte[] encoded) {
    }

    private final byte[] head;

    Envelope(String instanceId) {
        this.head = ("{\"instanceId\":\"" + instanceId + "\",\"message\":").getBytes(StandardCharsets.UTF_8);
    }

    byte[] wrap(byte[] message) {
        byte[] out = new byte[head.length + message.length + 1];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(message, 0, out, head.length, message.length);
        out[out.length - 1] = '}';
        return out;
    }

    /**
     * Our own echo, recognised by the exact bytes we wrap every message in: Redis sends each publish back to
     * its publisher too, and skipping those without a copy or a parse halves the receive work.
     */
    boolean isOwn(Buffer payload) {
        if (payload.length() < head.length) {
            return false;
        }
        for (int i = 0; i < head.length; i++) {
            if (payload.getByte(i) != head[i]) {
                return false;
            }
        }
        return true;
    }

    /** Null when the payload is not an envelope at all. */
    static Received unwrap(byte[] payload) {
        try (JsonParser p = ProtocolCodec.MAPPER.createParser(payload)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            String instanceId = null;
            MessageFields m = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if ("instanceId".equals(name) && t == JsonToken.VALUE_STRING) {
                    instanceId = p.getText();
                } else if ("message".equals(name) && t == JsonToken.START_OBJECT) {
                    int start = (int) p.currentTokenLocation().getByteOffset();
                    m = MessageFields.read(p);
                    int end = (int) p.currentLocation().getByteOffset();
                    m.start = start;
                    m.end = end;
                } else {
                    p.skipChildren();
                }
            }
            if (m == null) {
                return new Received(instanceId, null, null, null);
            }
            ServerMessage message = m.toMessage();
            byte[] encoded = message instanceof ServerMessage.CursorUpdated && m.end > m.start
                    && m.end - m.start <= MAX_PASS_THROUGH_BYTES && m.end <= payload.length && payload[m.start] == '{'
                    && payload[m.end - 1] == '}' ? Arrays.copyOfRange(payload, m.start, m.end) : null;
            return new Received(instanceId, m.roomId, message, encoded);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The fields of a room event that we read; anything else in it is skipped. */
    private static final class MessageFields {
        String type;
        String roomId;
        String userId;
        JsonNode metadata;
        Double x;
        Double y;
        Long timestamp;
        int start;
        int end;

        /** Reads from just after the message's START_OBJECT through its END_OBJECT. */
        static MessageFields read(JsonParser p) throws IOException {
            MessageFields f = new MessageFields();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                switch (name) {
                    case "type" -> f.type = text(p, t);
                    case "roomId" -> f.roomId = text(p, t);
                    case "userId" -> f.userId = text(p, t);
                    case "metadata" -> f.metadata = ProtocolCodec.MAPPER.readTree(p);
                    case "timestamp" -> f.timestamp = t.isNumeric() ? p.getLongValue() : skip(p, null);
                    case "position" -> f.position(p, t);
                    default -> p.skipChildren();
                }
            }
            return f;
        }

        private void position(JsonParser p, JsonToken t) throws IOException {
            if (t != JsonToken.START_OBJECT) {
                p.skipChildren();
                return;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (v.isNumeric() && ("x".equals(name) || "y".equals(name))) {
                    double d = p.getDoubleValue();
                    if ("x".equals(name)) {
                        x = d;
                    } else {
                        y = d;
                    }
                } else {
                    p.skipChildren();
                }
            }
        }

        ServerMessage toMessage() {
            if (type == null || roomId == null || userId == null) {
                return null;
            }
            return switch (type) {
                case "user:joined" -> new ServerMessage.UserJoined(roomId, userId, object(metadata));
                case "user:left" -> new ServerMessage.UserLeft(roomId, userId);
                case "cursor:updated" -> x == null || y == null || !Double.isFinite(x) || !Double.isFinite(y) ? null
                        : new ServerMessage.CursorUpdated(roomId, userId, x, y,
                                timestamp != null ? timestamp : System.currentTimeMillis());
                case "cursor:removed" -> new ServerMessage.CursorRemoved(roomId, userId);
                case "presence:updated" -> new ServerMessage.PresenceUpdated(roomId, userId, object(metadata));
                default -> null;
            };
        }

        private static String text(JsonParser p, JsonToken t) throws IOException {
            return t == JsonToken.VALUE_STRING ? p.getText() : skip(p, null);
        }

        private static <T> T skip(JsonParser p, T value) throws IOException {
            p.skipChildren();
            return value;
        }

        private static ObjectNode object(JsonNode n) {
            return n instanceof ObjectNode o ? o : ProtocolCodec.MAPPER.createObjectNode();
        }
    }
}
