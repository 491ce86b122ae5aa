package dev.flock.time;

import io.vertx.core.Handler;

/**
 * Time as a dependency: everything that waits, expires or retries (presence TTLs, the join timeout, the rate
 * limiter, refresh batching, reconcile grace, Redis housekeeping) reads the time and sets its timers here, so a test
 * can move time instead of sleeping. {@link SystemClock} is the real one.
 *
 * <p>Timers run on the Vert.x context that set them, as Vert.x timers do.
 */
public interface Clock {

    /** Wall-clock time in epoch milliseconds: timestamps that leave the process (cursor times, joinedAt). */
    long millis();

    /** Monotonic milliseconds, for intervals: a wall-clock step must not expire or rate-limit anyone. */
    long monotonicMillis();

    /** Runs {@code handler} once after {@code delayMs}, on the caller's context; returns the timer's id. */
    long setTimer(long delayMs, Handler<Long> handler);

    /** Runs {@code handler} every {@code periodMs}, on the caller's context; returns the timer's id. */
    long setPeriodic(long periodMs, Handler<Long> handler);

    /** Cancels a timer of this clock; false when it had already run or was unknown. */
    boolean cancelTimer(long id);
}
