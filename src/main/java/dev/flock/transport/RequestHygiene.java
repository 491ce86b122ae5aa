package dev.flock.transport;

import dev.flock.time.Clock;
import io.vertx.ext.web.Router;

/**
 * What every request on a Flock router gets whatever its route: failures answered and logged without letting a
 * client flood the log ({@link RouteFailures}). Make one per server (the log's windows are shared by its routers)
 * and mount it on each router; the order of mounting does not matter.
 */
public final class RequestHygiene {

    private final RouteFailures failures;

    public RequestHygiene(Clock clock) {
        this.failures = new RouteFailures(clock);
    }

    public void mount(Router router) {
        // last, after any failure handler of a route's own
        router.route().order(Integer.MAX_VALUE).failureHandler(failures);
    }
}
