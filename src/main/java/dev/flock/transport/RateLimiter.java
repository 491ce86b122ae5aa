package dev.flock.transport;

/**
 * Exact sliding window: refuses a message when {@code limit} messages were already accepted within the
 * last second. Timestamps live in a ring that starts small and grows only for chatty connections, so an
 * idle connection costs a few dozen bytes, not {@code limit} longs. Times are the caller's monotonic
 * milliseconds, kept whole (as {@code int} offsets they wrapped after 24.8 days of an open socket).
 */
final class RateLimiter {

    private static final int WINDOW_MS = 1000;
    private static final int INITIAL_CAPACITY = 8;

    private final int limit;
    private long[] ring = new long[INITIAL_CAPACITY];
    private int head;
    private int count;

    RateLimiter(int limit) {
        this.limit = limit;
    }

    /** Records a message at {@code nowMs}; false when it is over the limit. */
    boolean tryAcquire(long nowMs) {
        while (count > 0 && nowMs - ring[head] >= WINDOW_MS) {
            head = (head + 1) % ring.length;
            count--;
        }
        if (count >= limit) {
            return false;
        }
        if (count == ring.length) {
            grow();
        }
        ring[(head + count) % ring.length] = nowMs;
        count++;
        return true;
    }

    private void grow() {
        long[] bigger = new long[Math.min(limit, ring.length * 2)];
        for (int i = 0; i < count; i++) {
            bigger[i] = ring[(head + i) % ring.length];
        }
        ring = bigger;
        head = 0;
    }
}
