package dev.flock.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Load generator for Flock (issue 9), driving real WebSocket clients over the protocol on loopback.
 * See docs/BENCHMARKS.md for the options and the meaning of every figure.
 *
 * <pre>java -cp bench/target/flock-bench.jar dev.flock.bench.LoadGen fanout|hold|capacity|restart|storm|failover [options]</pre>
 * ({@code capacity}: {@link CapacityRun}, driven by bench/run-capacity.sh; {@code storm}: {@link StormRun}, by
 * bench/run-storm.sh; {@code failover}: {@link FailoverRun}, by bench/run-failover.sh)
 */
public final class LoadGen {
    private static final long DRAIN_QUIET_NANOS = 500_000_000L;
    private static final long DRAIN_MAX_NANOS = 5_000_000_000L;

    private final BenchConfig cfg;
    private final long clockBase = System.nanoTime();
    private final List<ClientWorker> workers = new ArrayList<>();
    private Vertx vertx;
    private double connectSeconds;

    private LoadGen(BenchConfig cfg) {
        this.cfg = cfg;
    }

    /** The modes that are runs of their own (their own options, workers and report). */
    private interface SubMode {
        int run(String[] args) throws InterruptedException;
    }

    private static final java.util.Map<String, SubMode> SUB_MODES = java.util.Map.of(
        "restart", RestartRun::main, "storm", StormRun::main, "capacity", CapacityRun::main, "failover", FailoverRun::main);

    public static void main(String[] args) throws Exception {
        BenchLogging.quiet();
        SubMode sub = args.length > 0 ? SUB_MODES.get(args[0]) : null;
        if (sub != null) {
            int status;
            try {
                status = sub.run(args);
            } catch (Args.UsageError e) {
                System.err.println("LoadGen " + args[0] + ": " + e.getMessage());
                status = 2;
            }
            System.exit(status); // no vertx.close(), as below
            return;
        }
        BenchConfig cfg;
        try {
            cfg = parse(args);
        } catch (Args.UsageError e) {
            System.err.println("LoadGen: " + e.getMessage());
            System.err.println("usage: LoadGen fanout|hold|capacity|restart|storm|failover [--url ws://127.0.0.1:8787/[,...]] [--server-pid pid[,pid]] ... "
                + "(see docs/BENCHMARKS.md)");
            System.exit(2);
            return;
        }
        int status;
        try (ProcWatch watch = new ProcWatch(cfg.serverPids())) {
            LoadGen gen = new LoadGen(cfg);
            status = cfg.fanout() ? gen.runFanout(watch) : gen.runHold(watch);
        } catch (Args.UsageError e) {
            System.err.println("LoadGen: " + e.getMessage());
            status = 2;
        }
        // No vertx.close(): closing 19k sockets one by one blocks the event loops for seconds, and the report
        // is already out. Exiting lets the kernel close them all.
        System.exit(status);
    }

