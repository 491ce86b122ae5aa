package dev.flock.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one codec of the wire protocol: parses a client frame once with Jackson's streaming parser,
 * validates it, and encodes server messages to UTF-8 JSON bytes.
 */
public final class ProtocolCodec {

    /** Deep enough for any sane metadata, shallow enough that a nesting bomb is refused cheaply. */
    private static final int MAX_NESTING_DEPTH = 32;

    public static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build())
            .build());

    /**
     * One growable buffer per thread (event loops only ever encode one message at a time), so encoding a
     * fan-out allocates only its exact-size result, not the builder's growing chunks.
     */
    private static final ThreadLocal<ByteArrayBuilder> ENCODE_BUFFER = ThreadLocal.withInitial(() -> new ByteArrayBuilder(1024));

    private final Limits limits;

    public ProtocolCodec(Limits limits) {
        this.limits = limits;
    }

    public Limits limits() {
        return limits;
    }

    /** Parses and validates one text frame. */
    public ClientMessage decode(String text) throws InvalidMessage {
        Fields f = new Fields();
        try (JsonParser p = MAPPER.createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new InvalidMessage("a message must be a JSON object", null);
            }
            readFields(p, f);
            if (p.nextToken() != null) {
                throw new InvalidMessage("trailing data after the JSON object", null);
            }
        } catch (JsonProcessingException e) {
            throw new InvalidMessage("malformed JSON: " + e.getOriginalMessage(), null);
        } catch (IOException e) {
            throw new InvalidMessage("unreadable message", null);
        }
        return toMessage(f);
    }

    /** Raw fields of a client message; a field with the wrong JSON type is recorded as a problem. */
    private static final class Fields {
        Object type;
        Object roomId;
        Object userId;
        Object apiKey;
        JsonNode metadata;
        JsonNode position;
    }

    private static void readFields(JsonParser p, Fields f) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken t = p.nextToken();
            switch (name) {
                case "type" -> f.type = scalar(p, t);
                case "roomId" -> f.roomId = scalar(p, t);
                case "userId" -> f.userId = scalar(p, t);
                case "apiKey" -> f.apiKey = scalar(p, t);
                case "metadata" -> f.metadata = MAPPER.readTree(p);
                case "position" -> f.position = MAPPER.readTree(p);
                default -> p.skipChildren();
            }
        }
    }

    /** A string value, or a marker object naming the wrong JSON type. */
    private static Object scalar(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_STRING) {
            return p.getText();
        }
        p.skipChildren();
        return t == JsonToken.VALUE_NULL ? null : WrongType.INSTANCE;
    }

    private enum WrongType { INSTANCE }

    private ClientMessage toMessage(Fields f) throws InvalidMessage {
        if (f.type == null) {
            throw new InvalidMessage("missing field \"type\"", null);
        }
        if (!(f.type instanceof String type)) {
            throw new InvalidMessage("field \"type\" must be a string", null);
        }
        if (!isKnownType(type)) {
            throw new InvalidMessage("unknown type \"" + printable(type) + "\"", null);
        }
        String roomId = id(f.roomId, "roomId", null);
        return switch (type) {
            case "join" -> new ClientMessage.Join(roomId, id(f.userId, "userId", roomId),
                    metadata(f.metadata, roomId), apiKey(f.apiKey, roomId));
            case "heartbeat" -> new ClientMessage.Heartbeat(roomId);
            case "cursor:move" -> cursorMove(f.position, roomId);
            case "cursor:leave" -> new ClientMessage.CursorLeave(roomId);
            case "presence:update" -> new ClientMessage.PresenceUpdate(roomId, metadata(f.metadata, roomId));
            case "leave" -> new ClientMessage.Leave(roomId);
            default -> throw new IllegalStateException(type);
        };
    }

    private static boolean isKnownType(String type) {
        return switch (type) {
            case "join", "heartbeat", "cursor:move", "cursor:leave", "presence:update", "leave" -> true;
            default -> false;
        };
    }

    /** Checks an id from elsewhere (a token's {@code sub}) by the same rule as the protocol's ids. */
    public String validId(Object raw, String field) throws InvalidMessage {
        return id(raw, field, null);
    }

    /** Ids: 1..maxIdLength characters of Unicode text (see {@link ValidUnicode}), no control characters, compared exactly. */
    private String id(Object raw, String field, String roomId) throws InvalidMessage {
        if (raw == null) {
            throw new InvalidMessage("missing field \"" + field + "\"", roomId);
        }
        if (!(raw instanceof String s)) {
            throw new InvalidMessage("field \"" + field + "\" must be a string", roomId);
        }
        if (s.isEmpty()) {
            throw new InvalidMessage("field \"" + field + "\" must not be empty", roomId);
        }
        if (s.length() > limits.maxIdLength()) {
            throw new InvalidMessage("field \"" + field + "\" is longer than " + limits.maxIdLength() + " characters", roomId);
        }
        for (int i = 0; i < s.length(); i++) {
            if (Character.isISOControl(s.charAt(i))) {
                throw new InvalidMessage("field \"" + field + "\" contains a control character", roomId);
            }
        }
        String notUnicode = ValidUnicode.problem(s);
        if (notUnicode != null) {
            throw new InvalidMessage("field \"" + field + "\" is not valid Unicode: it contains " + notUnicode, roomId);
        }
        return s;
    }

    private static String apiKey(Object raw, String roomId) throws InvalidMessage {
        if (raw == null || raw instanceof String) {
            return (String) raw;
        }
        throw new InvalidMessage("field \"apiKey\" must be a string", roomId);
    }

    /** Join and presence:update both carry a metadata object (the SDK always sends one). */
    private ObjectNode metadata(JsonNode node, String roomId) throws InvalidMessage {
        if (node == null) {
            throw new InvalidMessage("missing field \"metadata\"", roomId);
        }
        if (!(node instanceof ObjectNode obj)) {
            throw new InvalidMessage("field \"metadata\" must be an object", roomId);
        }
        if (serializedSize(obj) > limits.maxMetadataBytes()) {
            throw new InvalidMessage("metadata is larger than " + limits.maxMetadataBytes() + " bytes", roomId);
        }
        return obj;
    }

    private static ClientMessage cursorMove(JsonNode position, String roomId) throws InvalidMessage {
        if (position == null || !position.isObject()) {
            throw new InvalidMessage("field \"position\" must be an object {x, y}", roomId);
        }
        JsonNode x = position.get("x");
        JsonNode y = position.get("y");
        if (x == null || y == null || !x.isNumber() || !y.isNumber()) {
            throw new InvalidMessage("position.x and position.y must be numbers", roomId);
        }
        double dx = x.doubleValue();
        double dy = y.doubleValue();
        if (!Double.isFinite(dx) || !Double.isFinite(dy)) {
            throw new InvalidMessage("position.x and position.y must be finite numbers", roomId);
        }
        return new ClientMessage.CursorMove(roomId, dx, dy);
    }

    /** Length of the compact UTF-8 serialization, which is what the metadata limit counts. */
    public static int serializedSize(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node).length;
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String printable(String s) {
        String cut = s.length() > 40 ? s.substring(0, 40) + "…" : s;
        StringBuilder b = new StringBuilder(cut.length());
        for (int i = 0; i < cut.length(); i++) {
            char c = cut.charAt(i);
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        return b.toString();
    }

    /** Encodes a server message to compact UTF-8 JSON. */
    public static byte[] encode(ServerMessage message) {
        ByteArrayBuilder out = ENCODE_BUFFER.get();
        try (JsonGenerator g = MAPPER.createGenerator(out)) {
            g.writeStartObject();
            write(g, message);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] bytes = out.toByteArray();
        out.reset();
        return bytes;
    }

    private static void write(JsonGenerator g, ServerMessage message) throws IOException {
        if (message instanceof ServerMessage.JoinAck m) {
            head(g, "join:ack", m.roomId());
            g.writeArrayFieldStart("users");
            for (ServerMessage.UserSnapshot u : m.users()) {
                g.writeStartObject();
                g.writeStringField("userId", u.userId());
                g.writeFieldName("metadata");
                MAPPER.writeTree(g, u.metadata());
                if (u.cursor() != null) {
                    g.writeObjectFieldStart("cursor");
                    g.writeNumberField("x", u.cursor().x());
                    g.writeNumberField("y", u.cursor().y());
                    g.writeEndObject();
                }
                g.writeEndObject();
            }
            g.writeEndArray();
        } else if (message instanceof ServerMessage.UserJoined m) {
            head(g, "user:joined", m.roomId());
            g.writeStringField("userId", m.userId());
            g.writeFieldName("metadata");
            MAPPER.writeTree(g, m.metadata());
        } else if (message instanceof ServerMessage.UserLeft m) {
            head(g, "user:left", m.roomId());
            g.writeStringField("userId", m.userId());
        } else if (message instanceof ServerMessage.CursorUpdated m) {
            head(g, "cursor:updated", m.roomId());
            g.writeStringField("userId", m.userId());
            g.writeObjectFieldStart("position");
            g.writeNumberField("x", m.x());
            g.writeNumberField("y", m.y());
            g.writeEndObject();
            g.writeNumberField("timestamp", m.timestamp());
        } else if (message instanceof ServerMessage.CursorRemoved m) {
            head(g, "cursor:removed", m.roomId());
            g.writeStringField("userId", m.userId());
        } else if (message instanceof ServerMessage.PresenceUpdated m) {
            head(g, "presence:updated", m.roomId());
            g.writeStringField("userId", m.userId());
            g.writeFieldName("metadata");
            MAPPER.writeTree(g, m.patch());
        } else if (message instanceof ServerMessage.HeartbeatAck) {
            g.writeStringField("type", "heartbeat:ack");
        } else if (message instanceof ServerMessage.Error m) {
            g.writeStringField("type", "error");
            g.writeStringField("code", m.code().name());
            g.writeStringField("message", m.message());
            if (m.roomId() != null) {
                g.writeStringField("roomId", m.roomId());
            }
        }
    }

    private static void head(JsonGenerator g, String type, String roomId) throws IOException {
        g.writeStringField("type", type);
        g.writeStringField("roomId", roomId);
    }
}
