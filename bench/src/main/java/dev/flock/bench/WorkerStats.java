package dev.flock.bench;

import org.HdrHistogram.Histogram;

import java.util.Map;
import java.util.TreeMap;

/**
 * Counters of one client worker. Written only on that worker's event loop; other threads see copies
 * made on that loop ({@link #copy}) and add them up with {@link #add}.
 */
final class WorkerStats {
    /** Latencies in µs, up to 60 s, 3 significant digits. */
    static Histogram newHistogram() {
        return new Histogram(60_000_000L, 3);
    }

    long assigned;
    long established;
    long connectFailed;
    long joined;
    long closed;
    long alive;
    long sends;
    long windowSends;
    long deliveries;
    long windowDeliveries;
    long unstamped;
    long heartbeatsSent;
    long heartbeatsAcked;
    long heartbeatsUnanswered;
    long maxSendLagNanos;
    long skippedSends;
    final Map<String, Long> errors = new TreeMap<>();
    final Map<String, Long> connectErrors = new TreeMap<>();
    final Histogram latency = newHistogram();
    final Histogram heartbeatLatency = newHistogram();

    WorkerStats copy() {
        WorkerStats c = new WorkerStats();
        c.add(this);
        return c;
    }

    void add(WorkerStats o) {
        assigned += o.assigned;
        established += o.established;
        connectFailed += o.connectFailed;
        joined += o.joined;
        closed += o.closed;
        alive += o.alive;
        sends += o.sends;
        windowSends += o.windowSends;
        deliveries += o.deliveries;
        windowDeliveries += o.windowDeliveries;
        unstamped += o.unstamped;
        heartbeatsSent += o.heartbeatsSent;
        heartbeatsAcked += o.heartbeatsAcked;
        heartbeatsUnanswered += o.heartbeatsUnanswered;
        maxSendLagNanos = Math.max(maxSendLagNanos, o.maxSendLagNanos);
        skippedSends += o.skippedSends;
        o.errors.forEach((k, v) -> errors.merge(k, v, Long::sum));
        o.connectErrors.forEach((k, v) -> connectErrors.merge(k, v, Long::sum));
        latency.add(o.latency);
        heartbeatLatency.add(o.heartbeatLatency);
    }
}
