package dev.flock.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code LoadGen capacity}: how many browser-like connections a server holds, and how it refuses the rest
 * (bench/run-capacity.sh). Opens {@code --conns} sockets at {@code --connect-rate}, each offering permessage-deflate,
 * bound to one of {@code --source-addrs} loopback source addresses and joining one room (rooms of 10 by default);
 * waits until every one joined, failed or closed (bounded); holds for {@code --hold} seconds with a heartbeat every
 * 10 s; then sends every joined socket one more heartbeat (the probe) and classifies each connection, one kind each:
 * {@code alive} (joined, open, every heartbeat acked), {@code refused503}, {@code closed1013BeforeJoin/AfterJoin}, or
 * another failure by kind. With {@code --server-pid} it reports the server's RSS before the first connection, at the
 * end of the hold and its peak (VmHWM), and notices when the server dies.
 *
 * <p>Every wait is bounded: connecting by {@code --settle-timeout}, the hold by {@code --hold}, the probe by
 * {@code --probe-timeout}, each handshake by {@code --handshake-timeout}.
 */
final class CapacityRun {

    private final CapacityConfig cfg;
    private final List<CapacityWorker> workers = new ArrayList<>();
    private final long t0 = System.nanoTime();
    private Vertx vertx;
    private double serverDiedAtS = -1;
    private long heldWhenServerDied = -1;
    private long joinedWhenServerDied = -1;
    private long maxHeld;
    /** Connections joined and open (and joins so far) when the first clean refusal was seen, at 1 s resolution. */
    private long heldAtFirstRefusal = -1;
    private long joinedAtFirstRefusal = -1;

    private CapacityRun(CapacityConfig cfg) {
        this.cfg = cfg;
    }

    static int main(String[] argv) throws InterruptedException {
        CapacityConfig cfg = parse(argv);
        // a server that dies resets thousands of sockets at once, each logged by Vert.x at ERROR: counted here instead
        if (org.slf4j.LoggerFactory.getLogger("io.vertx.core.net.impl.ConnectionBase")
            instanceof ch.qos.logback.classic.Logger resets) {
            resets.setLevel(ch.qos.logback.classic.Level.OFF);
        }
        try (ProcWatch watch = new ProcWatch(cfg.serverPids())) {
            return new CapacityRun(cfg).run(watch);
        }
    }

    static CapacityConfig parse(String[] argv) {
        Args a = new Args(argv);
        a.positional(); // "capacity"
        var urls = LoopbackUrls.parse(a.opt("--url", "ws://127.0.0.1:8787/"));
        int conns = a.intOpt("--conns", 10_000);
        int first = a.intOpt("--first-conn", 0);
        int rooms = a.intOpt("--rooms", Math.max(1, (first + conns) / 10));
        double rate = a.doubleOpt("--connect-rate", 500);
        double hold = a.doubleOpt("--hold", 30);
        long heartbeatMs = a.intOpt("--heartbeat-ms", 10_000);
        int sourceBase = a.intOpt("--source-base", 2);
        int sourceAddrs = a.intOpt("--source-addrs", 40);
        int maxPerSource = a.intOpt("--max-per-source", 500);
        boolean compression = !a.flag("--no-compression");
        boolean vertxDeflate = a.flag("--vertx-deflate") && compression;
        String pids = a.opt("--server-pid", "");
        int loops = a.intOpt("--loops", Runtime.getRuntime().availableProcessors());
        boolean nativeTransport = a.flag("--native");
        String prefix = a.opt("--room-prefix", "cap-" + Long.toHexString(System.nanoTime() & 0xffffff) + "-");
        double settle = a.doubleOpt("--settle-timeout", 60 + conns / Math.max(1, rate));
        double handshake = a.doubleOpt("--handshake-timeout", 20);
        double probe = a.doubleOpt("--probe-timeout", 15);
        String label = a.opt("--label", "");
        TokenMinter tokens = TokenMinter.of(a.opt("--token-alg", ""), a.opt("--token-key", ""));
        a.rejectUnknown();
        if (conns < 1 || first < 0 || rooms < 1 || rate <= 0 || hold < 0 || hold > 3600 || heartbeatMs < 100
            || loops < 1 || sourceAddrs < 0 || sourceBase < 1 || sourceBase + sourceAddrs > 255 || settle <= 0
            || settle > 3600 || handshake <= 0 || probe <= 0 || probe > 600) {
            throw Args.fail("out-of-range option (conns, rooms, loops >= 1; connect-rate > 0; 0 <= hold <= 3600; "
                + "source-base + source-addrs <= 255; timeouts > 0 and bounded)");
        }
        if (sourceAddrs > 0 && urls.stream().anyMatch(u -> !LoopbackUrls.host(u).startsWith("127."))) {
            throw Args.fail("--source-addrs binds 127.0.0.x: give --url as ws://127.0.0.1:port/ (or --source-addrs 0)");
        }
        List<String> serverPids = pids.isBlank() ? List.of() : Arrays.stream(pids.split(",")).map(String::trim).toList();
        CapacityConfig cfg = new CapacityConfig(urls, conns, first, rooms, rate, hold, heartbeatMs, sourceBase,
            sourceAddrs, maxPerSource, compression, vertxDeflate, serverPids, loops, nativeTransport, prefix, settle, handshake, probe,
            label, tokens);
        if (cfg.perSourceUpperBound() > maxPerSource) {
            throw Args.fail("up to " + cfg.perSourceUpperBound() + " connections per source address, above "
                + "--max-per-source " + maxPerSource + ": give more --source-addrs");
        }
        LoadGen.checkFileLimit(conns);
        if (tokens != null) {
            long t0 = System.nanoTime();
            tokens.prepare(first, conns);
            System.out.printf("signed %d tokens in %.1f s%n", conns, (System.nanoTime() - t0) / 1e9);
        }
        return cfg;
    }

