package dev.flock.transport;

/**
 * Exact sliding window: refuses a message when {@code limit} messages were already accepted within the
 * last second. Timestamps live in a ring that starts small and grows only for chatty connections, so an
 * idle connection costs a few dozen bytes, not {@code limit} longs.
 */
final class RateLimiter {

    private static final int WINDOW_MS = 1000;
    private static final int INITIAL_CAPACITY = 8;

    private final int limit;
    private final long origin;
    private int[] ring = new int[INITIAL_CAPACITY];
    private int head;
    private int count;

    RateLimiter(int limit, long nowMs) {
        this.limit = limit;
        this.origin = nowMs;
    }

    /** Records a message at {@code nowMs}; false when it is over the limit. */
    boolean tryAcquire(long nowMs) {
        int now = (int) (nowMs - origin);
        while (count > 0 && now - ring[head] >= WINDOW_MS) {
            head = (head + 1) % ring.length;
            count--;
        }
        if (count >= limit) {
            return false;
        }
        if (count == ring.length) {
            grow();
        }
        ring[(head + count) % ring.length] = now;
        count++;
        return true;
    }

    private void grow() {
        int[] bigger = new int[Math.min(limit, ring.length * 2)];
        for (int i = 0; i < count; i++) {
            bigger[i] = ring[(head + i) % ring.length];
        }
        ring = bigger;
        head = 0;
    }
}
