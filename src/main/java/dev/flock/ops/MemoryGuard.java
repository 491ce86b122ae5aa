package dev.flock.ops;

import com.sun.management.HotSpotDiagnosticMXBean;
import dev.flock.time.Clock;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.List;

/**
 * Knows, once a second, whether the heap or direct memory is above {@code FLOCK_MEMORY_HIGH_WATER_PERCENT}. While it
 * is, new WebSockets are refused (503) and {@code /ready} says so, so a full box sheds new work instead of dying
 * with {@code OutOfMemoryError} and dropping everyone it already serves.
 *
 * <p>The heap figure is the old generation's: what survived the last collection of it and what it holds now,
 * whichever is smaller. What survived is the live data (the current figure alone would count garbage waiting
 * for the next full GC, and refuse work on a healthy server); the current figure clears the alarm as soon as a
 * collection freed memory. Direct memory is what the JVM's buffer pool reports against
 * {@code -XX:MaxDirectMemorySize} (Netty allocates its socket buffers there).
 */
public final class MemoryGuard {

    private static final long CHECK_INTERVAL_MS = 1000;
    /**
     * While the heap stays above the mark, at most this often a full collection is asked for: after users left,
     * a quiet server may not collect its old generation for a long time, and would refuse work on stale figures.
     */
    private static final long RECHECK_GC_INTERVAL_MS = 30_000;

    private final int highWaterPercent;
    private final Clock clock;
    private long lastRequestedGc = Long.MIN_VALUE / 2;
    private final MemoryPoolMXBean oldGen;
    private final BufferPoolMXBean direct;
    private final long maxDirect;
    private volatile String reason;
    private long timer = -1;

    public MemoryGuard(int highWaterPercent, Clock clock) {
        this.highWaterPercent = highWaterPercent;
        this.clock = clock;
        this.oldGen = oldGeneration();
        this.direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(p -> p.getName().equals("direct")).findFirst().orElse(null);
        this.maxDirect = maxDirectMemory();
        check();
    }

    /** Checks every second, on the caller's context. */
    public MemoryGuard start() {
        timer = clock.setPeriodic(CHECK_INTERVAL_MS, id -> check());
        return this;
    }

    public void stop() {
        if (timer >= 0) {
            clock.cancelTimer(timer);
        }
    }

    /** Null when memory is fine; else what is above the mark (for /ready and the 503's body). */
    public String reason() {
        return reason;
    }

    public boolean aboveHighWater() {
        return reason != null;
    }

    void check() {
        String heap = heapReason();
        if (heap != null && clock.monotonicMillis() - lastRequestedGc >= RECHECK_GC_INTERVAL_MS) {
            lastRequestedGc = clock.monotonicMillis();
            System.gc(); // a no-op with -XX:+DisableExplicitGC; then the next natural full GC clears the alarm
            heap = heapReason();
        }
        reason = heap != null ? heap : directReason();
    }

    private String heapReason() {
        if (oldGen == null) {
            return null;
        }
        MemoryUsage now = oldGen.getUsage();
        MemoryUsage afterGc = oldGen.getCollectionUsage();
        long max = now.getMax() > 0 ? now.getMax() : Runtime.getRuntime().maxMemory();
        long used = afterGc == null || afterGc.getCommitted() == 0 ? now.getUsed() : Math.min(now.getUsed(), afterGc.getUsed());
        return above(used, max) ? "heap " + percent(used, max) + "% used after GC (high water " + highWaterPercent + "%)" : null;
    }

    private String directReason() {
        if (direct == null || maxDirect <= 0) {
            return null;
        }
        long used = direct.getMemoryUsed();
        return above(used, maxDirect) ? "direct memory " + percent(used, maxDirect) + "% used (high water " + highWaterPercent + "%)"
                : null;
    }

    private boolean above(long used, long max) {
        return used * 100 > max * highWaterPercent;
    }

    private static long percent(long used, long max) {
        return used * 100 / max;
    }

    /** The pool long-lived objects end up in: the one heap pool that is collected but never emptied by a young GC. */
    private static MemoryPoolMXBean oldGeneration() {
        List<MemoryPoolMXBean> pools = ManagementFactory.getMemoryPoolMXBeans();
        for (MemoryPoolMXBean p : pools) {
            String name = p.getName();
            if (p.getType() == MemoryType.HEAP && (name.contains("Old") || name.contains("Tenured"))) {
                return p;
            }
        }
        return null; // ZGC/Shenandoah-style single pools: heap pressure is not judged, direct memory still is
    }

    /** {@code -XX:MaxDirectMemorySize}, or the JVM's default for it (the maximum heap). */
    private static long maxDirectMemory() {
        try {
            HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            long set = Long.parseLong(hotspot.getVMOption("MaxDirectMemorySize").getValue());
            return set > 0 ? set : Runtime.getRuntime().maxMemory();
        } catch (RuntimeException e) {
            return Runtime.getRuntime().maxMemory();
        }
    }
}
