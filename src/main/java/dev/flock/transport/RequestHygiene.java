package dev.flock.transport;

import dev.flock.internals.VertxInternals;
import dev.flock.time.Clock;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * What every request on a Flock router gets whatever its route: a body framing a proxy could read otherwise refused
 * before any route sees it ({@link TransferCodings}), and failures answered and logged without letting a client flood
 * the log ({@link RouteFailures}). Make one per server (the log's windows are shared by its routers) and mount it on
 * each router; the order of mounting does not matter. On Flock's own port WebSocket upgrades are routed too, so the
 * screen sees them first; an embedder's server may hand them to {@link SocketHubs#handshake} instead, which no router
 * precedes, and which asks {@link #refusesUpgrade}.
 */
public final class RequestHygiene {

    private static final Logger LOG = LoggerFactory.getLogger(RequestHygiene.class);
    /** Only a bound: a refused connection closes as soon as its answer is written. */
    private static final Duration CLOSE_AFTER_ANSWER = Duration.ofSeconds(1);

    private final RouteFailures failures;

    public RequestHygiene(Clock clock) {
        this.failures = new RouteFailures(clock);
    }

    public void mount(Router router) {
        // first, before any route can act on a request whose body (and so the next request) may be misread
        router.route().order(Integer.MIN_VALUE).handler(RequestHygiene::screen);
        // last, after any failure handler of a route's own
        router.route().order(Integer.MAX_VALUE).failureHandler(failures);
    }

    private static void screen(RoutingContext rc) {
        HttpServerRequest request = rc.request();
        int refusal = TransferCodings.refusal(request.headers());
        if (refusal == TransferCodings.ACCEPTABLE) {
            rc.next();
            return;
        }
        LOG.debug("refused {} {} with {}: Transfer-Encoding {}", request.method(), request.path(), refusal,
                request.headers().getAll(HttpHeaders.TRANSFER_ENCODING));
        request.response().setStatusCode(refusal).putHeader(HttpHeaders.CONNECTION, "close").end();
        closeAfterAnswer(request.connection());
    }

    /**
     * For the WebSocket handshake handler: true when the upgrade request was refused (and its connection closed) for
     * its Transfer-Encoding, as {@link #mount} refuses other requests.
     */
    public static boolean refusesUpgrade(ServerWebSocketHandshake handshake) {
        int refusal = TransferCodings.refusal(handshake.headers());
        if (refusal == TransferCodings.ACCEPTABLE) {
            return false;
        }
        LOG.debug("refused a WebSocket upgrade with {}: Transfer-Encoding {}", refusal,
                handshake.headers().getAll(HttpHeaders.TRANSFER_ENCODING));
        handshake.reject(refusal);
        closeAfterAnswer(VertxInternals.connection(handshake));
        return true;
    }

    /**
     * Right after the answer was ended, on the connection's loop: a graceful shutdown closes the connection once no
     * response is in progress (now) and drops any request Vert.x has not begun yet, such as one smuggled in behind
     * this one in the bytes already read. A plain close sets no such mark: Vert.x would still handle a request it
     * decodes from those bytes after the close.
     */
    private static void closeAfterAnswer(HttpConnection connection) {
        if (connection != null) {
            connection.shutdown(CLOSE_AFTER_ANSWER);
        }
    }
}
