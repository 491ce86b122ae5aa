package dev.flock.admin;

import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;

import java.util.function.Supplier;

/**
  * The try-it page: {@code GET /api/demo-config} plus the static files of {@code webroot/} at {@code /},
  * all with the page's Content-Security-Policy. Mount it last (it is a GET catch-all that passes on
  * what it does not serve), and not at all when {@code FLOCK_DEMO=false}.
  */
public final class TryItRoutes {

    private final Supplier<Future<DemoConfig>> demoConfig;

    public TryItRoutes(Supplier<Future<DemoConfig>> demoConfig) {
        this.demoConfig = demoConfig;
    }

    public void mount(Router router) {
        router.get("/api/demo-config").handler(ctx -> {
            SecurityHeaders.apply(ctx.response().headers(), SecurityHeaders.PAGE_CSP);
            demoConfig.get().onComplete(ar -> {
                // Without an answer the page assumes open mode; a failure must not hide the page.
                DemoConfig config = ar.succeeded() ? ar.result() : new DemoConfig(false, false, null);
                ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
                        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
                        .end(config.toJson().encode());
            });
        });
        router.get("/*").handler(ctx -> {
            SecurityHeaders.apply(ctx.response().headers(), SecurityHeaders.PAGE_CSP);
            ctx.next();
        });
        router.get("/*").handler(StaticHandler.create("webroot").setCachingEnabled(false));
    }
}
