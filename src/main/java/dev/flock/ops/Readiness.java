package dev.flock.ops;

import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Whether this instance can serve fully, for {@code GET /ready}: a set of named checks (each returns null
 * when fine, a reason otherwise) and a shutting-down flag that SIGTERM sets before any socket is closed,
 * so a load balancer stops routing here first. Checks run on the caller's thread and must not block.
 *
 * <p>A check's own reason can name internal addresses ({@code Connection refused: /127.0.0.1:6380}); {@code /ready}
 * is often reachable from outside, so its body gives only the check's generic reason ({@code "redis: unavailable"}),
 * and the detail goes to the log, once each time the state changes (not once per probe: a balancer probes every second).
 */
public final class Readiness {

    private static final Logger LOG = LoggerFactory.getLogger(Readiness.class);
    public static final String PATH = "/ready";
    static final String SHUTTING_DOWN = "shutting down";
    static final String UNAVAILABLE = "unavailable";

    /** A check, what {@code /ready} says while it fails, and whether failing is expected (logged at info, not warn). */
    private record Check(Supplier<String> reason, String generic, boolean expected) {
    }

    /** Copied on write (checks are added at start-up, read on every probe); iteration follows insertion. */
    private volatile Map<String, Check> checks = Map.of();
    private volatile boolean shuttingDown;
    /** The generic reason last logged (null: ready, or nothing logged yet); guarded by {@code this}. */
    private String lastLogged;

    /**
     * Adds (or replaces) the check named {@code name}; it returns null when fine, a short reason otherwise, which only
     * the log shows: {@code /ready} answers {@code "<name>: unavailable"}.
     */
    public Readiness addCheck(String name, Supplier<String> check) {
        return addCheck(name, UNAVAILABLE, check);
    }

    /** As {@link #addCheck(String, Supplier)}, with what {@code /ready} says while it fails ({@code "<name>: <generic>"}). */
    public Readiness addCheck(String name, String generic, Supplier<String> check) {
        return addCheck(name, generic, check, false);
    }

    /**
     * As {@link #addCheck(String, String, Supplier)} for a state every start passes through (the warm-up): its "not
     * ready" line is at info, so a routine deploy does not raise a warning.
     */
    public Readiness addExpectedCheck(String name, String generic, Supplier<String> check) {
        return addCheck(name, generic, check, true);
    }

    private synchronized Readiness addCheck(String name, String generic, Supplier<String> check, boolean expected) {
        Map<String, Check> next = new LinkedHashMap<>(checks);
        next.put(name, new Check(check, generic, expected));
        checks = next;
        return this;
    }

    public synchronized Readiness removeCheck(String name) {
        Map<String, Check> next = new LinkedHashMap<>(checks);
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

    /**
     * Null when ready, otherwise why not, in detail ({@code "redis: Redis connection lost: Connection refused:
     * /127.0.0.1:6380"}), for the log and embedding code; a throwing check counts as failing.
     */
    public String reason() {
        Failure f = failure();
        return f == null ? null : f.detail;
    }

    /** Null when ready, otherwise the generic reason {@code /ready} gives ({@code "redis: unavailable"}). */
    public String publicReason() {
        Failure f = failure();
        return f == null ? null : f.generic;
    }

    private record Failure(String detail, String generic, boolean expected) {
    }

    private Failure failure() {
        if (shuttingDown) {
            return new Failure(SHUTTING_DOWN, SHUTTING_DOWN, false);
        }
        for (Map.Entry<String, Check> e : checks.entrySet()) {
            String reason;
            try {
                reason = e.getValue().reason().get();
            } catch (RuntimeException ex) {
                reason = "check failed: " + ex;
            }
            if (reason != null) {
                return new Failure(e.getKey() + ": " + reason, e.getKey() + ": " + e.getValue().generic(),
                        e.getValue().expected());
            }
        }
        return null;
    }

    public boolean ready() {
        return reason() == null;
    }

    /**
     * {@code 200 {"status":"ready"}} or {@code 503 {"status":"unavailable","reason":"<name>: <generic>"}}; the detailed
     * reason is logged when it differs from the one last logged.
     */
    public Handler<RoutingContext> handler() {
        return rc -> {
            Failure f = failure();
            logIfChanged(f);
            String reason = f == null ? null : f.generic;
            JsonObject body = reason == null ? new JsonObject().put("status", "ready")
                    : new JsonObject().put("status", "unavailable").put("reason", reason);
            rc.response().setStatusCode(reason == null ? 200 : 503)
                    .putHeader("content-type", "application/json")
                    .putHeader("cache-control", "no-store")
                    .end(body.encode());
        };
    }

    /**
     * Logs the detailed reason when the state changed since the last line, however often probed. The state is the
     * generic reason (which check fails), not the detail: a detail may move on every probe ("heap 91% used", "92%").
     */
    private void logIfChanged(Failure f) {
        String state = f == null ? null : f.generic;
        synchronized (this) {
            if (Objects.equals(state, lastLogged)) {
                return;
            }
            lastLogged = state;
        }
        if (f == null) {
            LOG.info("ready again");
        } else if (f.expected) {
            LOG.info("not ready: {}", f.detail);
        } else {
            LOG.warn("not ready: {}", f.detail);
        }
    }
}
