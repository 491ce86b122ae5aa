package dev.flock.transport;

import dev.flock.logging.RepeatedLog;
import dev.flock.time.Clock;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * The router's last failure handler, in place of vertx-web's default, which logs every failure at ERROR with its
 * stack trace ("Unhandled exception in router"): one client aborting POST bodies made 2.5 MB/s of log. Here a
 * client that went away is no error (debug: nobody is left to answer), a failure the client caused (4xx, e.g. a body
 * over the limit) is debug too, and a server error is logged through a {@link RepeatedLog}. The answer is vertx-web's,
 * the status and its reason phrase; a connection whose request body was not read is closed after it, not read to
 * the end of a body nobody wants.
 */
final class RouteFailures implements Handler<RoutingContext> {

    /** A repeated server error shows up again at most this often (with its count). */
    static final int REPEAT_WINDOW_SECONDS = 10;

    private static final Logger LOG = LoggerFactory.getLogger(RouteFailures.class);

    private final RepeatedLog errors;

    RouteFailures(Clock clock) {
        this.errors = new RepeatedLog(LOG, clock, REPEAT_WINDOW_SECONDS);
    }

    @Override
    public void handle(RoutingContext rc) {
        Throwable failure = rc.failure();
        HttpServerResponse response = rc.response();
        if (clientWentAway(failure, response)) {
            LOG.debug("client went away during {} {}: {}", rc.request().method(), rc.normalizedPath(), String.valueOf(failure));
            return;
        }
        int status = status(rc, failure);
        if (status < 500) {
            LOG.debug("{} {} failed with {}: {}", rc.request().method(), rc.normalizedPath(), status, String.valueOf(failure));
        } else {
            // the kind is the cause's class, not the path: paths are the client's to vary
            String kind = status + " " + (failure == null ? "" : failure.getClass().getName());
            errors.error(kind, rc.request().method() + " " + rc.normalizedPath() + " failed with " + status, failure);
        }
        answer(rc, status);
    }

    /**
     * A read that failed because the peer closed or reset the connection: vertx-web reports it as a route failure
     * (BodyHandler even with status 200), before or after the response learns the connection is gone.
     */
    private static boolean clientWentAway(Throwable failure, HttpServerResponse response) {
        return failure instanceof HttpClosedException || failure instanceof IOException || response.closed();
    }

    private static int status(RoutingContext rc, Throwable failure) {
        if (rc.statusCode() >= 400) {
            return rc.statusCode();
        }
        return failure instanceof HttpException e ? e.getStatusCode() : 500;
    }

    private static void answer(RoutingContext rc, int status) {
        HttpServerResponse response = rc.response();
        if (response.ended()) {
            return;
        }
        if (response.headWritten()) {
            response.reset(); // too late for a status: the client must not take a cut-short body for a whole one
            return;
        }
        HttpServerRequest request = rc.request();
        // refused before its body was read (413 for a body over the limit, or a route that failed first): Vert.x
        // would wait for, read and drop all the body its Content-Length announces, to keep the connection for a
        // next request. Closed after the answer instead (RFC 9110 15.5.14 allows it)
        boolean bodyUnread = !request.isEnded() && request.version() != HttpVersion.HTTP_2;
        if (bodyUnread) {
            response.putHeader(HttpHeaders.CONNECTION, "close");
        }
        response.setStatusCode(status).end(response.getStatusMessage())
                .onComplete(ar -> {
                    if (bodyUnread) {
                        request.connection().close();
                    }
                });
    }
}
