package dev.flock.redis;

import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import dev.flock.room.RoomBroker;
import dev.flock.room.RoomBus;
import dev.flock.room.RoomCommand;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Mirrors room addresses to Redis channels {@code flock:broadcast:<roomId>}: subscribes a room's channel while
 * this instance has members in it, publishes every room event in the original server's envelope, ignores its
 * own echoes and hands remote events to the room verticle over the event bus. Also listens to expired-key
 * events and drives the periodic sweep of this instance's rooms.
 *
 * <p>SUBSCRIBE runs on its own connection; commands and publishes share another one, so publishes leave in call
 * order. When either connection is lost the bridge reports itself not connected (rooms then decide locally and
 * cross-instance events are dropped, never queued), reconnects with capped exponential backoff, re-applies the
 * keyspace-event configuration, re-subscribes everything and asks every room to re-sync.
 */
public final class RedisBridge extends VerticleBase implements RoomBroker {

    private static final Logger LOG = LoggerFactory.getLogger(RedisBridge.class);
    static final long BACKOFF_MIN_MS = 100;
    static final long BACKOFF_MAX_MS = 5000;
    static final long COMMAND_TIMEOUT_MS = 3000;
    /**
     * A Redis that keeps its sockets open but answers nothing (stopped, swapping, paused) fails no connection:
     * a PING this often, unanswered within {@link #COMMAND_TIMEOUT_MS}, counts as a lost connection.
     */
    static final long PING_INTERVAL_MS = 1000;
    static final int CONNECT_TIMEOUT_MS = 2000;
    static final int MAX_WAITING = 32768;
    /** Publishes waiting for the bridge's loop; above it events are dropped (bounded memory). */
    static final int MAX_QUEUED_PUBLISHES = 65536;
    private static final String KEYSPACE_CONFIG = "notify-keyspace-events";
    /** Each instance re-writes {@code flock:instance:<id>} this often, with {@link #INSTANCE_TTL_MS}. */
    static final long INSTANCE_REFRESH_MS = 5000;
    static final long INSTANCE_TTL_MS = 15000;

    private final FlockConfig config;
    private final FlockMetrics metrics;
    private final String instanceId;
    private final Envelope envelope;
    private final RedisOptions options;
    private final int db;
    private final String expiredChannel;

    /** Rooms with a local verticle, with a reference count (a retiring and a new verticle may overlap). */
    private final Map<String, Integer> rooms = new ConcurrentHashMap<>();
    private final Map<String, Promise<Void>> pendingSubscribes = new HashMap<>();
    private final ConcurrentLinkedQueue<Request> publishes = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queuedPublishes = new AtomicInteger();
    private final AtomicBoolean drainNowScheduled = new AtomicBoolean();
    private final AtomicBoolean drainLaterScheduled = new AtomicBoolean();
    /**
     * How long a cursor publish may wait for the next batch: half the flush interval (0: sent at once), so a move
     * that crosses instances waits at most 1.5 intervals in all. Measured at 72k/s with 4, 8 and 16 ms: p99 21, 25
     * and 35 ms; all three spend about a third less CPU than sending at once (docs/BENCHMARKS.md).
     */
    private final int publishDelayMs;

    private Redis subscriberClient;
    private Redis commandClient;
    private RedisConnection subscriber;
    private volatile RedisConnection commands;
    private volatile boolean connected;
    private volatile String reason = "connecting to Redis";
    private boolean keyspaceWarned;
    private boolean stopped;
    private int generation;
    private int attempt;
    private long sweepTimer = -1;
    private long instanceTimer = -1;
    private long pingTimer = -1;
    private boolean pingInFlight;
    /**
     * Replies and pushes received (on the bridge's loop): a PING that times out while other answers kept coming
     * belongs to a busy Redis, not a dead one.
     */
    private long answers;
    private final long startedAt = System.currentTimeMillis();
    private volatile Consumer<AdminCommand> adminHandler = command -> { };
    private long reconnectTimer = -1;

