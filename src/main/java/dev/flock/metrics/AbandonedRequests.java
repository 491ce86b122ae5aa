package dev.flock.metrics;

import dev.flock.internals.VertxInternals;
import io.vertx.core.Future;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.observability.HttpRequest;
import io.vertx.core.spi.observability.HttpResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Vert.x's HTTP server meters, passed through, with the bookkeeping of requests a client abandoned made whole: a
 * request whose response went out before its body had arrived, on a connection that then closed, is reported reset;
 * a request is reported reset at most once.
 *
 * <p>Vert.x Micrometer counts a request in {@code vertx_http_server_active_requests} until it has seen both the
 * request's end and the response's end, or a reset. Vert.x 5.1.6 reports neither the end nor a reset for a request
 * answered before its end was read (a 404 or 401 before the announced body came, {@code /health} with a
 * {@code Content-Length}, the 400 for a header Netty cannot parse, whose end never comes) once its connection
 * closes: on close it only tells the request whose response is still in progress, and the answered one has none.
 * Each such request stayed "active" for ever (eclipse-vertx/vert.x#6328). Here those requests wait for their
 * connection's close and are then reported reset, which is what ends them in Vert.x Micrometer's books (and counts
 * them in {@code vertx_http_server_request_resets_total}). Upstream's fix (vert.x#6336, after 5.1.6) makes the
 * response's end the request's last event instead: with a Vert.x that has it, check whether Vert.x Micrometer then
 * ends the request there, and drop this class if so ({@code HttpMetricsUnderAttackTest} sees a gauge below zero).
 *
 * <p>The other way round, a connection reset (RST) in the middle of a body the route reads is reported reset twice
 * (once as the read fails, once more as the error response vertx-web then writes completes), and Vert.x Micrometer
 * takes the request off the gauge each time: the gauge went below zero. The second report is dropped.
 */
final class AbandonedRequests implements HttpServerMetrics<AbandonedRequests.Request, Object> {

    /** Vert.x's metric of one request, and what has been reported about it; touched only on its connection's loop. */
    static final class Request {
        final Object metric;
        final HttpConnection connection;
        boolean requestEnded;
        boolean reset;
        boolean awaitingClose;

        Request(Object metric, HttpConnection connection) {
            this.metric = metric;
            this.connection = connection;
        }
    }

    private final HttpServerMetrics<Object, Object> delegate;
    /**
     * Requests answered before their end, by connection. The entry stays until the connection closes (one close
     * listener per connection, however many requests it carries); a request leaves it when its body completes.
     */
    private final Map<HttpConnection, List<Request>> answeredEarly = new ConcurrentHashMap<>();

    @SuppressWarnings("unchecked")
    AbandonedRequests(HttpServerMetrics<?, ?> delegate) {
        this.delegate = (HttpServerMetrics<Object, Object>) delegate;
    }

    @Override
    public Request requestBegin(SocketAddress remoteAddress, HttpRequest request) {
        // HTTP/1.x hands over the request itself; HTTP/2 streams (a view of their headers) are reset by Vert.x anyway
        HttpConnection connection = request instanceof HttpServerRequest r ? r.connection() : null;
        return new Request(delegate.requestBegin(remoteAddress, request), connection);
    }

    @Override
    public void requestEnd(Request request, HttpRequest httpRequest, long bytesRead) {
        request.requestEnded = true;
        if (request.awaitingClose) {
            // its body came in full after all: forget it, or a long keep-alive connection would pile them up
            List<Request> waiting = answeredEarly.get(request.connection);
            if (waiting != null) {
                waiting.remove(request);
            }
        }
        delegate.requestEnd(request.metric, httpRequest, bytesRead);
    }

    @Override
    public void requestReset(Request request) {
        if (request.reset) {
            return; // see the class comment: Vert.x Micrometer would take it off the gauge a second time
        }
        request.reset = true;
        delegate.requestReset(request.metric);
    }

    @Override
    public void requestUpgraded(Request request) {
        delegate.requestUpgraded(request.metric);
    }

    @Override
    public void responseBegin(Request request, HttpResponse response) {
        delegate.responseBegin(request.metric, response);
    }

    @Override
    public Request responsePushed(SocketAddress remoteAddress, HttpMethod method, String uri, HttpResponse response) {
        Request pushed = new Request(delegate.responsePushed(remoteAddress, method, uri, response), null);
        pushed.requestEnded = true; // a pushed response has no request to wait for
        return pushed;
    }

    @Override
    public void responseEnd(Request request, HttpResponse response, long bytesWritten) {
        delegate.responseEnd(request.metric, response, bytesWritten);
        if (!request.requestEnded && !request.reset && request.connection != null) {
            awaitClose(request);
        }
    }

    @Override
    public void requestRouted(Request request, String route) {
        delegate.requestRouted(request.metric, route);
    }

    @Override
    public Object connected(HttpRequest request) {
        return delegate.connected(request);
    }

    @Override
    public void disconnected(Object webSocketMetric) {
        delegate.disconnected(webSocketMetric);
    }

    @Override
    public void close() {
        delegate.close();
    }

    private void awaitClose(Request request) {
        Future<Void> closed = VertxInternals.closeFuture(request.connection);
        if (closed == null) {
            return;
        }
        List<Request> waiting = answeredEarly.get(request.connection);
        boolean first = waiting == null;
        if (first) {
            waiting = new ArrayList<>(1);
            answeredEarly.put(request.connection, waiting);
        }
        waiting.add(request);
        request.awaitingClose = true;
        if (first) {
            // listened to after the add: an already closed connection runs this at once
            closed.onComplete(ar -> resetUnended(request.connection));
        }
    }

    private void resetUnended(HttpConnection connection) {
        List<Request> waiting = answeredEarly.remove(connection);
        if (waiting == null) {
            return;
        }
        for (Request request : waiting) {
            if (!request.reset) {
                requestReset(request);
            }
        }
    }
}
