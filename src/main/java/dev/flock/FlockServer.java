package dev.flock;

import dev.flock.admin.AdminConfig;
import dev.flock.api.ServerApiRoutes;
import dev.flock.admin.AdminRooms;
import dev.flock.admin.AdminRoutes;
import dev.flock.admin.DemoConfig;
import dev.flock.admin.DirectoryAdminRooms;
import dev.flock.admin.TryItRoutes;
import dev.flock.admin.WebhookStatus;
import dev.flock.config.FlockConfig;
import dev.flock.internals.VertxInternals;
import dev.flock.metrics.FlockMetrics;
import dev.flock.ops.MemoryGuard;
import dev.flock.ops.Readiness;
import dev.flock.protocol.Limits;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.redis.RedisBridge;
import dev.flock.redis.RedisLink;
import dev.flock.room.LocalRoomDirectory;
import dev.flock.room.MemoryBroker;
import dev.flock.room.MemoryPresenceStore;
import dev.flock.room.PresenceStore;
import dev.flock.room.RoomBroker;
import dev.flock.room.RoomBus;
import dev.flock.room.RoomDirectory;
import dev.flock.room.RoomRegistry;
import dev.flock.room.RoomServices;
import dev.flock.room.RoomVerticle;
import dev.flock.logging.AuditLog;
import dev.flock.time.Clock;
import dev.flock.time.SystemClock;
import dev.flock.transport.Admission;
import dev.flock.identity.ApiKeys;
import dev.flock.identity.TokenVerifier;
import dev.flock.identity.UpgradeAuth;
import dev.flock.transport.HttpServerVerticle;
import dev.flock.transport.RequestHygiene;
import dev.flock.transport.SocketDelivery;
import dev.flock.transport.SocketHubs;
import dev.flock.webhook.EventLog;
import dev.flock.webhook.MemoryOutbox;
import dev.flock.webhook.Outbox;
import dev.flock.webhook.WebhookDispatcher;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.ext.web.Router;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A running Flock server inside a {@link Vertx}: the room registry, the HTTP verticles (one per event loop)
 * and, with {@code FLOCK_REDIS_URL}, the Redis bridge. This is the one place that chooses the implementations of the
 * pluggable concerns: presence store and broker (memory, or Redis), delivery (WebSockets), clock. {@link Main} starts one; an
 * application can start one in its own Vert.x ({@link #start}) or hand Flock the WebSockets its own server
 * accepts ({@link #attach}).
 */
public final class FlockServer {

    public static final String READY_PATH = "/ready";

    private final Vertx vertx;
    private final FlockConfig config;
    private final FlockMetrics metrics;
    private final RoomRegistry registry;
    private final RoomDirectory directory;
    private final AdminRooms admin;
    private final RedisBridge redis;
    private final MemoryBroker memoryBroker;
    private final Readiness readiness = new Readiness();
    private final MemoryGuard memory;
    private final Admission admission;
    /** One connection hub per event loop, for the sockets of Flock's own port and of {@link #mount}. */
    private final SocketHubs hubs;
    private final RequestHygiene hygiene;
    private final Clock clock;
    /** One audit trail per server: its rate limits hold across the admin, the server API and the sockets. */
    private final AuditLog audit;
    private final List<String> deployments = new ArrayList<>();
    private final List<HttpServerVerticle> verticles = new CopyOnWriteArrayList<>();
    private String redisDeployment;
    /** Null without webhooks. */
    private final WebhookDispatcher webhooks;
    private String webhookDeployment;
    /** The background parts' deployment (see {@link #started()}). */
    private volatile Future<Void> started = Future.succeededFuture();
    /** The first stop's outcome; guarded by {@code this}. */
    private Future<Void> stopping;
    private int port;

    private FlockServer(Vertx vertx, FlockConfig config, FlockMetrics metrics, Clock clock) {
        VertxInternals.check(vertx);
        this.vertx = vertx;
        this.config = config;
        this.metrics = metrics;
        this.clock = clock;
        this.audit = new AuditLog(clock);
        String instanceId = UUID.randomUUID().toString();
        RoomBroker broker;
        PresenceStore store;
        Outbox outbox = null;
        if (config.redisEnabled()) {
            redis = new RedisBridge(config, metrics, instanceId, clock);
            memoryBroker = null;
            broker = redis.broker();
            store = redis.store();
            outbox = redis.outbox();
            readiness.addCheck("redis", redis.link()::reason);
        } else {
            redis = null;
            memoryBroker = new MemoryBroker();
            broker = memoryBroker;
            MemoryOutbox memoryOutbox = config.webhooks().enabled() ? new MemoryOutbox(clock, config.webhooks().maxPending(),
                    config.webhooks().urls().stream().map(java.net.URI::toString).toList(), config.webhooks().recorded())
                    : null;
            outbox = memoryOutbox;
            store = new MemoryPresenceStore(clock, PresenceStore.connectionTtlMs(config), config.maxMetadataBytes(),
                    memoryOutbox == null ? EventLog.NONE : memoryOutbox);
        }
        this.webhooks = outbox == null ? null : new WebhookDispatcher(config.webhooks(), outbox, clock, metrics);
        RoomServices services = new RoomServices(config, metrics, store, broker, new SocketDelivery(metrics), clock,
                instanceId);
        this.registry = new RoomRegistry(vertx, roomId -> new RoomVerticle(roomId, registryRef(), services), clock);
        if (redis != null) {
            redis.register(registry);
        } else {
            memoryBroker.register(registry);
        }
        this.directory = redis == null ? new LocalRoomDirectory(vertx, registry) : redis.directory(vertx, registry);
        this.admin = new DirectoryAdminRooms(directory, webhooks == null ? null
                : () -> webhooks.lastFailure().map(failure -> new WebhookStatus(webhooks.pending(), failure)));
        this.memory = new MemoryGuard(config.memoryHighWaterPercent(), clock);
        this.admission = new Admission(config, memory::reason);
        ProtocolCodec codec = new ProtocolCodec(new Limits(config.maxIdLength(), config.maxMetadataBytes()));
        // the keys are parsed here, before anything listens: an unusable key stops start-up (ConfigException)
        TokenVerifier tokens = config.auth().enabled() ? new TokenVerifier(vertx, config.auth(), codec) : null;
        UpgradeAuth auth = new UpgradeAuth(config.auth(), new ApiKeys(config.apiKeys()), tokens, metrics, clock::millis);
        this.hubs = new SocketHubs(vertx, config, registry, metrics, auth, codec, clock, admission, audit);
        this.hygiene = new RequestHygiene(clock);
        readiness.addCheck("memory", "above the high-water mark", memory::reason);
        metrics.gauge("flock.memory.high.water", "1 while heap or direct memory is above FLOCK_MEMORY_HIGH_WATER_PERCENT"
                + " (new WebSockets get 503)", () -> memory.aboveHighWater() ? 1 : 0);
        metrics.gauge("flock.connections.limit", "WebSockets this instance admits (FLOCK_MAX_CONNECTIONS, or derived)",
                admission::maxConnections);
        RoomBus.registerCodec(vertx);
        metrics.gauge("flock.rooms.active", "rooms with a member on this instance", registry::size);
    }

    private RoomRegistry registryRef() {
        return registry;
    }

    /** Deploys Flock into {@code vertx}, listening on {@code config.port()} (0 = any free port). */
    public static Future<FlockServer> start(Vertx vertx, FlockConfig config, FlockMetrics metrics) {
        return start(vertx, config, metrics, router -> { });
    }

    /** As {@link #start(Vertx, FlockConfig, FlockMetrics)}, with extra routes mounted on every HTTP verticle. */
    public static Future<FlockServer> start(Vertx vertx, FlockConfig config, FlockMetrics metrics, Consumer<Router> routes) {
        return start(vertx, config, metrics, new SystemClock(vertx), routes);
    }

    /** As {@link #start(Vertx, FlockConfig, FlockMetrics, Consumer)}, with time from {@code clock} (tests move it). */
    public static Future<FlockServer> start(Vertx vertx, FlockConfig config, FlockMetrics metrics, Clock clock,
                                            Consumer<Router> routes) {
        FlockServer server = new FlockServer(vertx, config, metrics, clock);
        return server.deploy(routes).map(server);
    }

    /**
     * Flock without a listener of its own, for an application that serves HTTP itself: hand it WebSockets
     * with {@link #mount(Router, String)}, or with {@link #webSocketHandshakeHandler()} and
     * {@link #webSocketHandler()} on an {@code HttpServer}. {@code config.port()} and the metrics settings
     * are not used; the application's own server options apply to its sockets.
     */
    public static FlockServer attach(Vertx vertx, FlockConfig config, FlockMetrics metrics) {
        FlockServer server = new FlockServer(vertx, config, metrics, new SystemClock(vertx));
        // The same background parts start() deploys (memory guard, Redis bridge, webhook deliverer), started here
        // rather than left to the caller: without the bridge a Redis-mode room can never open. Sockets handed over
        // before it is deployed wait like those of a Redis that is still connecting; started() tells when it is.
        server.started = server.deployBackground();
        server.registry.openAfter(server.started);
        return server;
    }

    /**
     * Completes when the background parts run (for {@link #attach}: the Redis bridge connected or degraded and
     * reconnecting, the webhook deliverer deployed); fails only when a part cannot be deployed at all.
     */
    public Future<Void> started() {
        return started;
    }

    private Future<Void> deploy(Consumer<Router> routes) {
        started = deployBackground();
        return started.compose(v -> deployHttp(routes));
    }

    private Future<Void> deployBackground() {
        memory.start();
        // never fails for an unreachable Redis: the bridge starts degraded and reconnects in the background
        Future<Void> bridge = redis == null ? Future.succeededFuture()
                : vertx.deployVerticle(redis).map(id -> {
                    redisDeployment = id;
                    return null;
                });
        return bridge.compose(v -> webhooks == null ? Future.succeededFuture()
                : vertx.deployVerticle(webhooks).<Void>map(id -> {
                    webhookDeployment = id;
                    return null;
                }));
    }

    /** The webhook deliverer, or null without {@code FLOCK_WEBHOOK_URL}. */
    public WebhookDispatcher webhooks() {
        return webhooks;
    }

    private Future<Void> deployHttp(Consumer<Router> routes) {
        Consumer<Router> allRoutes = withPages(router -> {
            hygiene.mount(router);
            router.get(Readiness.PATH).handler(readiness.handler());
            routes.accept(router);
        });
        int instances = httpInstances();
        DeploymentOptions options = new DeploymentOptions().setInstances(instances).setThreadingModel(ThreadingModel.EVENT_LOOP);
        // One deployment of N instances sharing one port. Vert.x would give each instance its own random
        // port for port 0, so a free port is chosen first.
        int listenPort;
        try {
            listenPort = config.port() != 0 ? config.port() : freePort(config.host());
        } catch (IOException e) {
            return Future.failedFuture(e);
        }
        return vertx.deployVerticle(() -> {
            HttpServerVerticle v = new HttpServerVerticle(config, listenPort, hubs, allRoutes);
            verticles.add(v);
            return v;
        }, options).map(id -> {
            deployments.add(id);
            port = verticles.get(0).actualPort();
            return null;
        });
    }

    /**
     * The admin routes (one instance per process: sessions live there), the caller's routes, and the try-it
     * page last, since it is a catch-all for GET.
     */
    private Consumer<Router> withPages(Consumer<Router> routes) {
        AdminRoutes adminRoutes = new AdminRoutes(admin, new AdminConfig(config.adminPassword(),
                config.adminToken(), AdminConfig.DEFAULT_SESSION_TTL, config.trustProxy()), audit);
        TryItRoutes tryIt = new TryItRoutes(() -> admin.instanceCount()
                .map(n -> new DemoConfig(config.apiKeysRequired(),
                        config.auth().mode() == dev.flock.config.AuthSettings.Mode.REQUIRED, n)));
        ServerApiRoutes api = new ServerApiRoutes(directory, config, metrics,
                new ProtocolCodec(new Limits(config.maxIdLength(), config.maxMetadataBytes())), clock::monotonicMillis, audit);
        return router -> {
            adminRoutes.mount(router);
            api.mount(router);
            routes.accept(router);
            if (config.demo()) {
                tryIt.mount(router);
            }
        };
    }

    /**
     * One HTTP verticle per core: {@link Main} sizes the event-loop pool the same, so every hop between a
     * socket's loop and a room's loop is a hop between busy cores, not a wake-up of an idle extra loop.
     */
    public static int httpInstances() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    private static int freePort(String host) throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return socket.getLocalPort();
        }
    }

    public int port() {
        return port;
    }

    public FlockConfig config() {
        return config;
    }

    public RoomRegistry rooms() {
        return registry;
    }

    /** What the admin dashboard and API act on: this instance's rooms, or in Redis mode the whole fleet's. */
    public AdminRooms admin() {
        return admin;
    }

    public FlockMetrics metrics() {
        return metrics;
    }

    /** The Redis connection in Redis mode (for {@code connected()} and {@code reason()}), else null. */
    public RedisLink redis() {
        return redis == null ? null : redis.link();
    }

    /** The rooms operators see: this instance's, or in Redis mode the whole fleet's. */
    public RoomDirectory directory() {
        return directory;
    }

    /**
     * Accepts Flock's WebSockets on {@code router} at {@code path} and below (e.g. {@code "/flock"}); other
     * requests there go on to the application's next handler. A wrong upgrade key gets 401.
     */
    public FlockServer mount(Router router, String path) {
        String base = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        router.route(base.isEmpty() ? "/*" : base + "*").handler(hubs::route);
        return this;
    }

    /** For {@code HttpServer#webSocketHandshakeHandler}: 401 for a wrong upgrade key, as Flock's own port does. */
    public Handler<ServerWebSocketHandshake> webSocketHandshakeHandler() {
        return hubs::handshake;
    }

    /** For {@code HttpServer#webSocketHandler}: every socket it receives speaks the Flock protocol. */
    public Handler<ServerWebSocket> webSocketHandler() {
        return hubs::accept;
    }

    /**
     * For {@code HttpServer#connectionHandler}: each HTTP connection must send complete requests within
     * {@code FLOCK_HTTP_REQUEST_TIMEOUT_MS} until it upgrades (408 and close otherwise), as on Flock's own port.
     */
    public Handler<HttpConnection> httpConnectionHandler() {
        return hubs::watchHttp;
    }

    /** Rooms with a member on this instance. */
    public int roomCount() {
        return registry.size();
    }

    /** WebSocket clients connected to this server, on its own port and through {@link #mount}. */
    public int clientCount() {
        return hubs.size();
    }

    /** {@code GET /ready}'s checks; other parts (the Redis bridge) add theirs; shutdown marks it first. */
    public Readiness readiness() {
        return readiness;
    }

    /**
     * Graceful stop: {@code /ready} turns 503 first, then every socket closes with 4001 "server restarting", spread over
     * {@code FLOCK_SHUTDOWN_SPREAD_MS}, each covered by the reconnect grace: clients that reconnect to another instance
     * within it cause no leave/join flicker, the others are announced gone when their grace has expired (in Redis mode
     * by a survivor). With the grace off, a Redis-mode server leaves the presence of those sockets to expire after the
     * TTL instead. In memory mode the rooms empty out as usual.
     */
    public Future<Void> stop() {
        return stop(false);
    }

    /** As {@link #stop()}; with {@code announceLeaves} the sockets close without a grace and their users leave at once. */
    public synchronized Future<Void> stop(boolean announceLeaves) {
        if (stopping != null) { // a second stop (close() after stop(), say) waits for the first, never undoes half of it
            return stopping;
        }
        // an attached server closed at once must not leave a bridge behind that deploys after the stop, so the stop waits
        // for the background deployment. The answer is a future bound to no context: one chained on started would run
        // its callbacks on the event loop started completed on, and a caller's last step after vertx.close() (Main's
        // shutdown) would never run
        Promise<Void> stopped = Promise.promise();
        started.onComplete(ignored -> stopParts(announceLeaves).onComplete(stopped));
        stopping = stopped.future();
        return stopping;
    }

    private Future<Void> stopParts(boolean announceLeaves) {
        readiness.markShuttingDown();
        memory.stop();
        // without a reconnect grace, a drained store leaves the presence of the closed sockets to expire; with one, the
        // closes are graced (and clean leaves during the spread still count)
        if (redis != null && !announceLeaves && config.reconnectGraceMs() == 0) {
            redis.drain();
        }
        // the sockets first, spread out (FLOCK_SHUTDOWN_SPREAD_MS), while the listener still answers /health (and /ready
        // 503), so a load balancer sees the drain; then the rooms (the registry's own deployments), then the listener
        List<String> listeners = List.copyOf(deployments);
        deployments.clear();
        verticles.clear();
        Future<Void> http = hubs.close(!announceLeaves).eventually(registry::closeAll).eventually(() -> {
            List<Future<Void>> undeploys = new ArrayList<>();
            for (String id : listeners) {
                undeploys.add(vertx.undeploy(id));
            }
            return Future.join(undeploys);
        }).mapEmpty();
        if (memoryBroker != null) {
            http = http.onComplete(ar -> memoryBroker.close());
        }
        if (webhookDeployment != null) {
            String hooks = webhookDeployment;
            webhookDeployment = null;
            http = http.eventually(() -> vertx.undeploy(hooks));
        }
        if (redisDeployment == null) {
            return http;
        }
        String id = redisDeployment;
        redisDeployment = null;
        return http.eventually(() -> vertx.undeploy(id)).mapEmpty();
    }

    /** The same as {@link #stop()}, under the name embedders look for. */
    public Future<Void> close() {
        return stop();
    }
}
