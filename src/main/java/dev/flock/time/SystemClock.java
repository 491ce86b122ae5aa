package dev.flock.time;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;

/** The real clock: the system's time and Vert.x timers. */
public final class SystemClock implements Clock {

    private final Vertx vertx;

    public SystemClock(Vertx vertx) {
        this.vertx = vertx;
    }

    @Override
    public long millis() {
        return System.currentTimeMillis();
    }

    @Override
    public long monotonicMillis() {
        return System.nanoTime() / 1_000_000;
    }

    @Override
    public long setTimer(long delayMs, Handler<Long> handler) {
        return vertx.setTimer(Math.max(1, delayMs), handler);
    }

    @Override
    public long setPeriodic(long periodMs, Handler<Long> handler) {
        return vertx.setPeriodic(Math.max(1, periodMs), handler);
    }

    @Override
    public boolean cancelTimer(long id) {
        return vertx.cancelTimer(id);
    }
}
