package dev.flock.support;

import dev.flock.time.Clock;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock the test moves: time stands still until {@link #advance}, which runs every timer that falls due, in due
 * order, each on the Vert.x context that set it (as Vert.x timers run), and waits until each has run. So TTLs, grace
 * periods and retries are tested in milliseconds, never by sleeping.
 *
 * <p>Call {@link #advance} from the test thread, not from an event loop.
 */
public final class VirtualClock implements Clock {

    private static final long RUN_TIMEOUT_MS = 10_000;

    private record Timer(long id, long due, long period, Context context, Handler<Long> handler, long seq) {
    }

    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong seqs = new AtomicLong();
    private final PriorityQueue<Timer> timers = new PriorityQueue<>(
            Comparator.comparingLong(Timer::due).thenComparingLong(Timer::seq));
    private final Map<Long, Timer> byId = new HashMap<>();
    private final long wallOrigin = System.currentTimeMillis();
    /** Milliseconds since this clock was made. */
    private long elapsed;

    @Override
    public synchronized long millis() {
        return wallOrigin + elapsed;
    }

    @Override
    public synchronized long monotonicMillis() {
        return 1_000_000 + elapsed;
    }

    @Override
    public long setTimer(long delayMs, Handler<Long> handler) {
        return schedule(delayMs, 0, handler);
    }

    @Override
    public long setPeriodic(long periodMs, Handler<Long> handler) {
        return schedule(periodMs, Math.max(1, periodMs), handler);
    }

    private synchronized long schedule(long delayMs, long period, Handler<Long> handler) {
        long id = ids.incrementAndGet();
        Timer t = new Timer(id, elapsed + Math.max(1, delayMs), period, Vertx.currentContext(), handler,
                seqs.incrementAndGet());
        timers.add(t);
        byId.put(id, t);
        return id;
    }

    @Override
    public synchronized boolean cancelTimer(long id) {
        Timer t = byId.remove(id);
        return t != null && timers.remove(t);
    }

    /** Timers waiting to fire (periodic ones count once). */
    public synchronized int pendingTimers() {
        return timers.size();
    }

    /** Moves time forward by {@code d}, running every timer due on the way. */
    public void advance(Duration d) {
        long target;
        synchronized (this) {
            target = elapsed + d.toMillis();
        }
        while (true) {
            Timer next;
            synchronized (this) {
                next = timers.peek();
                if (next == null || next.due() > target) {
                    elapsed = target;
                    return;
                }
                timers.poll();
                elapsed = next.due();
                if (next.period() > 0) {
                    Timer again = new Timer(next.id(), next.due() + next.period(), next.period(), next.context(),
                            next.handler(), seqs.incrementAndGet());
                    timers.add(again);
                    byId.put(next.id(), again);
                } else {
                    byId.remove(next.id());
                }
            }
            run(next);
        }
    }

    public void advance(long ms) {
        advance(Duration.ofMillis(ms));
    }

    private static void run(Timer t) {
        if (t.context() == null) {
            t.handler().handle(t.id());
            return;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        t.context().runOnContext(v -> {
            try {
                t.handler().handle(t.id());
            } finally {
                done.complete(null);
            }
        });
        try {
            done.get(RUN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("a timer did not run within " + RUN_TIMEOUT_MS + " ms", e);
        }
    }
}
