package dev.flock.transport;

import dev.flock.config.FlockConfig;
import dev.flock.identity.UpgradeAuth;
import dev.flock.internals.VertxInternals;
import dev.flock.logging.AuditLog;
import dev.flock.security.ClientAddress;
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

import static net.logstash.logback.argument.StructuredArguments.kv;

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
    private final UpgradeAuth auth;
    private final ProtocolCodec codec;
    private final Clock clock;
    private final Admission admission;
    private final AuditLog audit;
    private final Map<EventLoop, ConnectionHub> hubs = new ConcurrentHashMap<>();
    /** Seats taken by {@link #handshake} for the sockets {@link #accept} will receive, by the peer's address and port. */
    private final Map<String, Seat> handshaken = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** An admitted upgrade: its place in {@link Admission} and what its credentials allow. */
    private record Seat(Admission.Ticket ticket, UpgradeAuth.Admitted credentials) {
    }

    public SocketHubs(Vertx vertx, FlockConfig config, RoomRegistry registry, FlockMetrics metrics, UpgradeAuth auth,
                      ProtocolCodec codec, Clock clock, Admission admission, AuditLog audit) {
        this.vertx = vertx;
        this.config = config;
        this.registry = registry;
        this.metrics = metrics;
        this.auth = auth;
        this.codec = codec;
        this.clock = clock;
        this.admission = admission;
        this.audit = audit;
    }

    /**
     * For {@code HttpServer#webSocketHandshakeHandler}: refuses a wrong upgrade key or token with 401 and an upgrade
     * over an admission limit with 503 (this API can add neither a body nor {@code Retry-After}; Flock's own port
     * and {@link #route} do).
     */
    public void handshake(ServerWebSocketHandshake handshake) {
        if (closed) {
            handshake.reject(503);
            return;
        }
        if (RequestHygiene.refusesUpgrade(handshake)) {
            return;
        }
        UpgradeAuth.Decision decided = credentials(handshake.headers(), handshake.query(), handshake.remoteAddress());
        if (decided instanceof UpgradeAuth.Refused refused) {
            handshake.reject(refused.status());
            return;
        }
        UpgradeAuth.Admitted credentials = (UpgradeAuth.Admitted) decided;
        Admission.Decision decision = admit(handshake.headers(), handshake.remoteAddress());
        if (!decision.admitted()) {
            handshake.reject(503);
            return;
        }
        String peer = String.valueOf(handshake.remoteAddress());
        handshaken.put(peer, new Seat(decision.ticket(), credentials));
        handshake.accept().onFailure(e -> {
            Seat seat = handshaken.remove(peer);
            if (seat != null) {
                seat.ticket().release();
            }
        });
    }

    /**
     * For {@code HttpServer#webSocketHandler}: a socket {@link #handshake} admitted takes its seat; one that came
     * without a handshake handler is checked here: closed with 1008 for bad credentials (it is too late for a 401)
     * and with 1013 (try again later) over an admission limit.
     */
    public void accept(ServerWebSocket accepted) {
        Seat seat = handshaken.remove(String.valueOf(accepted.remoteAddress()));
        if (seat == null) {
            UpgradeAuth.Decision credentials = credentials(accepted.headers(), accepted.query(), accepted.remoteAddress());
            if (credentials instanceof UpgradeAuth.Refused refused) {
                accepted.close(CloseCodes.POLICY, TextFrames.closeReason(refused.message()));
                return;
            }
            Admission.Decision decision = admit(accepted.headers(), accepted.remoteAddress());
            if (!decision.admitted()) {
                accepted.close(CloseCodes.TRY_AGAIN_LATER, decision.refusal().message);
                return;
            }
            seat = new Seat(decision.ticket(), (UpgradeAuth.Admitted) credentials);
        }
        accept(accepted, seat);
    }

    private void accept(ServerWebSocket accepted, Seat seat) {
        Admission.Ticket ticket = seat.ticket();
        if (closed) {
            ticket.release();
            accepted.close(CloseCodes.GOING_AWAY, "server shutting down");
            return;
        }
        ServerWebSocket ws = VertxInternals.unwrap(accepted);
        UpgradeAuth.Admitted credentials = seat.credentials();
        var channel = VertxInternals.channelContext(ws);
        // a wrapper we cannot see through: its handler's loop
        EventLoop loop = channel != null ? channel.channel().eventLoop() : VertxInternals.currentEventLoop();
        if (loop == null) {
            ticket.release();
            throw new IllegalArgumentException("cannot find the event loop of " + ws.getClass().getName());
        }
        ConnectionHub hub = hubs.computeIfAbsent(loop, this::newHub);
        if (loop.inEventLoop()) {
            hub.accept(ws, credentials, ticket);
        } else {
            // called off the socket's loop (a worker verticle's router): hold its frames until the hub owns it
            ws.pause();
            hub.context.runOnContext(v -> {
                hub.accept(ws, credentials, ticket);
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
     * A Vert.x Web handler: upgrades a WebSocket request (401 with a one-line JSON reason for a wrong key or token,
     * 503 with {@code Retry-After} over an admission limit or while shutting down) and passes anything else on.
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
        UpgradeAuth.Decision credentials = credentials(request.headers(), request.query(), request.remoteAddress());
        if (credentials instanceof UpgradeAuth.Refused refused) {
            if (refused.retryAfterSeconds() > 0) {
                rc.response().putHeader("Retry-After", String.valueOf(refused.retryAfterSeconds()));
            }
            rc.response().setStatusCode(refused.status()).putHeader("content-type", "application/json").end(refused.json());
            return;
        }
        Admission.Decision decision = admit(request.headers(), request.remoteAddress());
        if (!decision.admitted()) {
            tryLater(rc, decision.refusal().message);
            return;
        }
        Seat seat = new Seat(decision.ticket(), (UpgradeAuth.Admitted) credentials);
        request.toWebSocket().onSuccess(ws -> accept(ws, seat)).onFailure(e -> {
            decision.ticket().release();
            rc.fail(e);
        });
    }

    /** What the upgrade's API key and token allow, on the server's clock; a refusal is counted and audited. */
    private UpgradeAuth.Decision credentials(MultiMap headers, String query, SocketAddress remote) {
        // the address only when it is needed (a token to check, a refusal to audit): not on every upgrade
        UpgradeAuth.Decision d = auth.decide(headers, query, clock.millis(),
                () -> ClientAddress.of(headers, remote, config.trustProxy()));
        if (d instanceof UpgradeAuth.Refused refused) {
            metrics.upgradeRefused();
            String address = ClientAddress.of(headers, remote, config.trustProxy());
            // the code and the token refusal's name only: the message may quote what the client sent
            if (refused.reason() == null) {
                audit.refused("ws_upgrade_refused", address, "WebSocket upgrade refused", kv("error", refused.error()));
            } else {
                audit.refused("ws_upgrade_refused", address, "WebSocket upgrade refused", kv("error", refused.error()),
                        kv("reason", refused.reason()));
            }
        }
        return d;
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
        ConnectionHub hub = new ConnectionHub(vertx, context, config, codec, auth.apiKeys(), registry, metrics, clock, audit);
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

    /**
     * Refuses new sockets and closes the open ones with 4001 "server restarting", each on its own loop, spread over
     * {@code FLOCK_SHUTDOWN_SPREAD_MS}; {@code graced}: their rooms keep the users for the reconnect grace.
     */
    public Future<Void> close(boolean graced) {
        closed = true;
        List<Future<Void>> closing = new ArrayList<>();
        // one window for all loops: each hub's sockets take their own stretch of it
        int total = Math.max(1, size());
        int next = 0;
        for (ConnectionHub hub : hubs.values()) {
            Promise<Void> done = Promise.promise();
            int first = next;
            next += hub.size();
            hub.context.runOnContext(v -> hub.closeAll("server restarting", spreadMs(), first, total, graced).onComplete(done));
            closing.add(done.future());
        }
        return Future.join(closing).mapEmpty();
    }

    /** The shutdown's spread, within half the shutdown timeout (the rest is for the sockets' own closing). */
    private long spreadMs() {
        return Math.min(config.shutdownSpreadMs(), config.shutdownTimeoutMs() / 2);
    }

    /** The handshake handler, as a {@link Handler}. */
    public Handler<ServerWebSocketHandshake> handshakeHandler() {
        return this::handshake;
    }
}
