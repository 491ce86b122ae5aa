package dev.flock.metrics;

import dev.flock.config.OtlpSettings;
import dev.flock.time.Clock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.registry.otlp.AggregationTemporality;
import io.micrometer.registry.otlp.HistogramFlavor;
import io.micrometer.registry.otlp.OtlpConfig;
import io.micrometer.registry.otlp.OtlpMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code FLOCK_OTLP_ENDPOINT}: the meters pushed to an OpenTelemetry collector over OTLP/HTTP (protobuf) every
 * {@code FLOCK_OTLP_STEP_SECONDS}, with Micrometer's OTLP registry. Flock, not Micrometer, schedules the pushes: on
 * the {@link Clock} it is given (a test moves it), each push handed to one thread of its own, because the registry's
 * HTTP sender blocks for the round trip (up to its timeouts) and must never run on an event loop. A push still under
 * way when the next is due makes that one skip, so a slow collector cannot pile pushes up.
 */
public final class OtlpPush {

    private static final Logger LOG = LoggerFactory.getLogger(OtlpPush.class);
    private static final long CLOSE_WAIT_MS = 5_000;

    private final Registry registry;
    private final String url;
    /** For log lines: scheme, host and port. */
    private final String shown;
    private final long stepMs;
    private final ExecutorService pusher = Executors.newSingleThreadExecutor(daemon("flock-otlp-push"));
    private final AtomicBoolean inFlight = new AtomicBoolean();
    private Clock clock;
    private long timer = -1;

    /**
     * @param clock Micrometer's clock for the registry's timestamps and windows: {@code Clock.SYSTEM}, or in a test
     *              {@link #micrometerClock} over the test's clock
     */
    public OtlpPush(OtlpSettings settings, Map<String, String> resource, io.micrometer.core.instrument.Clock clock) {
        this.url = settings.metricsUrl(); // validated with the configuration (OtlpSettings)
        this.shown = settings.shownUrl();
        this.stepMs = settings.stepSeconds() * 1000L;
        Map<String, String> attributes = new java.util.LinkedHashMap<>(resource);
        attributes.put("service.name", settings.serviceName());
        this.registry = new Registry(new Config(url, Duration.ofMillis(stepMs), Map.copyOf(attributes)), clock);
    }

    /** A Micrometer clock reading Flock's clock, so a test's clock also moves the registry's time. */
    public static io.micrometer.core.instrument.Clock micrometerClock(Clock clock) {
        return new io.micrometer.core.instrument.Clock() {
            @Override
            public long wallTime() {
                return clock.millis();
            }

            @Override
            public long monotonicTime() {
                return TimeUnit.MILLISECONDS.toNanos(clock.monotonicMillis());
            }
        };
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** Where the pushes go: the endpoint plus {@code /v1/metrics}. */
    public String url() {
        return url;
    }

    /** Pushes every step from now, on {@code clock}'s timers (which only hand the push to the push thread). */
    public synchronized void start(Clock clock) {
        if (timer >= 0) {
            return;
        }
        this.clock = clock;
        timer = clock.setPeriodic(stepMs, id -> pushSoon());
        LOG.info("pushing metrics over OTLP to {} every {} s", shown, stepMs / 1000);
    }

    /** Whether a push is under way (handed to the push thread and not finished). */
    boolean pushing() {
        return inFlight.get();
    }

    /** Hands one push to the push thread, unless one is under way; returns at once. */
    void pushSoon() {
        if (!inFlight.compareAndSet(false, true)) {
            return; // the previous push is still waiting for the collector: this step is skipped
        }
        try {
            pusher.execute(() -> {
                try {
                    registry.push();
                } catch (RuntimeException e) {
                    LOG.warn("OTLP push to {} failed: {}", shown, e.toString());
                } finally {
                    inFlight.set(false);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            inFlight.set(false); // closed meanwhile
        }
    }

    /**
     * Stops the timer, pushes a last time (what happened since the last step is not lost at a restart) and closes the
     * registry, waiting at most 5 s for the collector; blocks, so call it off the event loops (the shutdown hook).
     */
    public void close() {
        synchronized (this) {
            if (timer >= 0) {
                clock.cancelTimer(timer);
                timer = -1;
            }
        }
        try {
            Future<?> last = pusher.submit(registry::close);
            last.get(CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return; // already closed
        } catch (java.util.concurrent.TimeoutException e) {
            LOG.warn("the last OTLP push to {} did not finish within {} ms", shown, CLOSE_WAIT_MS);
        } catch (java.util.concurrent.ExecutionException e) {
            LOG.warn("the last OTLP push to {} failed: {}", shown, e.getCause().toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            pusher.shutdownNow();
        }
    }

    private static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** Micrometer's OTLP registry, with its own scheduler left off: {@link OtlpPush} decides when to push. */
    private static final class Registry extends OtlpMeterRegistry {

        Registry(OtlpConfig config, io.micrometer.core.instrument.Clock clock) {
            super(config, clock);
        }

        /** Called by the constructor: no scheduler thread of Micrometer's (the pushes are scheduled by Flock). */
        @Override
        public void start(ThreadFactory threadFactory) {
        }

        void push() {
            publish();
        }
    }

    /**
     * Everything from Flock's settings, nothing from Micrometer's defaults that read {@code OTEL_*} variables (the
     * export interval, temporality or histogram kind must not change behind the operator's back), except the
     * headers: {@code OTEL_EXPORTER_OTLP_HEADERS} stays the way to give a collector's API key, as with OTel SDKs.
     */
    private record Config(String url, Duration step, Map<String, String> resourceAttributes) implements OtlpConfig {

        @Override
        public String get(String key) {
            return null;
        }

        @Override
        public AggregationTemporality aggregationTemporality() {
            return AggregationTemporality.CUMULATIVE; // the same counts Prometheus scrapes
        }

        @Override
        public HistogramFlavor histogramFlavor() {
            return HistogramFlavor.EXPLICIT_BUCKET_HISTOGRAM; // the same buckets as /metrics
        }
    }
}