    public RedisBridge(FlockConfig config, FlockMetrics metrics, String instanceId) {
        this.config = config;
        this.metrics = metrics;
        this.instanceId = instanceId;
        this.envelope = new Envelope(instanceId);
        this.options = new RedisOptions().setConnectionString(config.redisUrl()).setMaxWaitingHandlers(MAX_WAITING)
                .setMaxPoolWaiting(MAX_WAITING).setNetClientOptions(netClientOptions(config.redisUrl()));
        this.db = database(config.redisUrl());
        this.expiredChannel = "__keyevent@" + db + "__:expired";
        this.publishDelayMs = config.flushIntervalMs() / 2;
    }

    /**
     * TCP settings; for {@code rediss://} TLS with the JVM's trust store and hostname verification (Vert.x 5 refuses
     * a TLS client without a hostname verification algorithm, so it must be named here).
     */
    static NetClientOptions netClientOptions(String url) {
        NetClientOptions net = new NetClientOptions().setConnectTimeout(CONNECT_TIMEOUT_MS).setTcpKeepAlive(true)
                .setTcpNoDelay(true);
        if (url != null && url.regionMatches(true, 0, "rediss://", 0, "rediss://".length())) {
            net.setSsl(true).setHostnameVerificationAlgorithm("HTTPS")
                    .setSslHandshakeTimeout(CONNECT_TIMEOUT_MS).setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS);
        }
        return net;
    }

    /**
     * A connection failure in words an operator can act on, never with the URL (it may hold the password). Redis'
     * own replies (WRONGPASS, NOAUTH, NOPERM) are kept, since they name the cause without echoing credentials.
     */
    static String describe(Throwable err) {
        String message = String.valueOf(err.getMessage());
        String upper = message.toUpperCase(java.util.Locale.ROOT);
        if (upper.startsWith("WRONGPASS") || upper.startsWith("NOAUTH") || upper.contains("INVALID PASSWORD")
                || upper.contains("AUTH") && upper.startsWith("ERR")) {
            return "authentication failed (" + message + "); check the user and password in FLOCK_REDIS_URL";
        }
        if (upper.startsWith("NOPERM")) {
            return "the Redis user lacks a permission (" + message + "); see docs/SCALING.md for the ACL to grant";
        }
        if (err instanceof javax.net.ssl.SSLException || hasCause(err, javax.net.ssl.SSLException.class)) {
            return "TLS handshake failed (" + message + "); rediss:// needs a Redis that speaks TLS on that port";
        }
        return message;
    }

    private static boolean hasCause(Throwable err, Class<? extends Throwable> type) {
        for (Throwable t = err.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /** The database index of a Redis URL ({@code redis://host:port/3}); 0 when it names none. */
    static int database(String url) {
        try {
            String path = URI.create(url).getPath();
            if (path != null && path.length() > 1) {
                return Integer.parseInt(path.substring(1));
            }
        } catch (IllegalArgumentException ignored) {
            // the Redis client reports a malformed URL itself
        }
        return 0;
    }

    public String instanceId() {
        return instanceId;
    }

    @Override
    public boolean connected() {
        return connected;
    }

    /** Why the bridge is not connected, for {@code /ready}; null while connected. */
    public String reason() {
        return connected ? null : reason;
    }

    @Override
    public Future<?> start() {
        metrics.redisConnected(false);
        metrics.redisChannels(rooms::size);
        sweepTimer = vertx.setPeriodic(config.redisSweepIntervalMs(), id -> sweep());
        instanceTimer = vertx.setPeriodic(INSTANCE_REFRESH_MS, id -> announceInstance());
        pingTimer = vertx.setPeriodic(PING_INTERVAL_MS, id -> ping());
        // Redis down at start: start anyway (local rooms work) and keep trying in the background
        return connect().recover(err -> {
            LOG.warn("Redis unavailable at start, running degraded (local rooms only) until it is back: {}",
                    describe(err));
            scheduleReconnect();
            return Future.succeededFuture();
        });
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(sweepTimer);
        vertx.cancelTimer(instanceTimer);
        vertx.cancelTimer(pingTimer);
        if (reconnectTimer >= 0) {
            vertx.cancelTimer(reconnectTimer);
        }
        // leave the instance count at once rather than after the key's TTL
        Future<?> forget = connected ? send(Request.cmd(Command.DEL).arg(Keys.instance(instanceId))).otherwiseEmpty()
                : Future.succeededFuture();
        return forget.transform(ignored -> {
            stopped = true;
            connected = false;
            metrics.redisConnected(false);
            return closeClients();
        });
    }

    // ---- connection lifecycle ------------------------------------------------------------------------------

    private Future<Void> connect() {
        int gen = ++generation;
        closeClients();
        subscriberClient = Redis.createClient(vertx, options);
        commandClient = Redis.createClient(vertx, options);
        // a Redis that accepts TCP but never answers would leave a connect (HELLO, AUTH) pending for ever
        return within(commandClient.connect()).compose(cmd -> within(subscriberClient.connect()).map(sub -> {
            cmd.exceptionHandler(e -> lost(gen, "command connection failed: " + e.getMessage()));
            cmd.endHandler(v -> lost(gen, "command connection closed"));
            sub.handler(this::onPush);
            sub.exceptionHandler(e -> lost(gen, "subscriber connection failed: " + e.getMessage()));
            sub.endHandler(v -> lost(gen, "subscriber connection closed"));
            commands = cmd;
            subscriber = sub;
            return (Void) null;
        })).compose(v -> configureKeyspaceEvents(gen))
                .compose(v -> subscribe(channelsToSubscribe()))
                .map(v -> {
                    if (gen != generation) {
                        throw new IllegalStateException("connection lost while setting up");
                    }
                    connected = true;
                    attempt = 0;
                    reason = null;
                    metrics.redisConnected(true);
                    LOG.info("Redis connected instanceId={} db={} rooms={}", instanceId, db, rooms.size());
                    announceInstance();
                    for (String roomId : rooms.keySet()) {
                        RoomBus.send(vertx, roomId, new RoomCommand.Resync());
                    }
                    return (Void) null;
                })
                .onFailure(err -> {
                    reason = "Redis unavailable: " + describe(err);
                    if (gen == generation) {
                        commands = null;
                        subscriber = null;
                    }
                });
    }

    private static <T> Future<T> within(Future<T> f) {
        return f.timeout(COMMAND_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }

    /** The liveness probe: one PING at a time on the command connection (behind any queued publishes). */
    private void ping() {
        RedisConnection cmd = commands;
        if (!connected || cmd == null || pingInFlight) {
            return;
        }
        int gen = generation;
        long answersBefore = answers;
        pingInFlight = true;
        within(cmd.send(Request.cmd(Command.PING))).onComplete(ar -> {
            pingInFlight = false;
            if (ar.failed() && answers == answersBefore) {
                lost(gen, "no answer to PING within " + COMMAND_TIMEOUT_MS + " ms (" + ar.cause().getMessage() + ")");
            }
        });
    }

    private void heard() {
        answers++;
    }

    private List<String> channelsToSubscribe() {
        List<String> channels = new ArrayList<>(rooms.size() + 2);
        channels.add(Keys.ADMIN_CHANNEL);
        if (config.redisKeyspaceEvents()) {
            channels.add(expiredChannel);
        }
        for (String roomId : rooms.keySet()) {
            channels.add(Keys.channel(roomId));
        }
        return channels;
    }

    /** Called on the bridge's loop when a connection fails or closes. */
    private void lost(int gen, String why) {
        if (gen != generation || stopped) {
            return;
        }
        generation++;
        boolean was = connected;
        connected = false;
        commands = null;
        subscriber = null;
        reason = "Redis connection lost: " + why;
        metrics.redisConnected(false);
        if (was) {
            LOG.warn("Redis connection lost ({}); local delivery goes on, cross-instance events are dropped until it is back", why);
        }
        pendingSubscribes.values().forEach(Promise::tryComplete);
        pendingSubscribes.clear();
        closeClients();
        scheduleReconnect();
    }

    private void scheduleReconnect() {
        if (stopped || reconnectTimer >= 0) {
            return;
        }
        long delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS << Math.min(attempt, 10));
        delay = delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1);
        attempt++;
        reconnectTimer = vertx.setTimer(delay, id -> {
            reconnectTimer = -1;
            if (stopped) {
                return;
            }
            connect().onFailure(err -> {
                LOG.debug("Redis reconnect failed: {}", err.getMessage());
                scheduleReconnect();
            });
        });
    }

    private Future<Void> closeClients() {
        List<Future<Void>> closing = new ArrayList<>(2);
        if (subscriberClient != null) {
            closing.add(subscriberClient.close());
            subscriberClient = null;
        }
        if (commandClient != null) {
            closing.add(commandClient.close());
            commandClient = null;
        }
        return Future.join(closing).<Void>mapEmpty().recover(err -> Future.succeededFuture());
    }

    /** Keeps the flags already set and adds {@code Ex}; a managed Redis that refuses CONFIG gets one warning. */
    private Future<Void> configureKeyspaceEvents(int gen) {
        if (!config.redisKeyspaceEvents()) {
            return Future.succeededFuture();
        }
        RedisConnection cmd = commands;
        return cmd.send(Request.cmd(Command.CONFIG).arg("GET").arg(KEYSPACE_CONFIG)).compose(r -> {
            String flags = configValue(r);
            String wanted = withExpiredEvents(flags);
            if (wanted.equals(flags)) {
                return Future.<Void>succeededFuture();
            }
            return cmd.send(Request.cmd(Command.CONFIG).arg("SET").arg(KEYSPACE_CONFIG).arg(wanted)).<Void>mapEmpty();
        }).recover(err -> {
            if (gen == generation && !keyspaceWarned) {
                keyspaceWarned = true;
                LOG.warn("Redis refused CONFIG SET {} ({}). Enable expired-key events on the server "
                        + "(notify-keyspace-events must contain E and x, e.g. \"Ex\"; on managed Redis set it in the "
                        + "parameter group / configuration). Until then departed users are found by the periodic sweep "
                        + "only (every {} ms).", KEYSPACE_CONFIG, err.getMessage(), config.redisSweepIntervalMs());
            }
            return Future.succeededFuture();
        });
    }

    private static String configValue(Response r) {
        if (r == null) {
            return "";
        }
        if (r.type() == ResponseType.MULTI && r.isMap()) {
            Response v = r.get(KEYSPACE_CONFIG);
            return v == null ? "" : v.toString();
        }
        if (r.size() >= 2) {
            Response v = r.get(1);
            return v == null ? "" : v.toString();
        }
        return "";
    }

    static String withExpiredEvents(String flags) {
        String out = flags == null ? "" : flags;
        if (out.indexOf('E') < 0) {
            out += "E";
        }
        if (out.indexOf('x') < 0 && out.indexOf('A') < 0) {
            out += "x";
        }
        return out;
    }

    // ---- pub/sub ---------------------------------------------------------------------------------------------

    /** Subscribes on the bridge's loop; completes once Redis confirmed every channel (or gave up). */
    private Future<Void> subscribe(List<String> channels) {
        RedisConnection sub = subscriber;
        if (channels.isEmpty() || sub == null) {
            return Future.succeededFuture();
        }
        List<Future<Void>> confirmations = new ArrayList<>(channels.size());
        Request req = Request.cmd(Command.SUBSCRIBE);
        for (String channel : channels) {
            Promise<Void> p = pendingSubscribes.computeIfAbsent(channel, c -> Promise.promise());
            confirmations.add(p.future());
            req.arg(channel);
        }
        sub.send(req).onFailure(err -> channels.forEach(c -> {
            Promise<Void> p = pendingSubscribes.remove(c);
            if (p != null) {
                p.tryFail(err);
            }
        }));
        return within(Future.all(confirmations).<Void>mapEmpty());
    }

    @Override
    public Future<Void> subscribe(String roomId) {
        Context caller = vertx.getOrCreateContext();
        Promise<Void> result = Promise.promise();
        context.runOnContext(v -> {
            int refs = rooms.merge(roomId, 1, Integer::sum);
            Future<Void> ready = refs == 1 && connected ? subscribe(List.of(Keys.channel(roomId))) : Future.succeededFuture();
            ready.onComplete(ar -> {
                if (ar.failed()) {
                    LOG.debug("subscribe roomId={} not confirmed: {}", roomId, ar.cause().toString());
                }
                caller.runOnContext(x -> result.tryComplete());
            });
        });
        return result.future();
    }

    @Override
    public void unsubscribe(String roomId) {
        context.runOnContext(v -> {
            Integer left = rooms.computeIfPresent(roomId, (k, n) -> n == 1 ? null : n - 1);
            RedisConnection sub = subscriber;
            if (left == null && connected && sub != null) {
                sub.send(Request.cmd(Command.UNSUBSCRIBE).arg(Keys.channel(roomId)));
            }
        });
    }

    private void onPush(Response r) {
        heard();
        if (r == null || (r.type() != ResponseType.PUSH && r.type() != ResponseType.MULTI) || r.size() < 3) {
            return;
        }
        Response kind = r.get(0);
        if (isMessage(bulk(kind))) {
            // the hot path: our own echoes (half of all traffic) are dropped before any string or copy is made
            Buffer payload = bulk(r.get(2));
            if (payload == null || envelope.isOwn(payload)) {
                return;
            }
            String channel = r.get(1).toString();
            if (channel.startsWith(Keys.CHANNEL)) {
                onRoomEvent(channel.substring(Keys.CHANNEL.length()), payload.getBytes());
            } else if (channel.equals(expiredChannel)) {
                onExpired(payload.toString());
            } else if (channel.equals(Keys.ADMIN_CHANNEL)) {
                onAdmin(payload.getBytes());
            }
        } else if (kind != null && "subscribe".equals(kind.toString())) {
            Promise<Void> p = pendingSubscribes.remove(r.get(1).toString());
            if (p != null) {
                p.tryComplete();
            }
        }
        // unsubscribe confirmations and other pushes need nothing
    }

    private static final byte[] MESSAGE = {'m', 'e', 's', 's', 'a', 'g', 'e'};

    private static Buffer bulk(Response r) {
        return r != null && r.type() == ResponseType.BULK ? r.toBuffer() : null;
    }

    private static boolean isMessage(Buffer kind) {
        if (kind == null || kind.length() != MESSAGE.length) {
            return false;
        }
        for (int i = 0; i < MESSAGE.length; i++) {
            if (kind.getByte(i) != MESSAGE[i]) {
                return false;
            }
        }
        return true;
    }

    private void onRoomEvent(String roomId, byte[] payload) {
        Envelope.Received received = Envelope.unwrap(payload);
        if (received == null || instanceId.equals(received.instanceId())) {
            return; // not an envelope, or our own echo in a form we did not write
        }
        metrics.redisReceived();
        // an event is applied only to the room whose channel carried it
        if (received.message() != null && roomId.equals(received.roomId()) && rooms.containsKey(roomId)) {
            RoomBus.send(vertx, roomId, new RoomCommand.Remote(received.message(), received.encoded()));
        }
    }

    /** An expired presence or connections key: that user may have vanished; the room's sweep decides. */
    private void onExpired(String key) {
        String[] ids = Keys.roomAndUser(key);
        if (ids != null && rooms.containsKey(ids[0])) {
            RoomBus.send(vertx, ids[0], new RoomCommand.Sweep(ids[1]));
        }
    }

    private void onAdmin(byte[] payload) {
        AdminCommand command = AdminCommand.parse(payload);
        if (command == null || instanceId.equals(command.instanceId())) {
            return; // our own echo, or not a command of ours
        }
        LOG.info("operator command from another instance {} roomId={} from={}", command.action(), command.roomId(),
                command.instanceId());
        adminHandler.accept(command);
    }

    /** Runs {@code handler} (on the bridge's loop) for every operator command another instance publishes. */
    public void onAdminCommand(Consumer<AdminCommand> handler) {
        this.adminHandler = handler;
    }

    /** Publishes an operator command to every other instance of ours (original Node instances never see it). */
    Future<Void> publishAdmin(String action, String roomId) {
        return send(Request.cmd(Command.PUBLISH).arg(Keys.ADMIN_CHANNEL)
                .arg(Buffer.buffer(new AdminCommand(instanceId, action, roomId).toJson()))).mapEmpty();
    }

    /** Keeps {@code flock:instance:<id>} alive while this instance is connected: the fleet's instance count. */
    private void announceInstance() {
        if (!connected || stopped) {
            return;
        }
        send(Request.cmd(Command.SET).arg(Keys.instance(instanceId)).arg(Long.toString(startedAt))
                .arg("PX").arg(INSTANCE_TTL_MS)).onFailure(err -> LOG.debug("instance key not refreshed: {}", err.toString()));
    }

    private void sweep() {
        if (!connected) {
            return;
        }
        for (String roomId : rooms.keySet()) {
            RoomBus.send(vertx, roomId, new RoomCommand.Sweep(null));
        }
    }

    @Override
    public void publish(String roomId, byte[] message) {
        if (enqueue(roomId, message) && drainNowScheduled.compareAndSet(false, true)) {
            context.runOnContext(v -> drainPublishes(drainNowScheduled));
        }
    }

    /**
     * Cursor moves leave in one pipelined write per {@link #publishDelayMs}: Redis then wakes once per batch and
     * pushes each batch to every subscriber in one write, instead of once per move (measured: a third less CPU
     * summed over two instances and Redis).
     */
    @Override
    public void publishCursor(String roomId, byte[] message) {
        if (publishDelayMs == 0) {
            publish(roomId, message);
        } else if (enqueue(roomId, message) && drainLaterScheduled.compareAndSet(false, true)) {
            ((ContextInternal) context).nettyEventLoop().schedule(
                    () -> context.runOnContext(v -> drainPublishes(drainLaterScheduled)), publishDelayMs, TimeUnit.MILLISECONDS);
        }
    }

    /** Queues one publish for the bridge's loop; false when it is dropped (not connected, or the queue is full). */
    private boolean enqueue(String roomId, byte[] message) {
        if (!connected) {
            metrics.redisDropped(1);
            return false;
        }
        if (queuedPublishes.incrementAndGet() > MAX_QUEUED_PUBLISHES) {
            queuedPublishes.decrementAndGet();
            metrics.redisDropped(1);
            return false;
        }
        publishes.add(Request.cmd(Command.PUBLISH).arg(Keys.channel(roomId)).arg(Buffer.buffer(envelope.wrap(message))));
        return true;
    }

    /**
     * Sends every queued publish as one pipelined batch (one write), in the order they were queued. The flag of the
     * drain that runs is cleared first, so a publish queued from now on schedules another.
     */
    private void drainPublishes(AtomicBoolean scheduled) {
        scheduled.set(false);
        List<Request> batch = new ArrayList<>();
        Request r;
        while ((r = publishes.poll()) != null) {
            batch.add(r);
        }
        queuedPublishes.addAndGet(-batch.size());
        if (batch.isEmpty()) {
            return;
        }
        RedisConnection cmd = commands;
        if (cmd == null || !connected) {
            metrics.redisDropped(batch.size());
            return;
        }
        int n = batch.size();
        (n == 1 ? cmd.send(batch.get(0)) : cmd.batch(batch)).onComplete(ar -> {
            if (ar.succeeded()) {
                heard();
                metrics.redisPublished(n);
            } else {
                metrics.redisDropped(n);
            }
        });
    }

    // ---- commands for the presence store -----------------------------------------------------------------------

    /** Sends one command; the future completes on the caller's context, and fails fast while disconnected. */
    Future<Response> send(Request request) {
        RedisConnection cmd = commands;
        if (cmd == null || !connected) {
            return Future.failedFuture(new IllegalStateException(reason == null ? "Redis unavailable" : reason));
        }
        Context caller = Vertx.currentContext();
        long start = System.nanoTime();
        Promise<Response> result = Promise.promise();
        within(cmd.send(request)).onComplete(ar -> {
            metrics.redisCommand(System.nanoTime() - start);
            if (ar.succeeded()) {
                heard();
            }
            if (caller == null || Vertx.currentContext() == caller) {
                result.handle(ar);
            } else {
                caller.runOnContext(v -> result.handle(ar));
            }
        });
        return result.future();
    }

    /** Rooms this instance has a verticle for (for tests and the admin view). */
    public Set<String> rooms() {
        return Set.copyOf(rooms.keySet());
    }
}
