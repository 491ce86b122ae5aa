package dev.flock.transport;

import dev.flock.config.FlockConfig;
import dev.flock.internals.VertxInternals;
import dev.flock.metrics.FlockMetrics;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.room.RoomRegistry;
import dev.flock.time.Clock;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Accepts Flock's WebSockets: those of Flock's own port ({@link HttpServerVerticle}) and those an application's
 * own {@code HttpServer} or {@code Router} received (embedding). A {@link ConnectionHub} is per event loop, so
 * each socket goes to the hub of its own channel's loop, created on first use with a context of Flock's own on
 * that loop.
 */
public final class SocketHubs {

    private final Vertx vertx;
    private final FlockConfig config;
    private final RoomRegistry registry;
    private final FlockMetrics metrics;
    private final ApiKeys apiKeys;
    private final ProtocolCodec codec;
    private final Clock clock;
    private final Admission admission;
    private final Map<EventLoop, ConnectionHub> hubs = new ConcurrentHashMap<>();
    /** Seats taken by {@link #handshake} for the sockets {@link #accept} will receive, by the peer's address and port. */
    private final Map<String, Admission.Ticket> handshaken = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public SocketHubs(Vertx vertx, FlockConfig config, RoomRegistry registry, FlockMetrics metrics, ApiKeys apiKeys,
                      ProtocolCodec codec, Clock clock, Admission admission) {
        this.vertx = vertx;
        this.config = config;
        this.registry = registry;
        this.metrics = metrics;
        this.apiKeys = apiKeys;
        this.codec = codec;
        this.clock = clock;
        this.admission = admission;
    }

    /**
     * For {@code HttpServer#webSocketHandshakeHandler}: refuses a wrong upgrade key with 401 and an upgrade over an
     * admission limit with 503 (this API cannot add {@code Retry-After}; Flock's own port and {@link #route} do).
     */
    public void handshake(ServerWebSocketHandshake handshake) {
        if (closed) {
            handshake.reject(503);
            return;
        }
        if (RequestHygiene.refusesUpgrade(handshake)) {
            return;
        }
        if (apiKeys.refusesUpgrade(handshake.headers(), handshake.query())) {
            metrics.upgradeRefused();
            handshake.reject(401);
            return;
        }
        Admission.Decision decision = admit(handshake.headers(), handshake.remoteAddress());
        if (!decision.admitted()) {
            handshake.reject(503);
            return;
        }
        String peer = String.valueOf(handshake.remoteAddress());
        handshaken.put(peer, decision.ticket());
        handshake.accept().onFailure(e -> {
            Admission.Ticket t = handshaken.remove(peer);
            if (t != null) {
                t.release();
            }
        });
    }

    /**
     * For {@code HttpServer#webSocketHandler}: a socket {@link #handshake} admitted takes its seat; one that came
     * without a handshake handler is admitted here, and closed with 1013 (try again later) over a limit.
     */
    public void accept(ServerWebSocket accepted) {
        Admission.Ticket ticket = handshaken.remove(String.valueOf(accepted.remoteAddress()));
        if (ticket == null) {
            Admission.Decision decision = admit(accepted.headers(), accepted.remoteAddress());
            if (!decision.admitted()) {
                accepted.close(CloseCodes.TRY_AGAIN_LATER, decision.refusal().message);
                return;
            }
            ticket = decision.ticket();
        }
        accept(accepted, ticket);
    }

