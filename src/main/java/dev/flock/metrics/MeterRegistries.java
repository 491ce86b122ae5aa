package dev.flock.metrics;

import dev.flock.config.FlockConfig;
import dev.flock.time.Clock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Where the process's meters live, as {@code Main} sets them up: the Prometheus registry {@code /metrics} scrapes
 * and, with {@code FLOCK_OTLP_ENDPOINT}, the OTLP registry that pushes the same meters. With both, meters are made in
 * a composite that forwards every one to each; without OTLP, directly in the Prometheus registry (a composite
 * meter is one more indirection on every increment of the hot path, paid only when something uses it). The Vert.x
 * meters first ({@link VertxMeters}' filter must see every later meter), then the JVM and process binders (on a
 * thread of their own) and {@code flock_build_info}.
 */
public final class MeterRegistries {

    private final PrometheusMeterRegistry prometheus;
    private final OtlpPush otlp;
    private final MeterRegistry registry;
    private final VertxMeters vertxMeters;
    /** The JVM and process binders, bound on a thread of their own while the caller builds Vert.x. */
    private final FutureTask<Void> processMeters;

    /**
     * @param clock Micrometer's clock ({@code Clock.SYSTEM}; a test's, adapted with {@link OtlpPush#micrometerClock})
     */
    public MeterRegistries(FlockConfig config, String version, String commit, io.micrometer.core.instrument.Clock clock) {
        prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new io.prometheus.metrics.model.registry.PrometheusRegistry(), clock);
        if (config.otlp().enabled()) {
            otlp = new OtlpPush(config.otlp(), Map.of("service.version", version), clock);
            registry = new CompositeMeterRegistry(clock, List.of(prometheus, otlp.registry()));
        } else {
            otlp = null;
            registry = prometheus;
        }
        vertxMeters = new VertxMeters(registry); // first: its meter filter sees only later meters
        // ~50 ms of JMX and cgroup look-ups at every start (docs/BENCHMARKS.md, sixteenth session), done beside the
        // Vert.x build instead of before it; registry() and prometheus() wait for them, so nobody sees a registry
        // without them. Registration is thread-safe in Micrometer.
        processMeters = new FutureTask<>(() -> bindProcessMeters(registry), null);
        Thread binder = new Thread(processMeters, "flock-jvm-meters");
        binder.setDaemon(true);
        binder.start();
        FlockMetrics.buildInfo(registry, version, commit);
    }

    /** Waits until the JVM and process meters are bound (at once after the first call). */
    private void awaitProcessMeters() {
        try {
            processMeters.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding the JVM meters", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("the JVM meters could not be bound", e.getCause());
        }
    }

    /** The JVM's and the process's meters (memory, GC, threads, classes, CPU, file descriptors, uptime). */
    private static void bindProcessMeters(MeterRegistry registry) {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** Where meters are made: give it to {@link FlockMetrics} (and any meter of the embedding application's). */
    public MeterRegistry registry() {
        awaitProcessMeters();
        return registry;
    }

    /** What {@code /metrics} serves. */
    public PrometheusMeterRegistry prometheus() {
        awaitProcessMeters();
        return prometheus;
    }

    /** For {@code Vertx.builder().withMetrics(...)}. */
    public VertxMeters vertxMeters() {
        return vertxMeters;
    }

    /** The OTLP push, or null without {@code FLOCK_OTLP_ENDPOINT}. */
    public OtlpPush otlp() {
        return otlp;
    }

    /** Starts the OTLP pushes (if any) on {@code clock}'s timers, once Vert.x runs. */
    public void startPush(Clock clock) {
        if (otlp != null) {
            otlp.start(clock);
        }
    }

    /** The last OTLP push (bounded wait): call it off the event loops, after the server has stopped. */
    public void close() {
        if (otlp != null) {
            otlp.close();
        }
    }
}
