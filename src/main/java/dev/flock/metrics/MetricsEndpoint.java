package dev.flock.metrics;

import dev.flock.config.FlockConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.PrometheusScrapingHandler;

/**
 * Where {@code GET /metrics} is served: on the main port ({@code FLOCK_METRICS_PORT=0}), on a small server of
 * its own ({@code FLOCK_METRICS_PORT=9091}, e.g. to keep it off the public listener), or nowhere
 * ({@code FLOCK_METRICS_ENABLED=false}: 404).
 */
public final class MetricsEndpoint {

    public static final String PATH = "/metrics";

    private final FlockConfig config;
    private final PrometheusMeterRegistry registry;
    private HttpServer server;

    public MetricsEndpoint(FlockConfig config, PrometheusMeterRegistry registry) {
        this.config = config;
        this.registry = registry;
    }

    /** Mounts {@code /metrics} on the main router when metrics are on and have no port of their own. */
    public void mount(Router router) {
        if (config.metricsEnabled() && config.metricsPort() == 0) {
            router.get(PATH).handler(PrometheusScrapingHandler.create(registry));
        }
    }

    /** Starts the separate metrics server when one is configured; completes with its port, or 0 when none. */
    public Future<Integer> listen(Vertx vertx) {
        if (!config.metricsEnabled() || config.metricsPort() == 0) {
            return Future.succeededFuture(0);
        }
        Router router = Router.router(vertx);
        router.get(PATH).handler(PrometheusScrapingHandler.create(registry));
        return dev.flock.transport.CannotListen.naming(config.host(), config.metricsPort(),
                        vertx.createHttpServer().requestHandler(router).listen(config.metricsPort(), config.host()))
                .map(s -> {
                    server = s;
                    return s.actualPort();
                });
    }

    public Future<Void> close() {
        return server == null ? Future.succeededFuture() : server.close();
    }
}
