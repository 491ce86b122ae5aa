package dev.flock.webhook;

import dev.flock.protocol.LeaveReason;
import dev.flock.protocol.WebhookEventType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.time.Clock;
import io.vertx.core.Future;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The outbox of a single instance: an in-process queue, bounded by {@code FLOCK_WEBHOOK_MAX_PENDING} events and by a
 * share of the heap ({@link #maxBytes}: a client's joins and patches carry up to 4 KiB of metadata each, and a
 * receiver that is down must not let them fill a small heap), beyond which the oldest event goes (the deliverer counts
 * the gap); it holds each event until every subscriber acknowledged it. What it
 * holds is lost with the process, as the rest of memory mode's presence is. Thread-safe: rooms on every event loop
 * record into it.
 */
public final class MemoryOutbox implements Outbox, EventLog {

    private final Clock clock;
    private final int maxPending;
    private final java.util.Set<WebhookEventType> recorded;
    private final String idPrefix = "evt_" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()) + "-";
    private final ArrayDeque<WebhookEvent> events = new ArrayDeque<>();
    private final ArrayDeque<Long> sizes = new ArrayDeque<>();
    private final long maxBytes;
    private long bytes;
    /** The highest sequence number each subscriber acknowledged. */
    private final Map<String, Long> acked = new HashMap<>();
    private long lastSeq;
    private String lastFailure;

    /** Records only the types of {@code recorded} (FLOCK_WEBHOOK_EVENTS), as the Redis scripts do. */
    public MemoryOutbox(Clock clock, int maxPending, List<String> subscribers, java.util.Set<WebhookEventType> recorded) {
        this(clock, maxPending, Runtime.getRuntime().maxMemory() / 16, subscribers, recorded);
    }

    /** {@code maxBytes}: the estimated heap the waiting events may take (1/16 of the heap by default). */
    public MemoryOutbox(Clock clock, int maxPending, long maxBytes, List<String> subscribers,
                        java.util.Set<WebhookEventType> recorded) {
        this.clock = clock;
        this.maxPending = maxPending;
        this.maxBytes = maxBytes;
        this.recorded = java.util.Set.copyOf(recorded);
        subscribers.forEach(s -> acked.put(s, 0L));
    }

    @Override
    public synchronized void record(WebhookEventType type, String roomId, String userId, LeaveReason reason, ObjectNode metadata) {
        if (!recorded.contains(type)) {
            return; // before the sequence number: an unlisted type leaves no gap
        }
        long seq = ++lastSeq;
        events.addLast(new WebhookEvent(idPrefix + seq, seq, type, roomId, userId, reason, metadata, clock.millis()));
        long size = estimatedBytes(roomId, userId, metadata);
        sizes.addLast(size);
        bytes += size;
        while (events.size() > maxPending || (bytes > maxBytes && events.size() > 1)) {
            dropOldest();
        }
    }

    private void dropOldest() {
        events.pollFirst();
        bytes -= sizes.pollFirst();
    }

    /**
     * What an event keeps on the heap, roughly: the record and its strings, and the metadata tree, which takes several
     * times its JSON text (a Jackson node per value, boxed numbers, a map per object).
     */
    private static long estimatedBytes(String roomId, String userId, ObjectNode metadata) {
        long text = 2L * (roomId.length() + (userId == null ? 0 : userId.length()));
        return 256 + text + (metadata == null ? 0 : 8L * dev.flock.protocol.ProtocolCodec.serializedSize(metadata));
    }

    @Override
    public Future<Boolean> lead() {
        return Future.succeededFuture(true);
    }

    @Override
    public synchronized Future<List<WebhookEvent>> next(String subscriber, int max) {
        long after = acked.getOrDefault(subscriber, 0L);
        List<WebhookEvent> out = new ArrayList<>(Math.min(max, events.size()));
        for (WebhookEvent e : events) {
            if (out.size() >= max) {
                break;
            }
            if (e.seq() > after) {
                out.add(e);
            }
        }
        return Future.succeededFuture(out);
    }

    @Override
    public synchronized Future<Void> ack(String subscriber, List<WebhookEvent> done) {
        long upTo = done.stream().mapToLong(WebhookEvent::seq).max().orElse(0);
        acked.merge(subscriber, upTo, Math::max);
        long everyone = acked.values().stream().mapToLong(Long::longValue).min().orElse(upTo);
        while (!events.isEmpty() && events.peekFirst().seq() <= everyone) {
            dropOldest();
        }
        return Future.succeededFuture();
    }

    @Override
    public synchronized Future<Long> pending(String subscriber) {
        long after = acked.getOrDefault(subscriber, 0L);
        return Future.succeededFuture(events.stream().filter(e -> e.seq() > after).count());
    }

    @Override
    public synchronized Future<Void> failed(String description) {
        lastFailure = description;
        return Future.succeededFuture();
    }

    @Override
    public synchronized Future<String> lastFailure() {
        return Future.succeededFuture(lastFailure);
    }
}