    private int run(ProcWatch watch) throws InterruptedException {
        ProcWatch.Sample server0 = watch.server();
        long rssIdle = server0.rssBytes();
        ProcWatch.Sample self0 = watch.self();
        double machine0 = ProcWatch.machineBusySeconds();
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(cfg.loops()).setPreferNativeTransport(cfg.nativeTransport()));
        List<Future<?>> deployed = new ArrayList<>();
        for (int w = 0; w < cfg.loops(); w++) {
            CapacityWorker worker = new CapacityWorker(cfg, w);
            workers.add(worker);
            deployed.add(vertx.deployVerticle(worker));
        }
        Future.all(deployed).await();
        System.out.printf("%sconnecting %d browser-like clients (#%d..#%d, %d rooms, compression %s, %d source addresses "
                + "127.0.0.%d+) to %s at %.0f/s%n", tag(), cfg.conns(), cfg.firstConn(), cfg.firstConn() + cfg.conns() - 1,
            cfg.rooms(), !cfg.compression() ? "not offered" : cfg.vertxDeflate() ? "offered by Vert.x"
                : "offered as a browser does", cfg.sourceAddresses(), cfg.sourceBase(),
            cfg.urls(), cfg.connectRate());

        // 1. connect until every connection joined, failed or closed (bounded)
        long settleEnd = t0 + (long) (cfg.settleTimeoutSeconds() * 1e9);
        CapacityWorker.Stats s = collect();
        long lastPrint = System.nanoTime();
        while (s.settled < s.assigned && System.nanoTime() < settleEnd) {
            Thread.sleep(1000);
            s = collect();
            watchServer(watch, s);
            if (System.nanoTime() - lastPrint >= 5_000_000_000L) {
                progress(s, watch);
                lastPrint = System.nanoTime();
            }
            if (serverDiedAtS >= 0 && elapsed() - serverDiedAtS > 5) {
                break; // what was open is closed by now
            }
        }
        double connectS = elapsed();
        double serverCpuConnectS = watch.server().cpuSeconds() - server0.cpuSeconds();
        if (s.settled < s.assigned) {
            System.out.printf("%snot all settled after %.0f s (%d of %d): going on%n", tag(), connectS, s.settled, s.assigned);
        }
        progress(s, watch);

        // 2. hold with heartbeats flowing
        long holdEnd = System.nanoTime() + (long) (cfg.holdSeconds() * 1e9);
        System.out.printf("%sholding for %.0f s%n", tag(), cfg.holdSeconds());
        lastPrint = System.nanoTime();
        while (System.nanoTime() < holdEnd && serverDiedAtS < 0) {
            Thread.sleep(Math.max(1, Math.min(1000, (holdEnd - System.nanoTime()) / 1_000_000)));
            s = collect();
            watchServer(watch, s);
            if (System.nanoTime() - lastPrint >= 10_000_000_000L) {
                progress(s, watch);
                lastPrint = System.nanoTime();
            }
        }
        long rssAtHold = watch.server().rssBytes();
        long hwmAtHold = hwm();
        long heldAtSample = collect().joinedOpen;
        long fdsAtHold = openFiles();