    static BenchConfig parse(String[] argv) {
        Args a = new Args(argv);
        String mode = a.positional();
        if (!"fanout".equals(mode) && !"hold".equals(mode)) {
            throw Args.fail("mode must be fanout, hold, capacity, restart or storm");
        }
        boolean fanout = mode.equals("fanout");
        var urls = LoopbackUrls.parse(a.opt("--url", "ws://127.0.0.1:8787/"));
        int conns = a.intOpt("--conns", 1000);
        int users = a.intOpt("--users", 10);
        int rooms = a.intOpt("--rooms", fanout ? 40 : Math.max(1, conns / 10));
        int movers = a.intOpt("--movers", users);
        double hz = a.doubleOpt("--hz", 20);
        double warmup = a.doubleOpt("--warmup", fanout ? 5 : 0);
        double duration = a.doubleOpt("--duration", fanout ? 20 : 30);
        double rate = a.doubleOpt("--connect-rate", 2000);
        boolean noCompression = a.flag("--no-compression");
        boolean compression = a.flag("--compression") || !noCompression;
        String pids = a.opt("--server-pid", "");
        // spread over 16 loopback addresses by default: the server allows 500 sockets per client address, as users are spread
        int sourceAddrs = a.intOpt("--source-addrs", fanout ? 16 : 4);
        int loops = a.intOpt("--loops", Runtime.getRuntime().availableProcessors());
        boolean nativeTransport = a.flag("--native");
        long heartbeatMs = a.intOpt("--heartbeat-ms", 10_000);
        String prefix = a.opt("--room-prefix", "bench-" + Long.toHexString(System.nanoTime() & 0xffffff) + "-");
        int total = fanout ? rooms * users : conns;
        long maxFailures = a.intOpt("--max-connect-failures", total / 1000);
        double joinTimeout = a.doubleOpt("--join-timeout", 30 + total / Math.max(1, rate));
        a.rejectUnknown();

        if (rooms < 1 || users < 1 || conns < 1 || hz <= 0 || duration <= 0 || warmup < 0 || rate <= 0 || loops < 1
            || movers < 0 || movers > users || heartbeatMs < 100 || sourceAddrs < 0 || sourceAddrs > 254) {
            throw Args.fail("out-of-range option (need rooms, users, conns, loops >= 1; hz, duration, connect-rate > 0; "
                + "0 <= movers <= users; 0 <= source-addrs <= 254)");
        }
        if (warmup + duration > 3600) {
            throw Args.fail("warmup + duration must stay under an hour (timestamps ride in position.x)");
        }
        if (sourceAddrs > 0 && urls.stream().anyMatch(u -> !LoopbackUrls.host(u).startsWith("127."))) {
            throw Args.fail("--source-addrs binds 127.0.0.x: give --url as ws://127.0.0.1:port/ (or --source-addrs 0)");
        }
        checkFileLimit(total);
        List<String> serverPids = pids.isBlank() ? List.of() : Arrays.stream(pids.split(",")).map(String::trim).toList();
        return new BenchConfig(mode, urls, rooms, users, movers, hz, warmup, duration, rate, compression, serverPids,
            conns, sourceAddrs, loops, nativeTransport, heartbeatMs, prefix, maxFailures, joinTimeout);
    }

