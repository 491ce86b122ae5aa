package dev.flock.webhook;

import dev.flock.protocol.LeaveReason;
import dev.flock.protocol.WebhookEventType;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Where the memory store records the webhook event of each decision it takes, inside the same atomic step (the Redis
 * store's scripts write theirs to the outbox stream themselves). Must be thread-safe and must not block.
 */
@FunctionalInterface
public interface EventLog {

    /** Records nothing: webhooks are off, or the store only mirrors decisions taken elsewhere. */
    EventLog NONE = (type, roomId, userId, reason, metadata) -> { };

    /** {@code userId}, {@code reason} and {@code metadata} may be null (room events carry none). */
    void record(WebhookEventType type, String roomId, String userId, LeaveReason reason, ObjectNode metadata);
}