        // 3. probe: one more heartbeat on every joined socket, every one must be acked
        workers.forEach(CapacityWorker::startProbe);
        long probeEnd = System.nanoTime() + (long) (cfg.probeTimeoutSeconds() * 1e9);
        boolean probed = false;
        while (!probed && System.nanoTime() < probeEnd) {
            Thread.sleep(200);
            probed = true;
            for (CapacityWorker w : workers) {
                probed &= Snapshots.await(w.probeDone());
            }
        }
        s = new CapacityWorker.Stats();
        for (CapacityWorker w : workers) {
            s.add(Snapshots.await(w.classify()));
        }
        watchServer(watch, s);
        boolean serverAlive = watch.allServersAlive();
        long hwmEnd = hwm();
        ProcWatch.Sample self1 = watch.self();
        double machine1 = ProcWatch.machineBusySeconds();

        Report r = report(s, rssIdle, rssAtHold, hwmAtHold, Math.max(hwmEnd, hwmAtHold), heldAtSample, serverAlive,
            connectS, probed);
        r.put("heldAtFirstRefusal", heldAtFirstRefusal < 0 ? null : heldAtFirstRefusal)
            .put("joinedAtFirstRefusal", joinedAtFirstRefusal < 0 ? null : joinedAtFirstRefusal)
            .put("serverOpenFilesAtHold", cfg.serverPids().isEmpty() ? null : fdsAtHold);
        double elapsed = elapsed();
        // the server's CPU while the connections opened and joined (upgrade, token check, join): per joined connection
        r.put("serverCpuConnectS", serverCpuConnectS)
            .put("serverCpuPerJoinMs", s.joinedEver == 0 ? null : serverCpuConnectS * 1000 / s.joinedEver)
            .put("tokens", cfg.tokens() != null);
        r.put("generatorCpuS", self1.cpuSeconds() - self0.cpuSeconds()).put("elapsedS", elapsed)
            .put("machineBusyCores", (machine1 - machine0) / elapsed);
        r.print();
        return 0;
    }

    private Report report(CapacityWorker.Stats s, long rssIdle, long rssAtHold, long hwmAtHold, long hwm,
                          long heldAtSample, boolean serverAlive, double connectS, boolean probed) {
        long alive = s.outcomes.getOrDefault("alive", 0L);
        long refused503 = s.outcomes.getOrDefault("refused503", 0L);
        long closed1013 = s.outcomes.getOrDefault("closed1013BeforeJoin", 0L)
            + s.outcomes.getOrDefault("closed1013AfterJoin", 0L);
        Map<String, Long> other = new TreeMap<>(s.outcomes);
        other.keySet().removeAll(List.of("alive", "refused503", "closed1013BeforeJoin", "closed1013AfterJoin"));
        long otherCount = other.values().stream().mapToLong(Long::longValue).sum();
        Report r = new Report();
        r.put("mode", "capacity").put("label", cfg.label()).put("urls", cfg.urls().toString())
            .put("connections", s.assigned).put("firstConn", cfg.firstConn()).put("rooms", cfg.rooms())
            .put("compressionOffered", cfg.compression())
            .put("extensionsOffered", !cfg.compression() ? null : cfg.vertxDeflate() ? "permessage-deflate (Vert.x)"
                : CapacityWorker.BROWSER_EXTENSIONS).put("sourceAddresses", cfg.sourceAddresses())
            .put("maxPerSourceAddress", cfg.perSourceUpperBound()).put("connectRate", cfg.connectRate())
            .put("holdS", cfg.holdSeconds()).put("connectSeconds", connectS)
            .put("established", s.established).put("joined", s.joinedEver).put("maxHeld", maxHeld)
            .put("heldAtRssSample", heldAtSample).put("aliveAtEnd", alive)
            .put("refused503", refused503).put("closed1013", closed1013)
            .put("otherFailures", otherCount).put("otherFailureKinds", other)
            .put("outcomes", s.outcomes).put("errors", s.errors)
            .put("heartbeatsSent", s.heartbeatsSent).put("heartbeatsAcked", s.heartbeatsAcked)
            .put("heartbeatsUnanswered", s.heartbeatsUnanswered).put("probeComplete", probed);
        r.line("connections %d (#%d..): established %d, joined %d, alive at end %d; refused 503: %d, closed 1013: %d, "
                + "other failures %d %s", s.assigned, cfg.firstConn(), s.established, s.joinedEver, alive, refused503,
            closed1013, otherCount, other.isEmpty() ? "" : other);
        r.line("heartbeats sent %d, acked %d, unanswered while the next was due %d%s", s.heartbeatsSent,
            s.heartbeatsAcked, s.heartbeatsUnanswered, probed ? "" : " (probe incomplete: some unanswered)");
        if (!s.errors.isEmpty()) {
            r.line("error frames by code %s", s.errors);
        }
        r.latency("heartbeatAck", s.heartbeatLatency);
        if (!cfg.serverPids().isEmpty()) {
            double perHeld = alive == 0 ? Double.NaN : (rssAtHold - rssIdle) / (double) alive / 1024.0;
            r.put("serverRssIdleMb", Report.mb(rssIdle)).put("serverRssAtHoldMb", Report.mb(rssAtHold))
                .put("serverHwmAtHoldMb", Report.mb(hwmAtHold)).put("serverHwmMb", Report.mb(hwm))
                .put("serverRssPerHeldKb", perHeld).put("serverAlive", serverAlive)
                .put("serverDiedAtS", serverDiedAtS < 0 ? null : serverDiedAtS)
                .put("joinedWhenServerDied", joinedWhenServerDied < 0 ? null : joinedWhenServerDied)
                .put("heldWhenServerDied", heldWhenServerDied < 0 ? null : heldWhenServerDied);
            r.line("server RSS idle %.1f MB, at hold %.1f MB, VmHWM %.1f MB: %.2f KB per held connection; server %s",
                Report.mb(rssIdle), Report.mb(rssAtHold), Report.mb(hwm), perHeld,
                serverAlive ? "alive" : String.format("DEAD (gone at %.0f s, %d joined, %d held then)", serverDiedAtS,
                    joinedWhenServerDied, heldWhenServerDied));
        }
        return r;
    }

    private void progress(CapacityWorker.Stats s, ProcWatch watch) {
        System.out.printf("%s%5.0f s: opened %d, established %d, joined %d (open %d), failed %d, closed %d; server RSS %.1f MB%s%n",
            tag(), elapsed(), s.opened, s.established, s.joinedEver, s.joinedOpen, s.connectFailed, s.closed,
            Report.mb(watch.server().rssBytes()), serverDiedAtS >= 0 ? " (server gone)" : "");
    }

    private void watchServer(ProcWatch watch, CapacityWorker.Stats s) {
        maxHeld = Math.max(maxHeld, s.joinedOpen);
        if (heldAtFirstRefusal < 0 && s.refused503 + s.closed1013 > 0) {
            heldAtFirstRefusal = s.joinedOpen;
            joinedAtFirstRefusal = s.joinedEver;
            System.out.printf("%sfirst clean refusal by %.0f s: %d held, %d joined so far%n", tag(), elapsed(),
                s.joinedOpen, s.joinedEver);
        }
        if (serverDiedAtS < 0 && !cfg.serverPids().isEmpty() && !watch.allServersAlive()) {
            serverDiedAtS = elapsed();
            joinedWhenServerDied = s.joinedEver;
            heldWhenServerDied = maxHeld;
            System.out.printf("%sserver process gone at %.0f s, after %d joins%n", tag(), serverDiedAtS, s.joinedEver);
        }
    }

    /** A pid is alive while /proc/pid/stat exists and its state is not Z (the script has not reaped it yet). */

    /** Entries of /proc/pid/fd summed over the server pids (sockets plus the JVM's own files); 0 for a gone pid. */
    private long openFiles() {
        long n = 0;
        for (String pid : cfg.serverPids()) {
            try (var fds = Files.list(Path.of("/proc", pid, "fd"))) {
                n += fds.count();
            } catch (IOException | RuntimeException gone) {
                // counts as 0
            }
        }
        return n;
    }

    /** VmHWM summed over the server pids, bytes; 0 for a gone pid. */
    private long hwm() {
        long sum = 0;
        for (String pid : cfg.serverPids()) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc", pid, "status"))) {
                    if (line.startsWith("VmHWM:")) {
                        sum += Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
                    }
                }
            } catch (IOException | RuntimeException gone) {
                // counts as 0
            }
        }
        return sum;
    }

    private CapacityWorker.Stats collect() {
        CapacityWorker.Stats sum = new CapacityWorker.Stats();
        for (CapacityWorker w : workers) {
            sum.add(Snapshots.await(w.snapshot()));
        }
        return sum;
    }


    private double elapsed() {
        return (System.nanoTime() - t0) / 1e9;
    }

    private String tag() {
        return cfg.label().isEmpty() ? "" : "[" + cfg.label() + "] ";
    }
}