    /** Every socket is a file descriptor here as well as in the server: fail early and clearly. */
    static void checkFileLimit(int sockets) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    if (!soft.equals("unlimited") && sockets + 200 > Long.parseLong(soft)) {
                        throw Args.fail(sockets + " connections need more than the open-file limit " + soft
                            + " of this process (ulimit -n), with ~200 to spare for the JVM");
                    }
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            // not Linux-like: let the connects fail and be counted
        }
    }

    private void startWorkers() {
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(cfg.loops()).setPreferNativeTransport(cfg.nativeTransport()));
        List<Future<?>> deployed = new ArrayList<>();
        for (int w = 0; w < cfg.loops(); w++) {
            ClientWorker worker = new ClientWorker(cfg, w, clockBase);
            workers.add(worker);
            deployed.add(vertx.deployVerticle(worker)); // each deployment gets its own context, next event loop
        }
        Future.all(deployed).await();
        System.out.printf("connecting %d clients to %s at %.0f/s (%d event loops, %s, compression %s)%n",
            cfg.totalConnections(), cfg.urls(), cfg.connectRate(), cfg.loops(),
            vertx.isNativeTransportEnabled() ? "native" : "nio", cfg.compression() ? "offered" : "not offered");
    }

    /** Waits until every connection joined, failed or closed, bounded by --join-timeout. */
    private WorkerStats awaitJoined() {
        long t0 = System.nanoTime();
        try {
            Future.all(workers.stream().map(ClientWorker::settled).toList())
                .await((long) (cfg.joinTimeoutSeconds() * 1000), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            System.out.println("join timeout: going on with the connections that joined");
        }
        WorkerStats s = collect();
        connectSeconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("established %d, joined %d, failed %d, closed %d of %d in %.1f s%n",
            s.established, s.joined, s.connectFailed, s.closed, s.assigned, connectSeconds);
        return s;
    }

    private int runFanout(ProcWatch watch) throws InterruptedException {
        ProcWatch.Sample serverBefore = watch.server();
        startWorkers();
        WorkerStats joined = awaitJoined();

        long start = System.nanoTime();
        long windowStart = start + (long) (cfg.warmupSeconds() * 1e9);
        long end = windowStart + (long) (cfg.durationSeconds() * 1e9);
        workers.forEach(w -> w.startMoves(start, windowStart, end));
        System.out.printf("moving: %d movers at %.1f Hz, warm-up %.0f s, measuring %.0f s%n",
            cfg.totalMovers(), cfg.hz(), cfg.warmupSeconds(), cfg.durationSeconds());

        sleepUntil(windowStart);
        ProcWatch.Sample server0 = watch.server();
        double[] byPid0 = watch.cpuByPid();
        ProcWatch.Sample self0 = watch.self();
        double machine0 = ProcWatch.machineBusySeconds();
        sleepUntil(end);
        ProcWatch.Sample server1 = watch.server();
        double[] byPid1 = watch.cpuByPid();
        ProcWatch.Sample self1 = watch.self();
        double machine1 = ProcWatch.machineBusySeconds();
        WorkerStats s = drain();

        double window = cfg.durationSeconds();
        long expected = s.windowSends * (cfg.usersPerRoom() - 1L);
        Report r = new Report();
        r.put("mode", "fanout").put("urls", cfg.urls().toString()).put("rooms", cfg.rooms())
            .put("usersPerRoom", cfg.usersPerRoom()).put("moversPerRoom", cfg.moversPerRoom()).put("hz", cfg.hz())
            .put("compressionOffered", cfg.compression()).put("warmupS", cfg.warmupSeconds()).put("durationS", window);
        connectionFigures(r, s, joined);
        r.put("sendsPerSec", s.windowSends / window)
            .put("expectedDeliveriesPerSec", expected / window)
            .put("actualDeliveriesPerSec", s.windowDeliveries / window)
            .put("deliveryRatio", expected == 0 ? Double.NaN : (double) s.windowDeliveries / expected)
            .put("unstampedDeliveries", s.unstamped)
            .put("maxSendLagMs", s.maxSendLagNanos / 1e6)
            .put("skippedSendSlots", s.skippedSends);
        r.line("sends/s %.0f   expected deliveries/s %.0f   actual deliveries/s %.0f   ratio %.5f",
            s.windowSends / window, expected / window, s.windowDeliveries / window,
            expected == 0 ? Double.NaN : (double) s.windowDeliveries / expected);
        if (s.skippedSends > 0) {
            r.line("generator skipped %d send slots (it stalled for more than a period: the machine is overloaded)",
                s.skippedSends);
        }
        r.latency("delivery", s.latency);
        heartbeatFigures(r, s);
        errorFigures(r, s);
        cpuFigures(r, watch, serverBefore, server0, server1, self0, self1, window, s.windowDeliveries);
        perPidFigures(r, byPid0, byPid1);
        otherLoadFigures(r, machine1 - machine0, (server1.cpuSeconds() - server0.cpuSeconds())
            + (self1.cpuSeconds() - self0.cpuSeconds()), window);
        r.print();
        return exitStatus(s);
    }

    private int runHold(ProcWatch watch) throws InterruptedException {
        ProcWatch.Sample before = watch.server(); // RSS before the first connection
        ProcWatch.Sample self0 = watch.self();
        long t0 = System.nanoTime();
        startWorkers();
        WorkerStats joined = awaitJoined();
        long holdEnd = System.nanoTime() + (long) (cfg.durationSeconds() * 1e9);
        System.out.printf("holding for %.0f s%n", cfg.durationSeconds());
        sleepUntil(holdEnd);
        ProcWatch.Sample after = watch.server();
        ProcWatch.Sample self1 = watch.self();
        WorkerStats s = collect();

        Report r = new Report();
        r.put("mode", "hold").put("urls", cfg.urls().toString()).put("rooms", cfg.rooms())
            .put("compressionOffered", cfg.compression()).put("sourceAddresses", cfg.sourceAddresses())
            .put("durationS", cfg.durationSeconds());
        connectionFigures(r, s, joined);
        heartbeatFigures(r, s);
        errorFigures(r, s);
        double elapsed = (System.nanoTime() - t0) / 1e9;
        if (watch.watchesServer()) {
            long perConn = s.joined == 0 ? 0 : (after.rssBytes() - before.rssBytes()) / s.joined;
            r.put("serverRssBeforeMb", Report.mb(before.rssBytes())).put("serverRssEndMb", Report.mb(after.rssBytes()))
                .put("serverPeakRssMb", Report.mb(watch.peakServerRss())).put("serverRssPerConnKb", perConn / 1024.0)
                .put("serverCpuS", after.cpuSeconds() - before.cpuSeconds());
            r.line("server RSS %.1f MB before, %.1f MB at end (peak %.1f MB): %.2f KB per joined connection; CPU %.2f s",
                Report.mb(before.rssBytes()), Report.mb(after.rssBytes()), Report.mb(watch.peakServerRss()),
                perConn / 1024.0, after.cpuSeconds() - before.cpuSeconds());
        }
        r.put("generatorCpuS", self1.cpuSeconds() - self0.cpuSeconds()).put("elapsedS", elapsed);
        r.line("generator CPU %.2f s over %.1f s", self1.cpuSeconds() - self0.cpuSeconds(), elapsed);
        r.print();
        return exitStatus(s);
    }

    private void connectionFigures(Report r, WorkerStats s, WorkerStats atJoin) {
        r.put("connections", s.assigned).put("established", s.established).put("connectFailed", s.connectFailed)
            .put("joined", s.joined).put("joinedBeforeLoad", atJoin.joined).put("connectSeconds", connectSeconds).put("closed", s.closed).put("alive", s.alive);
        r.line("connections %d: established %d, joined %d, failed %d, closed %d, alive at end %d",
            s.assigned, s.established, s.joined, s.connectFailed, s.closed, s.alive);
        if (!s.connectErrors.isEmpty()) {
            r.put("connectErrors", s.connectErrors).line("connect errors %s", s.connectErrors);
        }
    }

    private static void heartbeatFigures(Report r, WorkerStats s) {
        r.put("heartbeatsSent", s.heartbeatsSent).put("heartbeatsAcked", s.heartbeatsAcked)
            .put("heartbeatsUnanswered", s.heartbeatsUnanswered);
        r.line("heartbeats sent %d, acked %d, unanswered %d", s.heartbeatsSent, s.heartbeatsAcked, s.heartbeatsUnanswered);
        r.latency("heartbeatAck", s.heartbeatLatency);
    }

    private static void errorFigures(Report r, WorkerStats s) {
        r.put("errors", s.errors).line("errors by code %s", s.errors.isEmpty() ? "none" : s.errors);
    }

    private static void cpuFigures(Report r, ProcWatch watch, ProcWatch.Sample serverBefore, ProcWatch.Sample server0,
                                   ProcWatch.Sample server1, ProcWatch.Sample self0, ProcWatch.Sample self1,
                                   double window, long deliveries) {
        double genCpu = self1.cpuSeconds() - self0.cpuSeconds();
        double perMillion = deliveries == 0 ? Double.NaN : 1e6 / deliveries;
        if (watch.watchesServer()) {
            double cpu = server1.cpuSeconds() - server0.cpuSeconds();
            r.put("serverCpuS", cpu).put("serverCores", cpu / window)
                .put("serverCpuSPerMillionDeliveries", cpu * perMillion)
                .put("serverPeakRssMb", Report.mb(watch.peakServerRss()))
                .put("serverRssStartMb", Report.mb(serverBefore.rssBytes()))
                .put("serverRssEndMb", Report.mb(server1.rssBytes()))
                .put("serverRssDeltaMb", Report.mb(server1.rssBytes() - serverBefore.rssBytes()));
            r.line("server    CPU %.2f s in window (%.2f cores) = %.2f CPU-s per million deliveries; RSS peak %.1f MB, "
                    + "delta %+.1f MB", cpu, cpu / window, cpu * perMillion, Report.mb(watch.peakServerRss()),
                Report.mb(server1.rssBytes() - serverBefore.rssBytes()));
        }
        r.put("generatorCpuS", genCpu).put("generatorCores", genCpu / window)
            .put("generatorCpuSPerMillionDeliveries", genCpu * perMillion);
        r.line("generator CPU %.2f s in window (%.2f cores) = %.2f CPU-s per million deliveries",
            genCpu, genCpu / window, genCpu * perMillion);
    }

    /**
     * Each --server-pid's CPU seconds in the window, in the order given: the scripts split the sum into the instances
     * and each Redis process (e.g. every master of a cluster) without sampling /proc themselves at other instants.
     */
    private void perPidFigures(Report r, double[] before, double[] after) {
        if (before.length == 0) {
            return;
        }
        List<Double> cpu = new ArrayList<>(before.length);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < before.length; i++) {
            double d = after[i] - before[i];
            cpu.add(Math.round(d * 1000.0) / 1000.0);
            text.append(i == 0 ? "" : ", ").append(cfg.serverPids().get(i)).append(String.format(" %.2f s", d));
        }
        r.put("serverCpuSByPid", cpu).line("server    CPU by pid in window: %s", text);
    }

    /** What the rest of the machine used during the window: a large figure means a noisy, less comparable run. */
    private static void otherLoadFigures(Report r, double machineBusy, double ours, double window) {
        double other = Math.max(0, machineBusy - ours) / window;
        r.put("machineBusyCores", machineBusy / window).put("otherProcessesCores", other);
        r.line("machine   %.2f cores busy, of which other processes %.2f cores (of %d)%s", machineBusy / window, other,
            Runtime.getRuntime().availableProcessors(), other > 0.2 ? "  <- noisy run" : "");
    }

    /** Sends stop at the end of the window; wait (bounded) until the deliveries of in-window sends stop arriving. */
    private WorkerStats drain() throws InterruptedException {
        long drainStart = System.nanoTime();
        long lastCount = -1;
        long lastChange = drainStart;
        while (true) {
            WorkerStats s = collect();
            long now = System.nanoTime();
            if (s.windowDeliveries != lastCount) {
                lastCount = s.windowDeliveries;
                lastChange = now;
            } else if (now - lastChange >= DRAIN_QUIET_NANOS || now - drainStart >= DRAIN_MAX_NANOS) {
                return s;
            }
            Thread.sleep(100);
        }
    }

    /** Adds up the workers' counters; each copy is made on its event loop, so a starved loop answers late. */
    private WorkerStats collect() {
        WorkerStats sum = new WorkerStats();
        for (ClientWorker w : workers) {
            sum.add(Snapshots.await(w.snapshot()));
        }
        return sum;
    }

    private int exitStatus(WorkerStats s) {
        if (s.connectFailed > cfg.maxConnectFailures()) {
            System.err.printf("FAILED: %d connections failed (threshold %d)%n", s.connectFailed, cfg.maxConnectFailures());
            return 1;
        }
        return 0;
    }

    /** Pacing the main thread to the run's deadlines; every loop it waits on is bounded by them. */
    private static void sleepUntil(long deadline) throws InterruptedException {
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }
}
