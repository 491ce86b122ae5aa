package dev.flock.bench;

import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.internal.http.WebSocketInternal;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The bare fan-out floor of issue 9: the least a Vert.x WebSocket server can spend per cursor delivery,
 * with no validation, limits, presence store or metrics. Run it beside flock-server in the same benchmark
 * run and compare ratios. {@code --plain} keeps no rooms at all (only acks), the floor for the hold test.
 * {@code --presence} (issue 22) also does the least a presence server does on every join and leave: the join's ack
 * lists the others, and they are told of the join and of the leave (or close), the floor for connection lifecycles.
 *
 * <pre>java -cp bench/target/flock-bench.jar dev.flock.bench.FloorServer [--port 8788] [--flush-interval-ms 16]
 *     [--plain | --presence] [--loops N] [--native] [--release-upgrade] [--shrink-queue]</pre>
 * {@code --release-upgrade} and {@code --shrink-queue}: experiments, see {@link UpgradeRelease} (let Vert.x drop the
 * upgrade's HTTP connection; start the socket's outbound queue at 16 slots instead of 1,024).
 */
public final class FloorServer {
    private final int port;
    private final long flushIntervalMs;
    private final boolean plain;
    private final boolean presence;
    private final boolean releaseUpgrade;
    private final boolean shrinkQueue;
    private final FloorRooms rooms = new FloorRooms();
    private final ConcurrentHashMap<EventExecutor, FloorFlusher> flushers = new ConcurrentHashMap<>();

    private FloorServer(int port, long flushIntervalMs, boolean plain, boolean presence, boolean releaseUpgrade,
                        boolean shrinkQueue) {
        this.port = port;
        this.flushIntervalMs = flushIntervalMs;
        this.plain = plain;
        this.presence = presence;
        this.releaseUpgrade = releaseUpgrade;
        this.shrinkQueue = shrinkQueue;
    }

    public static void main(String[] args) {
        BenchLogging.quiet();
        int port;
        long flush;
        boolean plain;
        boolean presence;
        int loops;
        boolean nativeTransport;
        boolean releaseUpgrade;
        boolean shrinkQueue;
        try {
            Args a = new Args(args);
            port = a.intOpt("--port", 8788);
            flush = a.intOpt("--flush-interval-ms", 16);
            plain = a.flag("--plain");
            presence = a.flag("--presence");
            loops = a.intOpt("--loops", Runtime.getRuntime().availableProcessors());
            nativeTransport = a.flag("--native");
            releaseUpgrade = a.flag("--release-upgrade");
            shrinkQueue = a.flag("--shrink-queue");
            a.rejectUnknown();
            if (plain && presence) {
                throw Args.fail("--plain keeps no rooms: it cannot announce --presence");
            }
        } catch (Args.UsageError e) {
            System.err.println("FloorServer: " + e.getMessage());
            System.exit(2);
            return;
        }

        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops).setPreferNativeTransport(nativeTransport));
        FloorServer server = new FloorServer(port, flush, plain, presence, releaseUpgrade, shrinkQueue);
        vertx.deployVerticle(() -> server.new Listener(), new DeploymentOptions().setInstances(loops))
            .onSuccess(id -> System.out.printf("floor listening on %d (flush-interval-ms=%d, plain=%b, presence=%b, "
                + "release-upgrade=%b, shrink-queue=%b, loops=%d, transport=%s)%n", port, flush, plain, presence, releaseUpgrade, shrinkQueue, loops,
                vertx.isNativeTransportEnabled() ? "native" : "nio"))
            .onFailure(err -> {
                System.err.println("floor failed to start: " + err);
                System.exit(1);
            });
    }

    private FloorFlusher flusherFor(EventExecutor loop) {
        return flushIntervalMs <= 0 ? null : flushers.computeIfAbsent(loop, l -> new FloorFlusher(l, flushIntervalMs));
    }

    /** One instance per event loop; Vert.x shares the port between them. */
    private final class Listener extends VerticleBase {
        @Override
        public Future<?> start() {
            HttpServerOptions options = new HttpServerOptions()
                .setPerMessageWebSocketCompressionSupported(false) // browsers offer deflate; decline it like the target
                .setPerFrameWebSocketCompressionSupported(false);
            return vertx.createHttpServer(options)
                .webSocketHandler(ws -> {
                    var ctx = ((WebSocketInternal) ws).channelHandlerContext();
                    new FloorConnection(ws, flusherFor(ctx.executor()), rooms, plain, presence);
                    if (shrinkQueue) {
                        UpgradeRelease.shrinkOutboundQueue(ctx);
                    }
                    if (releaseUpgrade) {
                        UpgradeRelease.release(ctx);
                    }
                })
                .listen(port);
        }
    }
}
