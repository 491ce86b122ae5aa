package dev.flock.bench;

import java.util.function.IntConsumer;

/**
 * Fires n items once per period each, spread evenly over the period (item k at offset + k·period/n),
 * driven by a coarse tick. Keeps no per-item timestamps: the next due time follows from (cycle, index).
 * A late tick fires what is due in that tick, but a slot more than one period late is skipped and counted
 * (like a browser's throttle, a stalled sender does not burst to catch up, so the offered rate never rises).
 */
final class Pacer {
    private final int n;
    private final long periodNanos;
    private final long startNanos;
    private final long stopNanos;
    private final IntConsumer fire;
    private long cycle;
    private int next;
    private long maxLagNanos;
    private long skipped;

    Pacer(int n, long periodNanos, long startNanos, long stopNanos, IntConsumer fire) {
        this.n = n;
        this.periodNanos = periodNanos;
        this.startNanos = startNanos;
        this.stopNanos = stopNanos;
        this.fire = fire;
    }

    void tick(long now) {
        // Bounded: each pass fires an item whose due time is <= now, and due times strictly advance.
        while (n > 0) {
            long due = startNanos + cycle * periodNanos + next * periodNanos / n;
            if (due > now || due >= stopNanos) {
                return;
            }
            long lag = now - due;
            if (lag > periodNanos) {
                skipped++;
            } else {
                maxLagNanos = Math.max(maxLagNanos, lag);
                fire.accept(next);
            }
            if (++next == n) {
                next = 0;
                cycle++;
            }
        }
    }

    long skipped() {
        return skipped;
    }

    long maxLagNanos() {
        return maxLagNanos;
    }
}
