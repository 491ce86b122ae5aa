package dev.flock.transport;

import dev.flock.config.FlockConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;

import java.util.function.Consumer;

/**
 * Serves HTTP and accepts WebSocket upgrades on any path. One instance per event loop; all instances share
 * the port, and hand their sockets to the {@link SocketHubs} (one connection hub per event loop), the same
 * path an embedding application's sockets take ({@link SocketHubs#route}, with admission control).
 */
public final class HttpServerVerticle extends VerticleBase {

    private final FlockConfig config;
    private final int port;
    private final SocketHubs hubs;
    private final Consumer<Router> routes;
    private HttpServer server;

    public HttpServerVerticle(FlockConfig config, int port, SocketHubs hubs, Consumer<Router> routes) {
        this.config = config;
        this.port = port;
        this.hubs = hubs;
        this.routes = routes;
    }

    @Override
    public Future<?> start() {
        // Upgrades go through the router (its first route), not the handshake handler: only there can a refusal
        // carry Retry-After. The connection handler gives every HTTP connection its request deadline.
        server = vertx.createHttpServer(serverOptions())
                .connectionHandler(hubs::watchHttp)
                .requestHandler(router());
        return CannotListen.naming(config.host(), port, server.listen(port, config.host()));
    }

    private HttpServerOptions serverOptions() {
        // Nothing is buffered beyond the limit: WireGuard refuses on the header (INVALID_MESSAGE, 1009) before
        // Netty's decoder would; these are the backstop for what it cannot see (inflated frames).
        return new HttpServerOptions()
                .setMaxWebSocketFrameSize(config.maxFrameBytes())
                .setMaxWebSocketMessageSize(config.maxFrameBytes())
                // zlib state costs ~100 KB per socket and browsers always offer it: declined unless configured
                .setPerMessageWebSocketCompressionSupported(config.websocketCompression())
                .setPerFrameWebSocketCompressionSupported(config.websocketCompression())
                // HTTP/1.1 only: WebSockets need nothing else, and h2c sniffing would set the connection up only on its
                // first bytes, after which a silent (slowloris) connection would have no request deadline
                .setHttp2ClearTextEnabled(false)
                .setTcpNoDelay(true)
                .setReuseAddress(true);
    }

    private Router router() {
        Router router = Router.router(vertx);
        router.route().handler(hubs::route); // WebSocket upgrades on any path; everything else goes on
        router.get("/health").handler(rc -> rc.response().putHeader("content-type", "application/json")
                .end("{\"status\":\"ok\"}"));
        routes.accept(router);
        return router;
    }

    public int actualPort() {
        return server.actualPort();
    }

    /**
     * Sockets close (4001, graced) before the port does, also when Vert.x itself is closed; after a
     * {@code FlockServer.stop} they are closed already, and this closes nothing more.
     */
    @Override
    public Future<?> stop() {
        return hubs.close(true).transform(ar -> server.close());
    }
}
