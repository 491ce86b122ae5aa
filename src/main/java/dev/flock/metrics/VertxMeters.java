package dev.flock.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.metrics.MetricsOptions;
import io.vertx.core.spi.VertxMetricsFactory;
import io.vertx.core.spi.metrics.VertxMetrics;
import io.vertx.micrometer.MicrometerMetricsFactory;

/**
 * Vert.x's own meters (HTTP, event bus, pools) into a Micrometer registry, as Flock wants them on a port anyone can
 * reach: HTTP method labels from a fixed set ({@link HttpMethodTags}). For {@code Vertx.builder().withMetrics(...)};
 * make it before meters are bound to the registry, since its filter applies to meters registered after it.
 */
public final class VertxMeters implements VertxMetricsFactory {

    private final MicrometerMetricsFactory micrometer;

    public VertxMeters(MeterRegistry registry) {
        registry.config().meterFilter(new HttpMethodTags());
        this.micrometer = new MicrometerMetricsFactory(registry);
    }

    @Override
    public VertxMetrics metrics(VertxOptions options) {
        return micrometer.metrics(options);
    }

    @Override
    public MetricsOptions newOptions() {
        return micrometer.newOptions();
    }

    @Override
    public MetricsOptions newOptions(MetricsOptions options) {
        return micrometer.newOptions(options);
    }

    @Override
    public MetricsOptions newOptions(JsonObject json) {
        return micrometer.newOptions(json);
    }
}
