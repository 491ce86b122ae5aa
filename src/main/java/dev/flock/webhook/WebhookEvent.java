package dev.flock.webhook;

import dev.flock.protocol.LeaveReason;
import dev.flock.protocol.WebhookEventType;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One event in the outbox. {@code id} is unique and stays the same on every redelivery; {@code seq} increases by one
 * per event recorded in the outbox, so a gap seen by the deliverer counts events the bounded outbox dropped.
 * {@code userId}, {@code reason} and {@code metadata} are null where the type carries none.
 */
public record WebhookEvent(String id, long seq, WebhookEventType type, String roomId, String userId, LeaveReason reason,
                           ObjectNode metadata, long timeMs) {
}
