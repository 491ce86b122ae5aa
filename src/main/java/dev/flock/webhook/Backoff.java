package dev.flock.webhook;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The wait before retrying a failed webhook request: 1 s doubling per attempt up to 5 minutes, each drawn from its
 * upper half ("equal jitter"), so receivers coming back from an outage are not hit by every sender at once.
 */
final class Backoff {

    static final long FIRST_MS = 1000;
    static final long MAX_MS = 5 * 60_000;

    private Backoff() {
    }

    /** The wait after the {@code attempt}-th failure (1 = the first). */
    static long delayMs(int attempt) {
        long ceiling = Math.min(MAX_MS, FIRST_MS << Math.min(attempt - 1, 20));
        return ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
    }
}
