package dev.flock.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code LoadGen storm} (issue 22): {@code --conns} clients arrive at {@code --connect-rate} per second (or all at
 * once), each joining its room right after the upgrade; reports connect and join-ack percentiles (from each client's
 * scheduled start), the time until the last ack, refusals and failures by kind, and the servers' CPU over the whole
 * storm. With {@code --rounds K} every client is then closed cleanly, the servers are left to go quiet, and the same
 * users arrive again on fresh sockets: round 1 of a fresh server is "fresh", later rounds "warm". Each round prints
 * its own {@code RESULT} line, with the CPU of one lifecycle (connect + join + close) per client.
 * Every wait is bounded (--join-timeout, --close-timeout, --quiet-timeout).
 */
final class StormRun {
    private static final long POLL_MS = 10;

    private final StormConfig cfg;
    private final List<StormWorker> workers = new ArrayList<>();

    private StormRun(StormConfig cfg) {
        this.cfg = cfg;
    }

    static int main(String[] argv) throws InterruptedException {
        StormConfig cfg = StormConfig.parse(argv);
        // refused and reset sockets are counted here; Vert.x would log each one at ERROR
        if (org.slf4j.LoggerFactory.getLogger("io.vertx.core.net.impl.ConnectionBase")
            instanceof ch.qos.logback.classic.Logger resets) {
            resets.setLevel(ch.qos.logback.classic.Level.OFF);
        }
        try (ProcWatch watch = new ProcWatch(cfg.serverPids())) {
            return new StormRun(cfg).run(watch);
        }
    }

    private int run(ProcWatch watch) throws InterruptedException {
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(cfg.loops())
            .setPreferNativeTransport(cfg.nativeTransport()));
        List<Future<?>> deployed = new ArrayList<>();
        for (int w = 0; w < cfg.loops(); w++) {
            StormWorker worker = new StormWorker(cfg, w);
            workers.add(worker);
            deployed.add(vertx.deployVerticle(worker)); // each deployment gets its own context, next event loop
        }
        Future.all(deployed).await();
        System.out.printf("%sstorm: %d clients in %d rooms of %d, %s, %d round(s), to %s from %d source addresses "
                + "(127.0.0.%d+), compression %s%n", tag(), cfg.conns(), cfg.rooms(), cfg.usersPerRoom(),
            cfg.connectRate() == 0 ? "all at once" : String.format("%.0f/s", cfg.connectRate()), cfg.rounds(),
            cfg.urls(), cfg.sourceAddresses(), cfg.sourceBase(), cfg.compression() ? "offered as a browser does" : "not offered");