    private void accept(ServerWebSocket accepted, Admission.Ticket ticket) {
        if (closed) {
            ticket.release();
            accepted.close(CloseCodes.GOING_AWAY, "server shutting down");
            return;
        }
        ServerWebSocket ws = VertxInternals.unwrap(accepted);
        boolean keyValid = apiKeys.admitsUpgrade(ws.headers(), ws.query());
        var channel = VertxInternals.channelContext(ws);
        // a wrapper we cannot see through: its handler's loop
        EventLoop loop = channel != null ? channel.channel().eventLoop() : VertxInternals.currentEventLoop();
        if (loop == null) {
            ticket.release();
            throw new IllegalArgumentException("cannot find the event loop of " + ws.getClass().getName());
        }
        ConnectionHub hub = hubs.computeIfAbsent(loop, this::newHub);
        if (loop.inEventLoop()) {
            hub.accept(ws, keyValid, ticket);
        } else {
            // called off the socket's loop (a worker verticle's router): hold its frames until the hub owns it
            ws.pause();
            hub.context.runOnContext(v -> {
                hub.accept(ws, keyValid, ticket);
                ws.resume();
            });
        }
    }

    /**
     * For {@code HttpServer#connectionHandler}: an HTTP connection must send complete requests within
     * {@code FLOCK_HTTP_REQUEST_TIMEOUT_MS} until it becomes a WebSocket (slowloris).
     */
    public void watchHttp(HttpConnection connection) {
        Channel channel = VertxInternals.channel(connection);
        ConnectionHub hub = hubs.computeIfAbsent(channel.eventLoop(), this::newHub);
        if (channel.eventLoop().inEventLoop()) {
            hub.watchRequests(channel);
        } else {
            channel.eventLoop().execute(() -> hub.watchRequests(channel));
        }
    }

    /**
     * A Vert.x Web handler: upgrades a WebSocket request (401 for a wrong key, 503 with {@code Retry-After} over an
     * admission limit or while shutting down) and passes anything else on.
     */
    public void route(RoutingContext rc) {
        HttpServerRequest request = rc.request();
        if (!request.canUpgradeToWebSocket()) {
            rc.next();
            return;
        }
        if (closed) {
            tryLater(rc, "the server is shutting down");
            return;
        }
        if (apiKeys.refusesUpgrade(request.headers(), request.query())) {
            metrics.upgradeRefused();
            rc.response().setStatusCode(401).end();
            return;
        }
        Admission.Decision decision = admit(request.headers(), request.remoteAddress());
        if (!decision.admitted()) {
            tryLater(rc, decision.refusal().message);
            return;
        }
        request.toWebSocket().onSuccess(ws -> accept(ws, decision.ticket())).onFailure(e -> {
            decision.ticket().release();
            rc.fail(e);
        });
    }

    /** A seat for an upgrade, or the refusal, counted by reason. */
    private Admission.Decision admit(MultiMap headers, SocketAddress remote) {
        Admission.Decision decision = admission.admit(headers, remote);
        if (!decision.admitted()) {
            metrics.upgradeRefused(decision.refusal().metric);
        }
        return decision;
    }

    private static void tryLater(RoutingContext rc, String why) {
        rc.response().setStatusCode(503).putHeader("Retry-After", String.valueOf(Admission.RETRY_AFTER_SECONDS))
                .putHeader("content-type", "text/plain; charset=utf-8").end(why + "; try again later\n");
    }

    private ConnectionHub newHub(EventLoop loop) {
        var context = VertxInternals.contextOn(vertx, loop);
        ConnectionHub hub = new ConnectionHub(vertx, context, config, codec, apiKeys, registry, metrics, clock);
        context.runOnContext(v -> hub.start()); // the hub's scan timer belongs to its own context
        return hub;
    }

    public int size() {
        int n = 0;
        for (ConnectionHub hub : hubs.values()) {
            n += hub.size();
        }
        return n;
    }

    /** Refuses new sockets and closes the open ones with 1001, each on its own loop. */
    public Future<Void> close() {
        closed = true;
        List<Future<Void>> closing = new ArrayList<>();
        for (ConnectionHub hub : hubs.values()) {
            Promise<Void> done = Promise.promise();
            hub.context.runOnContext(v -> hub.closeAll("server shutting down").onComplete(done));
            closing.add(done.future());
        }
        return Future.join(closing).mapEmpty();
    }

    /** The handshake handler, as a {@link Handler}. */
    public Handler<ServerWebSocketHandshake> handshakeHandler() {
        return this::handshake;
    }
}
