package dev.flock.webhook;

import io.vertx.core.Future;

import java.util.List;

/**
 * The events waiting for delivery, recorded by the presence store in the same step as the decision that made each
 * (see {@link EventLog} and prelude.lua). Each subscriber (one per webhook URL) reads every event once, in the order
 * they were recorded, and acknowledges what its URL accepted. {@link MemoryOutbox} is the embedded default;
 * {@code dev.flock.redis.RedisOutbox} is a Redis Stream with one consumer group per subscriber, shared by the fleet.
 *
 * <p>Futures complete on the caller's context.
 */
public interface Outbox {

    /**
     * Takes or keeps the right to deliver: in Redis mode one instance of the fleet holds it at a time (a lease), so each
     * event is sent once and in order; in memory mode this process always does. On a newly taken lease the events a
     * previous holder read and never acknowledged become this instance's (they are sent again, with the same ids).
     */
    Future<Boolean> lead();

    /** Gives the right to deliver up (a stopping instance), so another instance takes it at its next renewal. */
    default Future<Void> resign() {
        return Future.succeededFuture();
    }

    /** The oldest events (at most {@code max}) the subscriber has not acknowledged, beginning with any read before. */
    Future<List<WebhookEvent>> next(String subscriber, int max);

    /** The subscriber is done with these events (delivered, or dropped as too old). */
    Future<Void> ack(String subscriber, List<WebhookEvent> events);

    /** How many events wait for the subscriber (read or not). */
    Future<Long> pending(String subscriber);

    /** Remembers the latest delivery failure, for the admin dashboard (fleet-wide in Redis mode). */
    Future<Void> failed(String description);

    /** The latest delivery failure, or null. */
    Future<String> lastFailure();
}
