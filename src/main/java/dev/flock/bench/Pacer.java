package dev.flock.bench;

import java.util.function.IntConsumer;

/**
 * Fires n items once per period each, spread evenly over the period (item k at offset + k·period/n),
 * driven by a coarse tick. Keeps no per-item timestamps: the next due time follows from (cycle, index).
 * If the tick runs late the missed items fire in that tick; {@link #maxLagNanos} reports how late.
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
            maxLagNanos = Math.max(maxLagNanos, now - due);
            fire.accept(next);
            if (++next == n) {
                next = 0;
                cycle++;
            }
        }
    }

    long maxLagNanos() {
        return maxLagNanos;
    }
}
