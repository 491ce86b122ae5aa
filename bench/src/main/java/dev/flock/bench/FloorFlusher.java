package dev.flock.bench;

import io.netty.util.concurrent.EventExecutor;

import java.util.ArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Flushes the connections of one event loop that received unflushed writes, at most once per interval.
 * Confined to its event loop: only that loop's thread calls {@link #markDirty}.
 */
final class FloorFlusher {
    private final EventExecutor executor;
    private final long intervalMs;
    private final ArrayList<FloorConnection> dirty = new ArrayList<>();
    private final Runnable flushTask = this::flushAll;

    FloorFlusher(EventExecutor executor, long intervalMs) {
        this.executor = executor;
        this.intervalMs = intervalMs;
    }

    EventExecutor executor() {
        return executor;
    }

    void markDirty(FloorConnection conn) {
        if (conn.dirty) {
            return;
        }
        conn.dirty = true;
        // Schedule lazily on the first dirty connection, so an idle loop (the hold floor) never ticks.
        if (dirty.isEmpty()) {
            executor.schedule(flushTask, intervalMs, TimeUnit.MILLISECONDS);
        }
        dirty.add(conn);
    }

    private void flushAll() {
        for (int i = 0, n = dirty.size(); i < n; i++) {
            FloorConnection conn = dirty.get(i);
            conn.dirty = false;
            conn.flush();
        }
        dirty.clear();
    }
}
