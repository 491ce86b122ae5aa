package dev.flock.ops;

import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Whether this instance can serve fully, for {@code GET /ready}: a set of named checks (each returns null
 * when fine, a reason otherwise) and a shutting-down flag that SIGTERM sets before any socket is closed,
 * so a load balancer stops routing here first. Checks run on the caller's thread and must not block.
 */
public final class Readiness {

    public static final String PATH = "/ready";
    static final String SHUTTING_DOWN = "shutting down";

    /** Copied on write (checks are added at start-up, read on every probe); iteration follows insertion. */
    private volatile Map<String, Supplier<String>> checks = Map.of();
    private volatile boolean shuttingDown;

    /** Adds (or replaces) the check named {@code name}; it returns null when fine, a short reason otherwise. */
    public synchronized Readiness addCheck(String name, Supplier<String> check) {
        Map<String, Supplier<String>> next = new LinkedHashMap<>(checks);
        next.put(name, check);
        checks = next;
        return this;
    }

    public synchronized Readiness removeCheck(String name) {
        Map<String, Supplier<String>> next = new LinkedHashMap<>(checks);
        next.remove(name);
        checks = next;
        return this;
    }

    /** From now on {@code /ready} answers 503; there is no way back. */
    public void markShuttingDown() {
        shuttingDown = true;
    }

    public boolean shuttingDown() {
        return shuttingDown;
    }

    /** Null when ready, otherwise why not ({@code "redis: connection lost"}); a throwing check counts as failing. */
    public String reason() {
        if (shuttingDown) {
            return SHUTTING_DOWN;
        }
        for (Map.Entry<String, Supplier<String>> e : checks.entrySet()) {
            String reason;
            try {
                reason = e.getValue().get();
            } catch (RuntimeException ex) {
                reason = "check failed: " + ex;
            }
            if (reason != null) {
                return e.getKey() + ": " + reason;
            }
        }
        return null;
    }

    public boolean ready() {
        return reason() == null;
    }

    /** {@code 200 {"status":"ready"}} or {@code 503 {"status":"unavailable","reason":"..."}}. */
    public Handler<RoutingContext> handler() {
        return rc -> {
            String reason = reason();
            JsonObject body = reason == null ? new JsonObject().put("status", "ready")
                    : new JsonObject().put("status", "unavailable").put("reason", reason);
            rc.response().setStatusCode(reason == null ? 200 : 503)
                    .putHeader("content-type", "application/json")
                    .putHeader("cache-control", "no-store")
                    .end(body.encode());
        };
    }
}
