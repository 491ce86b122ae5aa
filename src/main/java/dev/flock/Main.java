package dev.flock;

import dev.flock.config.ConfigException;
import dev.flock.cli.FlockCli;
import dev.flock.config.FlockConfig;
import dev.flock.logging.LogFormats;
import dev.flock.logging.LogLevels;
import dev.flock.metrics.FlockMetrics;
import dev.flock.metrics.MeterRegistries;
import dev.flock.metrics.MetricsEndpoint;
import dev.flock.metrics.VertxMeters;
import dev.flock.ops.BuildInfo;
import dev.flock.time.SystemClock;
import dev.flock.transport.CannotListen;
import dev.flock.warmup.StartupWarmup;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsOptions;
import org.slf4j.Logger;
import static net.logstash.logback.argument.StructuredArguments.kv;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar flock-server.jar [--conf flock.json]} ({@code --help} for the rest, {@link FlockCli}): loads the configuration (failing fast on any bad
 * value), builds Vert.x with Micrometer metrics, starts Flock, and shuts down gracefully on SIGTERM.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        // First, before anything loads Netty: its allocator emits JFR events when JFR is present, so its first buffer
        // (the first request) loads and sets up JFR's event machinery, ~0.1 s of the start, for events nobody records.
        // -Dio.netty.jfr.enabled=true brings them back (docs/DECISIONS.md, "Connection storms (issue 22)")
        if (System.getProperty("io.netty.jfr.enabled") == null) {
            System.setProperty("io.netty.jfr.enabled", "false");
        }
        FlockCli.Launch launch = FlockCli.parse(args, System.getenv(), System.out, System.err);
        if (!launch.start()) { // --help, --version, --check-config, a bad argument or configuration
            System.exit(launch.exitCode());
            return;
        }
        FlockConfig config = launch.config();
        System.setProperty("vertx.logger-delegate-factory-class-name", "io.vertx.core.logging.SLF4JLogDelegateFactory");
        LogFormats.apply(config.logFormat()); // before any line: every line of a run in one format
        LogLevels.apply(config.logLevel());
        Logger log = LoggerFactory.getLogger(Main.class);
        launch.warnings().forEach(log::warn);

        BuildInfo build = BuildInfo.current();
        MeterRegistries meters = new MeterRegistries(config, build.version(), build.commit(),
                io.micrometer.core.instrument.Clock.SYSTEM);
        Vertx vertx = newVertx(config, meters.vertxMeters());
        meters.startPush(new SystemClock(vertx)); // each push on a thread of its own, never on an event loop
        if (config.nativeTransport() && !vertx.isNativeTransportEnabled()) {
            log.info("native transport unavailable, using NIO: {}", String.valueOf(vertx.unavailableNativeTransportCause()));
        }
        FlockMetrics metrics = new FlockMetrics(meters.registry());
        MetricsEndpoint metricsEndpoint = new MetricsEndpoint(config, meters.prometheus());
        metricsEndpoint.listen(vertx)
                .compose(metricsPort -> FlockServer.start(vertx, config, metrics, metricsEndpoint::mount)
                        .onSuccess(server -> logStarted(log, config, server, metricsPort)))
                .onFailure(err -> {
                    if (err instanceof ConfigException) { // found only once Vert.x runs (an unusable JWT key, say)
                        System.err.println("flock: invalid configuration: " + err.getMessage());
                        System.exit(2);
                    }
                    if (err instanceof CannotListen) { // the port or the address: the message says all, no stack trace
                        log.error("start-up failed: {}", err.getMessage());
                    } else {
                        log.error("start-up failed: {}", err.getMessage(), err);
                    }
                    System.err.println("flock: start-up failed: " + err.getMessage());
                    System.exit(1);
                })
                .onSuccess(server -> {
                    // after the listener is up, so /health answers from the start; /ready waits for the warm-up
                    StartupWarmup warmup = StartupWarmup.start(config, server.readiness(), Main::newVertx);
                    Runtime.getRuntime().addShutdownHook(new Thread(
                            () -> shutdown(log, vertx, server, warmup, metricsEndpoint, meters), "flock-shutdown"));
                });
    }

    /**
     * The process's Vert.x, and the start-up warm-up's private one ({@link StartupWarmup}): built the same way, so the
     * warm-up compiles the code the serving instance runs. FLOCK_METRICS_ENABLED=false also spares the Vert.x
     * HTTP/event-bus meters their per-event cost.
     */
    public static Vertx newVertx(FlockConfig config, VertxMeters meters) {
        return Vertx.builder()
                .with(new VertxOptions().setPreferNativeTransport(config.nativeTransport()).setEventLoopPoolSize(FlockServer.httpInstances())
                        .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(config.metricsEnabled())
                                .setJvmMetricsEnabled(false)))
                .withMetrics(meters)
                .build();
    }

    /**
     * One line with every field in its JSON type (numbers, booleans; {@code maxRoomSize} 0 = unlimited, {@code
     * metricsPort} 0 = on the main port), so a log query can compare them; the build's version and commit say what runs.
     */
    private static void logStarted(Logger log, FlockConfig config, FlockServer server, int metricsPort) {
        BuildInfo build = BuildInfo.current();
        log.info("flock started {} {} {} {} {} {} {} {} {} {} {} {} {} {}",
                kv("port", server.port()), kv("host", config.host()), kv("mode", config.redisEnabled() ? "redis" : "memory"),
                kv("auth", config.apiKeysRequired()), kv("ttlSeconds", config.presenceTtlSeconds()),
                kv("maxRoomSize", config.maxRoomSize()), kv("maxMessagesPerSecond", config.maxMessagesPerSecond()),
                kv("duplicateJoin", config.duplicateJoin().name().toLowerCase()), kv("flushIntervalMs", config.flushIntervalMs()),
                kv("admin", config.adminEnabled()), kv("metrics", config.metricsEnabled()),
                kv("metricsPort", config.metricsEnabled() ? metricsPort : 0),
                kv("version", build.version()), kv("commit", build.commit()));
        if (config.presenceTtlSeconds() * 1000L < 2L * config.heartbeatIntervalMs()) {
            log.warn("presence TTL ({} s) is shorter than twice the heartbeat interval ({} ms): live users may be evicted",
                    config.presenceTtlSeconds(), config.heartbeatIntervalMs());
        }
    }

    /**
     * SIGTERM: {@code /ready} turns 503 first, then every socket is closed with 4001 "server restarting" (spread out) so SDKs reconnect
     * elsewhere, then the process exits within the timeout.
     */
    private static void shutdown(Logger log, Vertx vertx, FlockServer server, StartupWarmup warmup,
                                 MetricsEndpoint metricsEndpoint, MeterRegistries meters) {
        server.readiness().markShuttingDown();
        log.info("shutting down");
        warmup.stop(); // its private Vert.x closes on its own; the serving one's sockets come first
        CountDownLatch done = new CountDownLatch(1);
        // the latch is counted down by vertx.close()'s own future, not by a future chained after it: a chained one
        // may deliver on an event loop the close has just ended, and then never
        server.stop().eventually(metricsEndpoint::close).onComplete(ar -> vertx.close().onComplete(closed -> done.countDown()));
        try {
            if (!done.await(server.config().shutdownTimeoutMs(), TimeUnit.MILLISECONDS)) {
                log.warn("shutdown timed out after {} ms", server.config().shutdownTimeoutMs());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        meters.close(); // the last OTLP push, with what the shutdown itself counted
        log.info("stopped");
    }
}