        GeneratorWarmup.run(vertx, cfg, cfg.generatorWarmup());
        // the server has just started: its start-up work is not the first storm's
        ServerQuiet.Result idle = ServerQuiet.await(watch, cfg.quietTimeoutSeconds());
        int status = 0;
        for (int round = 1; round <= cfg.rounds(); round++) {
            status = Math.max(status, round(round, watch, idle));
            idle = null;
            if (!watch.allServersAlive()) {
                System.out.printf("%sa server exited: no further rounds%n", tag());
                break;
            }
        }
        return status;
    }

    /** One storm, then its closes and the quiet after them; prints the round's figures and RESULT line. */
    private int round(int round, ProcWatch watch, ServerQuiet.Result idleBefore) throws InterruptedException {
        ProcWatch.Sample server0 = watch.server();
        ProcWatch.Sample self0 = watch.self();
        double machine0 = ProcWatch.machineBusySeconds();
        long t0 = System.nanoTime();
        Future.all(workers.stream().map(w -> w.startRound(t0)).toList()).await();

        // 1. the storm: until every client joined, was refused or failed, or the join deadline
        long deadline = t0 + (long) (cfg.joinTimeoutSeconds() * 1e9);
        boolean timedOut = false;
        while (!allSettled()) {
            if (System.nanoTime() >= deadline) {
                timedOut = true;
                Future.all(workers.stream().map(StormWorker::expire).toList()).await();
                break;
            }
            Thread.sleep(POLL_MS);
        }
        ProcWatch.Sample server1 = watch.server();
        ProcWatch.Sample self1 = watch.self();
        double machine1 = ProcWatch.machineBusySeconds();
        long settledAt = System.nanoTime();
        StormStats s = collect();

        // 2. close every client cleanly, then let the servers go quiet: the lifecycle's CPU ends there
        long closeStart = System.nanoTime();
        boolean closesSeen = true;
        try {
            Future.all(workers.stream().map(StormWorker::closeAll).toList())
                .await((long) (cfg.closeTimeoutSeconds() * 1000), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            closesSeen = false;
        }
        double closeS = (System.nanoTime() - closeStart) / 1e9;
        ServerQuiet.Result quiet = ServerQuiet.await(watch, cfg.quietTimeoutSeconds());
        StormStats closed = collect();

        Report r = new Report();
        double stormS = (settledAt - t0) / 1e9;
        double lastAckS = s.lastAckNanos == 0 ? Double.NaN : (s.lastAckNanos - t0) / 1e9;
        r.put("mode", "storm").put("label", cfg.label()).put("round", round).put("phase", round == 1 ? "fresh" : "warm")
            .put("urls", cfg.urls().toString()).put("conns", cfg.conns()).put("usersPerRoom", cfg.usersPerRoom())
            .put("rooms", cfg.rooms()).put("connectRate", cfg.connectRate()).put("sourceAddresses", cfg.sourceAddresses())
            .put("compressionOffered", cfg.compression());
        r.line("%sround %d (%s): %d clients, %s", tag(), round, round == 1 ? "fresh" : "warm", cfg.conns(),
            cfg.connectRate() == 0 ? "all at once" : String.format("%.0f/s", cfg.connectRate()));
        r.put("established", s.established).put("joined", s.joined).put("refused", s.refusedTotal())
            .put("refusedByKind", s.refused).put("failed", s.failedTotal()).put("failedByKind", s.failed)
            .put("joinTimedOut", timedOut).put("droppedAfterJoin", closed.droppedAfterJoin)
            .put("lastAckS", lastAckS).put("stormS", stormS).put("generatorMaxOpenLagMs", s.maxOpenLagNanos / 1e6);
        r.line("joined %d of %d (established %d), refused %d %s, failed %d %s%s", s.joined, s.assigned, s.established,
            s.refusedTotal(), s.refused, s.failedTotal(), s.failed, timedOut ? "  <- join timeout" : "");
        r.line("last join-ack %.3f s after the start; generator opened clients up to %.1f ms late", lastAckS,
            s.maxOpenLagNanos / 1e6);
        r.latency("connect", s.connect);
        r.latency("joinAck", s.joinAck);
        r.put("closesSent", closed.closesSent).put("closesDone", closed.closesDone).put("closeS", closeS)
            .put("closesSeen", closesSeen).put("quietReached", quiet.quiet()).put("quietWaitS", quiet.waitedS());
        r.line("closed %d of %d cleanly in %.2f s%s; server quiet %s after %.1f s", closed.closesDone, closed.closesSent,
            closeS, closesSeen ? "" : " (close timeout)", quiet.quiet() ? "" : "NOT reached", quiet.waitedS());
        if (!closed.droppedAfterJoin.isEmpty()) {
            r.line("closed by the server after their join: %s", closed.droppedAfterJoin);
        }
        boolean serversAlive = watch.allServersAlive();
        r.put("serversAlive", serversAlive);
        if (!serversAlive) {
            r.line("A SERVER EXITED during the round (see its log): no CPU figures");
        }
        if (watch.watchesServer() && serversAlive) {
            double stormCpu = server1.cpuSeconds() - server0.cpuSeconds();
            double lifecycleCpu = quiet.at().cpuSeconds() - server0.cpuSeconds();
            r.put("serverCpuStormS", stormCpu)
                .put("serverCpuMsPerJoin", s.joined == 0 ? Double.NaN : stormCpu * 1000 / s.joined)
                .put("serverCpuLifecycleS", lifecycleCpu)
                .put("serverCpuMsPerLifecycle", lifecycleCpu * 1000 / cfg.conns())
                .put("serverPeakRssMb", Report.mb(watch.peakServerRss()));
            r.line("server    CPU %.2f s over the storm = %.3f ms per joined client; %.2f s until quiet after the closes "
                    + "= %.3f ms per lifecycle (connect + join + close)", stormCpu,
                s.joined == 0 ? Double.NaN : stormCpu * 1000 / s.joined, lifecycleCpu, lifecycleCpu * 1000 / cfg.conns());
            if (idleBefore != null) {
                r.put("serverStartQuiet", idleBefore.quiet()).put("serverStartQuietWaitS", idleBefore.waitedS());
            }
        }
        double genCpu = self1.cpuSeconds() - self0.cpuSeconds();
        double other = Math.max(0, (machine1 - machine0) - genCpu - (server1.cpuSeconds() - server0.cpuSeconds()));
        r.put("generatorCpuStormS", genCpu).put("otherProcessesCores", stormS > 0 ? other / stormS : Double.NaN);
        r.line("generator CPU %.2f s over the storm; other processes %.2f cores%s", genCpu,
            stormS > 0 ? other / stormS : Double.NaN, stormS > 0 && other / stormS > 0.2 ? "  <- noisy run" : "");
        r.print();
        return s.joined == s.assigned && serversAlive ? 0 : 1;
    }

    private boolean allSettled() {
        for (StormWorker w : workers) {
            if (w.settled() < w.assigned()) {
                return false;
            }
        }
        return true;
    }

    private StormStats collect() {
        StormStats sum = new StormStats();
        for (StormWorker w : workers) {
            sum.add(Snapshots.await(w.snapshot()));
        }
        return sum;
    }

    private String tag() {
        return cfg.label().isEmpty() ? "" : "[" + cfg.label() + "] ";
    }
}
