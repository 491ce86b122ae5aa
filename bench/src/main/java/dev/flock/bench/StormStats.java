package dev.flock.bench;

import org.HdrHistogram.Histogram;

import java.util.Map;
import java.util.TreeMap;

/**
 * One round's counters of one storm worker. Written only on that worker's event loop; the main thread adds up
 * copies made there ({@link #copy}, {@link #add}). Every client ends the round's storm in exactly one of joined,
 * refused (by kind) or failed (by kind).
 */
final class StormStats {
    long assigned;
    long established;
    long joined;
    /** A clean refusal: HTTP status of the upgrade ({@code http503}), an {@code error} frame ({@code error:ROOM_FULL}), a close code before the ack ({@code close1013}). */
    final Map<String, Long> refused = new TreeMap<>();
    /** No answer or a broken connection: {@code connectTimeout}, {@code joinTimeout}, {@code reset} (closed without a code), {@code connect:...}. */
    final Map<String, Long> failed = new TreeMap<>();
    /** Joined clients the server closed before the generator did, by close code. */
    final Map<String, Long> droppedAfterJoin = new TreeMap<>();
    /** µs from a client's scheduled start until its upgrade completed. */
    final Histogram connect = WorkerStats.newHistogram();
    /** µs from a client's scheduled start until its join:ack arrived. */
    final Histogram joinAck = WorkerStats.newHistogram();
    long lastAckNanos;
    /** How late the generator opened a client after its scheduled start, at worst: above a few ms it was the bottleneck. */
    long maxOpenLagNanos;
    long closesSent;
    long closesDone;

    long refusedTotal() {
        return refused.values().stream().mapToLong(Long::longValue).sum();
    }

    long failedTotal() {
        return failed.values().stream().mapToLong(Long::longValue).sum();
    }

    StormStats copy() {
        StormStats c = new StormStats();
        c.add(this);
        return c;
    }

    void add(StormStats o) {
        assigned += o.assigned;
        established += o.established;
        joined += o.joined;
        o.refused.forEach((k, v) -> refused.merge(k, v, Long::sum));
        o.failed.forEach((k, v) -> failed.merge(k, v, Long::sum));
        o.droppedAfterJoin.forEach((k, v) -> droppedAfterJoin.merge(k, v, Long::sum));
        connect.add(o.connect);
        joinAck.add(o.joinAck);
        lastAckNanos = Math.max(lastAckNanos, o.lastAckNanos);
        maxOpenLagNanos = Math.max(maxOpenLagNanos, o.maxOpenLagNanos);
        closesSent += o.closesSent;
        closesDone += o.closesDone;
    }
}
