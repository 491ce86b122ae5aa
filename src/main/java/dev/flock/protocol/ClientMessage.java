package dev.flock.protocol;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** A validated message from a client. Every client message concerns one room. */
public sealed interface ClientMessage {

    String roomId();

    /** Enter a room; the first message for a room. {@code apiKey} is null when absent. */
    record Join(String roomId, String userId, ObjectNode metadata, String apiKey) implements ClientMessage {
    }

    record Heartbeat(String roomId) implements ClientMessage {
    }

    record CursorMove(String roomId, double x, double y) implements ClientMessage {
    }

    record CursorLeave(String roomId) implements ClientMessage {
    }

    /** A partial metadata object merged into the stored one. */
    record PresenceUpdate(String roomId, ObjectNode patch) implements ClientMessage {
    }

    record Leave(String roomId) implements ClientMessage {
    }
}
