package dev.flock.bench;

/**
 * Waits (bounded) until the watched servers are idle: less than {@link #QUIET_CPU_S} CPU-seconds in a
 * {@link #WINDOW_MS} window, i.e. under 6 % of one core (JIT compilation, GC, undeploys and Redis replies done).
 * The answer is the summed CPU at the start of that quiet window, so the idle window itself is not charged.
 */
final class ServerQuiet {
    static final long WINDOW_MS = 500;
    static final double QUIET_CPU_S = 0.03;

    /** The CPU reading where quiet began (or at the bound), and whether quiet was reached. */
    record Result(ProcWatch.Sample at, boolean quiet, double waitedS) {
    }

    private ServerQuiet() {
    }

    static Result await(ProcWatch watch, double boundSeconds) throws InterruptedException {
        long start = System.nanoTime();
        long end = start + (long) (boundSeconds * 1e9);
        ProcWatch.Sample prev = watch.server();
        if (!watch.watchesServer()) {
            return new Result(prev, false, 0);
        }
        while (System.nanoTime() < end) {
            Thread.sleep(WINDOW_MS);
            ProcWatch.Sample now = watch.server();
            if (now.cpuSeconds() - prev.cpuSeconds() < QUIET_CPU_S) {
                return new Result(prev, true, (System.nanoTime() - start) / 1e9);
            }
            prev = now;
        }
        return new Result(prev, false, (System.nanoTime() - start) / 1e9);
    }
}
