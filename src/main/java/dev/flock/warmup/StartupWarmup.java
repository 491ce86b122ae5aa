package dev.flock.warmup;

import dev.flock.FlockServer;
import dev.flock.config.FlockConfig;
import dev.flock.config.Settings;
import dev.flock.metrics.FlockMetrics;
import dev.flock.metrics.VertxMeters;
import dev.flock.ops.Readiness;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Warms a freshly started process before the first crowd arrives (issue 22). A fresh JVM runs the connection path
 * interpreted until the JIT has compiled it, and a reconnect storm into such a process waits seconds for its acks
 * (docs/BENCHMARKS.md). So right after start, {@code FLOCK_WARMUP_CONNECTIONS} synthetic clients live a whole
 * connection lifecycle against a <em>private</em> Flock server in the same JVM: the same classes and code, hence the
 * same compiled methods, but its own Vert.x instance on a loopback port of its own, in memory mode, with its own
 * throwaway meters and no webhooks, admin, API or Redis. Nothing of it reaches the serving instance's rooms, metrics,
 * webhooks or Redis; it costs CPU (measured in docs/BENCHMARKS.md) for a few seconds, during which the instance
 * serves normally and {@code /ready} answers 503 "warm-up: warming up", so a draining load balancer sends the crowd
 * elsewhere until this instance is warm ({@code /health} is 200 from the start).
 *
 * <p>The private Vert.x is built by the same factory as the serving one ({@link VertxFactory}), with the same
 * options and Micrometer metrics on or off as configured: the compiled code then sees the same types at its call
 * sites as the serving path, and is not thrown away (deoptimised) at the first real client. The warm-up ends after
 * {@link #TIME_LIMIT_MS} whatever is left, and on shutdown; then the private Vert.x is closed.
 */
public final class StartupWarmup {

    private static final Logger LOG = LoggerFactory.getLogger(StartupWarmup.class);
    static final String CHECK = "warm-up";
    /** Bounds the warm-up on a slow or overloaded machine: past this, the instance serves cold rather than wait. */
    static final long TIME_LIMIT_MS = 20_000;
    /** Lifecycles at a time: enough to overlap joins in rooms of ten, well below the open-file limit. */
    static final int CONCURRENCY = 200;

    /** Builds a Vert.x as the serving instance's is built, with the given meters. */
    @FunctionalInterface
    public interface VertxFactory {
        Vertx create(FlockConfig config, VertxMeters meters);
    }

    /** What a warm-up got through: lifecycles completed and failed, and whether the time limit or a stop cut it short. */
    public record Result(int connections, int failed, boolean cutShort) {
    }

    private final Promise<Result> done = Promise.promise();
    private final long timeLimitMs;
    private volatile WarmupTraffic traffic;
    private volatile boolean stopping;
    private volatile boolean cutShort;

    private StartupWarmup(long timeLimitMs) {
        this.timeLimitMs = timeLimitMs;
    }

    /**
     * Starts the warm-up of {@code serving.warmupConnections()} lifecycles (none when 0: {@link #done()} is complete at
     * once) and holds {@code readiness} at "warm-up: warming up" until it ends.
     */
    public static StartupWarmup start(FlockConfig serving, Readiness readiness, VertxFactory factory) {
        return start(serving, readiness, factory, TIME_LIMIT_MS);
    }

    /** As {@link #start(FlockConfig, Readiness, VertxFactory)}, cut short after {@code timeLimitMs}. */
    static StartupWarmup start(FlockConfig serving, Readiness readiness, VertxFactory factory, long timeLimitMs) {
        StartupWarmup warmup = new StartupWarmup(timeLimitMs);
        if (serving.warmupConnections() <= 0) {
            warmup.done.complete(new Result(0, 0, false));
            return warmup;
        }
        readiness.addExpectedCheck(CHECK, "warming up", () -> "warming up");
        warmup.done.future().onComplete(ignored -> readiness.removeCheck(CHECK));
        // a thread of its own: a Vert.x is built off any event loop (the caller's start callback runs on one), and
        // the serving instance's start is not held up by building the private one
        Thread builder = new Thread(() -> warmup.run(serving, factory), "flock-warm-up");
        builder.setDaemon(true);
        builder.start();
        return warmup;
    }

    /** Completes when the warm-up ended (done, cut short, failed or stopped) and its Vert.x is closed; never fails. */
    public Future<Result> done() {
        return done.future();
    }

    /** Ends the warm-up now (the process is shutting down); {@link #done()} completes once its Vert.x is closed. */
    public void stop() {
        stopping = true;
        WarmupTraffic t = traffic;
        if (t != null) {
            t.cancel(); // a no-op once the run has ended
        }
    }

    private void run(FlockConfig serving, VertxFactory factory) {
        long startedAt = System.nanoTime();
        FlockConfig config = privateConfig(serving);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Vertx v;
        try {
            v = factory.create(config, new VertxMeters(registry));
        } catch (RuntimeException e) {
            LOG.warn("warm-up skipped: {}", e.toString());
            done.complete(new Result(0, 0, true));
            return;
        }
        long limit = v.setTimer(timeLimitMs, id -> {
            cutShort = true;
            stop();
        });
        FlockServer.start(v, config, new FlockMetrics(registry))
                .compose(server -> {
                    if (stopping) {
                        return server.stop().map(new Result(0, 0, true));
                    }
                    WarmupTraffic t = new WarmupTraffic(v, server.port(), serving.warmupConnections(), CONCURRENCY);
                    traffic = t;
                    return t.run().compose(outcome -> server.stop().map(outcome));
                })
                .onComplete(ar -> {
                    v.cancelTimer(limit);
                    long ms = (System.nanoTime() - startedAt) / 1_000_000;
                    Result result = ar.failed() ? new Result(0, 0, true) : ar.result();
                    if (ar.failed()) {
                        LOG.warn("warm-up failed after {} ms: {}", ms, ar.cause().toString());
                    } else if (cutShort) {
                        LOG.warn("warm-up cut short at its time limit {} {} {}", kv("ms", ms),
                                kv("connections", result.connections()), kv("failed", result.failed()));
                    } else if (!stopping) {
                        LOG.info("warm-up done {} {} {}", kv("ms", ms), kv("connections", result.connections()),
                                kv("failed", result.failed()));
                    }
                    // done once the private Vert.x is closed: its threads and sockets are gone when /ready turns 200
                    v.close().onComplete(closed -> done.complete(result));
                });
    }

    /**
     * The private server: the serving instance's settings that choose code paths (transport, metrics, frame and
     * metadata limits, flush interval, duplicate-join mode, compression, rate limit), on 127.0.0.1 and a free port,
     * in memory mode, with no limits on room size or connections per address and no webhooks, admin, API,
     * identity, OTLP or try-it page: only the defaults of everything else. (Logging is the process's, set once by
     * {@code Main}; a server's config does not choose it.)
     */
    static FlockConfig privateConfig(FlockConfig s) {
        return FlockConfig.builder()
                .port(0)
                .host("127.0.0.1")
                .demo(false)
                .maxRoomSize(0)
                .maxConnectionsPerIp(0)
                .set(Settings.WARMUP_CONNECTIONS.key(), 0)
                .set(Settings.NATIVE_TRANSPORT.key(), s.nativeTransport())
                .metricsEnabled(s.metricsEnabled())
                .flushIntervalMs(s.flushIntervalMs())
                .duplicateJoin(s.duplicateJoin())
                .websocketCompression(s.websocketCompression())
                .maxFrameBytes(s.maxFrameBytes())
                .maxMetadataBytes(s.maxMetadataBytes())
                .maxIdLength(s.maxIdLength())
                .maxMessagesPerSecond(s.maxMessagesPerSecond())
                .build();
    }
}
