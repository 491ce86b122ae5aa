package dev.flock.transport;

import dev.flock.config.FlockConfig;
import dev.flock.internals.VertxInternals;
import dev.flock.metrics.FlockMetrics;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.room.RoomRegistry;
import dev.flock.time.Clock;
import io.netty.channel.EventLoop;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
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
    private final Map<EventLoop, ConnectionHub> hubs = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public SocketHubs(Vertx vertx, FlockConfig config, RoomRegistry registry, FlockMetrics metrics, ApiKeys apiKeys,
                      ProtocolCodec codec, Clock clock) {
        this.vertx = vertx;
        this.config = config;
        this.registry = registry;
        this.metrics = metrics;
        this.apiKeys = apiKeys;
        this.codec = codec;
        this.clock = clock;
    }

    /** For {@code HttpServer#webSocketHandshakeHandler}: refuses a wrong upgrade key with 401, as Flock's own server does. */
    public void handshake(ServerWebSocketHandshake handshake) {
        if (closed) {
            handshake.reject(503);
            return;
        }
        if (apiKeys.refusesUpgrade(handshake.headers(), handshake.query())) {
            metrics.upgradeRefused();
            handshake.reject(401);
            return;
        }
        handshake.accept();
    }

    /** For {@code HttpServer#webSocketHandler}, or after {@code request.toWebSocket()}. */
    public void accept(ServerWebSocket accepted) {
        if (closed) {
            accepted.close(CloseCodes.GOING_AWAY, "server shutting down");
            return;
        }
        ServerWebSocket ws = VertxInternals.unwrap(accepted);
        boolean keyValid = apiKeys.admitsUpgrade(ws.headers(), ws.query());
        var channel = VertxInternals.channelContext(ws);
        // a wrapper we cannot see through: its handler's loop
        EventLoop loop = channel != null ? channel.channel().eventLoop() : VertxInternals.currentEventLoop();
        if (loop == null) {
            throw new IllegalArgumentException("cannot find the event loop of " + ws.getClass().getName());
        }
        ConnectionHub hub = hubs.computeIfAbsent(loop, this::newHub);
        if (loop.inEventLoop()) {
            hub.accept(ws, keyValid);
        } else {
            // called off the socket's loop (a worker verticle's router): hold its frames until the hub owns it
            ws.pause();
            hub.context.runOnContext(v -> {
                hub.accept(ws, keyValid);
                ws.resume();
            });
        }
    }

    /** A Vert.x Web handler: upgrades a WebSocket request (401 for a wrong key) and passes anything else on. */
    public void route(RoutingContext rc) {
        HttpServerRequest request = rc.request();
        if (!request.canUpgradeToWebSocket()) {
            rc.next();
            return;
        }
        if (closed) {
            rc.response().setStatusCode(503).end();
            return;
        }
        if (apiKeys.refusesUpgrade(request.headers(), request.query())) {
            metrics.upgradeRefused();
            rc.response().setStatusCode(401).end();
            return;
        }
        request.toWebSocket().onSuccess(this::accept).onFailure(rc::fail);
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
