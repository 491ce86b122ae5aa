package dev.flock.protocol;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/** A message the server sends. Encoded once by {@link ProtocolCodec#encode}, whatever the recipient count. */
public sealed interface ServerMessage {

    /** One user in a {@code join:ack} snapshot; {@code cursor} is null when the user has none. */
    record UserSnapshot(String userId, ObjectNode metadata, Cursor cursor) {
    }

    /** A last known cursor position. */
    record Cursor(double x, double y, long timestamp) {
    }

    record JoinAck(String roomId, List<UserSnapshot> users) implements ServerMessage {
    }

    record UserJoined(String roomId, String userId, ObjectNode metadata) implements ServerMessage {
    }

    record UserLeft(String roomId, String userId) implements ServerMessage {
    }

    record CursorUpdated(String roomId, String userId, double x, double y, long timestamp) implements ServerMessage {
    }

    record CursorRemoved(String roomId, String userId) implements ServerMessage {
    }

    /** {@code patch} holds the changed fields only, not the merged whole. */
    record PresenceUpdated(String roomId, String userId, ObjectNode patch) implements ServerMessage {
    }

    record HeartbeatAck() implements ServerMessage {
    }

    /** {@code roomId} (extension) is set when the error concerns one room only; the SDK routes it there. */
    record Error(ErrorCode code, String message, String roomId) implements ServerMessage {
    }
}
