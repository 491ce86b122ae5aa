package dev.flock.support;

import dev.flock.time.Clock;
import io.vertx.core.Handler;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A {@link VirtualClock} that also knows which of its one-shot timers the webhook deliverer set and has not yet seen
 * fire or cancelled ({@code later}: the next poll or a retry's backoff; {@code post}: a request's timeout). So a test
 * can wait (bounded, on real I/O) until the deliverer is idle, waiting on a known timer, and then move time exactly.
 */
public final class WatchedClock implements Clock {

    private static final String DISPATCHER = "dev.flock.webhook.WebhookDispatcher";
    private static final StackWalker WALKER = StackWalker.getInstance();

    private final VirtualClock clock;
    /** Outstanding deliverer timers: id → "later:<delay>" or "post:<delay>". */
    private final Map<Long, String> outstanding = new HashMap<>();

    public WatchedClock(VirtualClock clock) {
        this.clock = clock;
    }

    public VirtualClock virtual() {
        return clock;
    }

    @Override
    public long millis() {
        return clock.millis();
    }

    @Override
    public long monotonicMillis() {
        return clock.monotonicMillis();
    }

    @Override
    public long setTimer(long delayMs, Handler<Long> handler) {
        String kind = WALKER.walk(frames -> frames
                .filter(f -> f.getClassName().startsWith(DISPATCHER))
                .map(f -> f.getMethodName()).findFirst().orElse(null));
        if (kind == null) {
            return clock.setTimer(delayMs, handler);
        }
        long[] id = {0};
        synchronized (this) {
            id[0] = clock.setTimer(delayMs, t -> {
                synchronized (this) {
                    outstanding.remove(t);
                    notifyAll();
                }
                handler.handle(t);
            });
            outstanding.put(id[0], kind + ":" + delayMs);
            notifyAll();
        }
        return id[0];
    }

    @Override
    public long setPeriodic(long periodMs, Handler<Long> handler) {
        return clock.setPeriodic(periodMs, handler);
    }

    @Override
    public synchronized boolean cancelTimer(long id) {
        if (outstanding.remove(id) != null) {
            notifyAll();
        }
        return clock.cancelTimer(id);
    }

    public void advance(long ms) {
        clock.advance(ms);
    }

    /** The deliverer's outstanding timers, e.g. ["later:250"] when idle between polls. */
    public synchronized java.util.List<String> dispatcherTimers() {
        return java.util.List.copyOf(outstanding.values());
    }

    /**
     * Waits (bounded) until the deliverer waits on one {@code later} timer and has no request out; returns that
     * timer's delay (the poll interval, or a retry's backoff).
     */
    public synchronized long awaitIdle() {
        long deadline = System.nanoTime() + WsClient.TIMEOUT.toNanos();
        while (true) {
            if (outstanding.size() == 1) {
                String only = outstanding.values().iterator().next();
                if (only.startsWith("later:")) {
                    return Long.parseLong(only.substring("later:".length()));
                }
            }
            waitUntil(deadline, "the webhook deliverer idle; its timers: " + outstanding.values());
        }
    }

    /** Waits (bounded) until a request of the deliverer is out (its timeout timer set). */
    public synchronized void awaitRequestOut() {
        long deadline = System.nanoTime() + WsClient.TIMEOUT.toNanos();
        while (outstanding.values().stream().noneMatch(k -> k.startsWith("post:"))) {
            waitUntil(deadline, "a webhook request out; the deliverer's timers: " + outstanding.values());
        }
    }

    private void waitUntil(long deadline, String what) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new AssertionError("not within " + WsClient.TIMEOUT + ": " + what);
        }
        try {
            TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    public void advance(Duration d) {
        clock.advance(d);
    }
}
