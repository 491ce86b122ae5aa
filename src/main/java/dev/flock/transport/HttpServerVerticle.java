package dev.flock.transport;

import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.room.RoomRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.ext.web.Router;

import java.util.function.Consumer;

/**
 * Serves HTTP and accepts WebSocket upgrades on any path. One instance per event loop; all instances
 * share the port. Each owns a {@link ConnectionHub} for the sockets its loop accepted.
 */
public final class HttpServerVerticle extends VerticleBase {

    /** Vert.x's own frame limit sits above ours, so an oversize message gets our INVALID_MESSAGE first. */
    private static final int NETTY_LIMIT_FACTOR = 4;

    private final FlockConfig config;
    private final int port;
    private final RoomRegistry registry;
    private final FlockMetrics metrics;
    private final ApiKeys apiKeys;
    private final ProtocolCodec codec;
    private final Consumer<Router> routes;
    private ConnectionHub hub;
    private HttpServer server;

    public HttpServerVerticle(FlockConfig config, int port, RoomRegistry registry, FlockMetrics metrics, ApiKeys apiKeys,
                              ProtocolCodec codec, Consumer<Router> routes) {
        this.config = config;
        this.port = port;
        this.registry = registry;
        this.metrics = metrics;
        this.apiKeys = apiKeys;
        this.codec = codec;
        this.routes = routes;
    }

    @Override
    public Future<?> start() {
        hub = new ConnectionHub(vertx, context, config, codec, apiKeys, registry, metrics);
        hub.start();
        server = vertx.createHttpServer(serverOptions())
                .webSocketHandshakeHandler(this::handshake)
                .webSocketHandler(this::accept)
                .requestHandler(router());
        return server.listen(port, config.host());
    }

    private HttpServerOptions serverOptions() {
        int nettyLimit = (int) Math.min(Integer.MAX_VALUE, (long) config.maxFrameBytes() * NETTY_LIMIT_FACTOR);
        return new HttpServerOptions()
                .setMaxWebSocketFrameSize(nettyLimit)
                .setMaxWebSocketMessageSize(nettyLimit)
                // zlib state costs ~100 KB per socket and browsers always offer it: declined unless configured
                .setPerMessageWebSocketCompressionSupported(config.websocketCompression())
                .setPerFrameWebSocketCompressionSupported(config.websocketCompression())
                .setTcpNoDelay(true)
                .setReuseAddress(true);
    }

    private Router router() {
        Router router = Router.router(vertx);
        router.get("/health").handler(rc -> rc.response().putHeader("content-type", "application/json")
                .end("{\"status\":\"ok\"}"));
        routes.accept(router);
        return router;
    }

    /** A wrong key at the upgrade is refused before any socket exists (the SDK then backs off). */
    private void handshake(ServerWebSocketHandshake handshake) {
        if (apiKeys.refusesUpgrade(handshake.headers(), handshake.query())) {
            metrics.upgradeRefused();
            handshake.reject(401);
            return;
        }
        handshake.accept();
    }

    private void accept(ServerWebSocket ws) {
        hub.accept(ws, apiKeys.admitsUpgrade(ws.headers(), ws.query()));
    }

    public int actualPort() {
        return server.actualPort();
    }

    public int connections() {
        return hub == null ? 0 : hub.size();
    }

    @Override
    public Future<?> stop() {
        return hub.closeAll("server shutting down").transform(ar -> server.close());
    }
}
