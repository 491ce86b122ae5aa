package dev.flock.redis;

import dev.flock.config.FlockConfig;
import dev.flock.config.RedisUrl;
import dev.flock.internals.VertxInternals;
import dev.flock.metrics.FlockMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisRole;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The connection to Redis: a command connection (commands and publishes share it, so publishes leave in call order)
 * and a subscriber connection of its own, reconnect with capped exponential backoff, and a liveness probe. Parts
 * that need something done on every (re)connect add a {@link SetupStep} (run before the link reports itself
 * connected) or an {@link #onConnected} listener. Runs on the Redis bridge's loop.
 *
 * <p>Real time on purpose: its timeouts race real sockets, so a virtual clock would only make them lie.
 */
public final class RedisLink {

    private static final Logger LOG = LoggerFactory.getLogger(RedisLink.class);
    static final long BACKOFF_MIN_MS = 100;
    static final long BACKOFF_MAX_MS = 5000;
    /**
     * Through Sentinel, a lost primary is usually a failover under way: the sentinels name the new one within
     * seconds, and asking them is cheap, so Flock asks again at least this often (issue 23).
     */
    static final long SENTINEL_BACKOFF_MAX_MS = 1000;
    /**
     * A cluster that lost a master is whole again the moment its replica is promoted, and nothing announces that
     * (Sentinel has {@code +switch-master}): Flock asks this often, each failed attempt being a refused connect and
     * a {@code CLUSTER SLOTS} (issue 23).
     */
    static final long CLUSTER_BACKOFF_MAX_MS = 250;
    static final long COMMAND_TIMEOUT_MS = 3000;
    /**
     * A Redis that keeps its sockets open but answers nothing (stopped, swapping, paused) fails no connection:
     * a PING this often, unanswered within {@link #COMMAND_TIMEOUT_MS}, counts as a lost connection.
     */
    static final long PING_INTERVAL_MS = 1000;
    static final int CONNECT_TIMEOUT_MS = 2000;
    static final int MAX_WAITING = 32768;
    /** How long {@link #sendSoon} lets a command wait for a publish batch or another command to leave with. */
    static final long SOON_MS = 32;

    /** Something to do on fresh connections before the link reports itself connected (configure, subscribe). */
    interface SetupStep {
        Future<Void> run(RedisConnection commands, RedisConnection subscriber);
    }

    /**
     * Something every Redis node needs on every (re)connect, after the set-up steps: one Redis' command connection, or
     * each cluster master's own (CONFIG SET and the script cache are per node).
     */
    interface NodeStep {
        Future<Void> run(RedisConnection node);
    }

    private final FlockMetrics metrics;
    private final RedisOptions options;
    private final String configuredUrl;
    private final RedisUrl url;
    private final int db;
    private final List<SetupStep> setup = new CopyOnWriteArrayList<>();
    private final List<NodeStep> nodeSteps = new CopyOnWriteArrayList<>();
    private final KeyLayout layout;
    /** Sentinel mode: the sentinels' failover announcements; null for one Redis. */
    private final SentinelWatch sentinelWatch;
    private boolean sentinelWatchStarted;
    private final List<Runnable> connectedListeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> lostListeners = new CopyOnWriteArrayList<>();
    private volatile Consumer<Response> pushHandler = r -> { };
    private volatile java.util.function.IntConsumer slotMoved = slot -> { };
    /**
     * Commands {@link #sendSoon} lets wait: the key that places the command (in a cluster, its slot's master carries
     * it), its result and the context that completes on.
     */
    private record Waiting(String key, Request request, Promise<Response> result, Context caller) {
    }
    private final ConcurrentLinkedQueue<Waiting> waiting = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean waitingTimer = new AtomicBoolean();

    private Vertx vertx;
    /** The bridge's context, where the link's state changes. */
    private Context context;
    private Redis subscriberClient;
    private Redis commandClient;
    private volatile RedisConnection subscriber;
    private volatile RedisConnection commands;
    /** Cluster mode: the masters, with Flock's own connections to each; null otherwise and while not connected. */
    private volatile ClusterNodes cluster;
    private volatile boolean connected;
    private volatile String reason = "connecting to Redis";
    private boolean stopped;
    /** Read by senders on other loops (which connection a READONLY belongs to), written on the bridge's loop. */
    private volatile int generation;
    /** Sentinel mode: the primary's address as it reported it ({@code CLIENT INFO laddr}), or null when unknown. */
    private volatile String primaryAddress;
    private int attempt;
    /** Which sentinel a connect asks first: one further after every failed or superseded attempt, kept on success. */
    private int rotation;
    private long pingTimer = -1;
    private long reconnectTimer = -1;
    /** A connection was lost or an attempt failed: the next successful connect is a reconnect. */
    private boolean everFailed;
    private boolean pingInFlight;
    /**
     * Replies and pushes received (on the bridge's loop): a PING that times out while other answers kept coming
     * belongs to a busy Redis, not a dead one.
     */
    private long answers;

    RedisLink(FlockConfig config, FlockMetrics metrics) {
        this.metrics = metrics;
        metrics.redisMode(); // every Redis meter at 0 from the start
        this.url = RedisUrl.parse(config.redisUrl());
        this.options = new RedisOptions().setMaxWaitingHandlers(MAX_WAITING).setMaxPoolWaiting(MAX_WAITING)
                .setNetClientOptions(netClientOptions(url.tls()));
        if (url.kind() == RedisUrl.Kind.SENTINEL) {
            // autoFailover stays off: a lost primary is a lost link here, and the link's own reconnect (which
            // asks the sentinels again) re-writes presence and re-subscribes, as after a Redis restart
            options.setType(RedisClientType.SENTINEL).setMasterName(url.masterName()).setRole(RedisRole.MASTER);
            addSetupStep(this::requirePrimary);
            sentinelWatch = new SentinelWatch(options, url.masterName(), this::primaryMoved);
        } else {
            sentinelWatch = null;
        }
        if (url.kind() == RedisUrl.Kind.CLUSTER) {
            // the client routes every keyed command to its slot's master and follows MOVED, ASK and TRYAGAIN itself;
            // replicas are never read (a presence decision must see the latest write)
            options.setType(RedisClientType.CLUSTER);
        }
        this.layout = KeyLayout.of(url.kind());
        this.db = url.db();
        this.configuredUrl = config.redisUrl();
    }

    /**
     * TCP settings; for {@code rediss://} TLS with the JVM's trust store and hostname verification (Vert.x 5 refuses
     * a TLS client without a hostname verification algorithm, so it must be named here).
     */
    static NetClientOptions netClientOptions(boolean tls) {
        NetClientOptions net = new NetClientOptions().setConnectTimeout(CONNECT_TIMEOUT_MS).setTcpKeepAlive(true)
                .setTcpNoDelay(true);
        if (tls) {
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

    int db() {
        return db;
    }

    void addSetupStep(SetupStep step) {
        setup.add(step);
    }

    void addNodeStep(NodeStep step) {
        nodeSteps.add(step);
    }

    /** The key layout of the URL's kind: the original's, or the cluster's. */
    KeyLayout layout() {
        return layout;
    }

    boolean isCluster() {
        return url.kind() == RedisUrl.Kind.CLUSTER;
    }

    /** How many Redis servers a batch of publishes is split over: the masters in a cluster (1 while unknown), else 1. */
    int publishTargets() {
        ClusterNodes nodes = cluster;
        return nodes == null ? 1 : Math.max(1, nodes.nodes().size());
    }

    void onConnected(Runnable listener) {
        connectedListeners.add(listener);
    }

    void onLost(Runnable listener) {
        lostListeners.add(listener);
    }

    /** Every push of the subscriber connection (messages and subscription confirmations), on the bridge's loop. */
    void pushHandler(Consumer<Response> handler) {
        this.pushHandler = handler;
    }

    public boolean connected() {
        return connected;
    }

    /** Why the link is not connected, for {@code /ready}; null while connected. */
    public String reason() {
        return connected ? null : reason;
    }

    /** Whether the link's connections are there (connected, or being set up). */
    boolean open() {
        return commands != null;
    }

    /**
     * Subscribes channels; the confirmations arrive as pushes ({@code subscribe}, or {@code ssubscribe} for a sharded
     * channel). One Redis: one SUBSCRIBE on the subscriber connection. A cluster: each room or admin channel with
     * SSUBSCRIBE on its slot's master (one command per channel: a command naming channels of several slots is
     * refused); the expired-key channel with SUBSCRIBE on every master (its events are per node). A refusal (MOVED,
     * ASK) arrives later as a push ({@link #onClusterPush}); a slot without a master fails the subscribe and loses the
     * link, whose reconnect subscribes everything again.
     */
    Future<Void> subscribe(List<String> channels) {
        if (channels.isEmpty()) {
            return Future.succeededFuture();
        }
        if (!isCluster()) {
            RedisConnection sub = subscriber;
            if (sub == null) {
                return Future.failedFuture(new IllegalStateException("Redis unavailable"));
            }
            Request req = Request.cmd(Command.SUBSCRIBE);
            channels.forEach(req::arg);
            return sub.send(req).mapEmpty();
        }
        ClusterNodes nodes = cluster;
        if (nodes == null) {
            return Future.failedFuture(new IllegalStateException("Redis unavailable"));
        }
        int gen = generation;
        List<Future<Void>> sent = new ArrayList<>(channels.size());
        for (String channel : channels) {
            if (channel.startsWith(KEYSPACE_PREFIX)) {
                for (ClusterNodes.Node n : nodes.nodes()) {
                    sent.add(n.subscriber().send(Request.cmd(Command.SUBSCRIBE).arg(channel)).mapEmpty());
                }
            } else {
                sent.add(shardedSubscribe(nodes, channel, gen));
            }
        }
        return Future.all(sent).mapEmpty();
    }

    static final String KEYSPACE_PREFIX = "__keyevent@";

    private Future<Void> shardedSubscribe(ClusterNodes nodes, String channel, int gen) {
        ClusterNodes.Node owner = nodes.ownerOf(channel);
        if (owner == null) {
            lost(gen, "the slot of " + channel + " has no master (the cluster is failing over)");
            return Future.failedFuture(new IllegalStateException("no master owns the slot of " + channel));
        }
        // the client completes a subscribe once written; a refusal (MOVED) arrives later, as a push: onClusterPush
        return owner.subscriber().send(Request.cmd(Command.SSUBSCRIBE).arg(channel)).mapEmpty();
    }

    /**
     * A push on a master's subscriber connection. The client hands error replies to subscribe commands to the push
     * handler (it completes those commands once written): a {@code MOVED <slot> <host:port>} means the slot was
     * resharded to that master. A known one: the slot map is corrected and the slot's channels are subscribed again,
     * now there ({@link #onSlotMoved}); an unknown one: the masters changed, and the link reconnects to find them.
     */
    private void onClusterPush(int gen, Response push) {
        if (gen != generation) {
            return; // a connection of an earlier connect, not yet closed: what it says is stale
        }
        if (push == null || push.type() != ResponseType.ERROR) {
            onPush(push);
            return;
        }
        String message = push.toString();
        ClusterNodes nodes = cluster;
        if (message.startsWith("ASK ") && nodes != null) {
            // the slot is being migrated: its channels are subscribed again shortly, until a master takes them
            resubscribeLater(gen, slotOf(message));
            return;
        }
        if (!message.startsWith("MOVED") || nodes == null) {
            if (!subscribeRefusalWarned) {
                subscribeRefusalWarned = true; // once per connect: a refusal repeats for every channel
                LOG.warn("a Redis Cluster master refused a subscription: {}", message);
            }
            return;
        }
        switch (nodes.moved(message)) {
            case CHANGED -> slotMoved.accept(slotOf(message));
            case UNKNOWN -> lost(gen, "a slot moved to a master this instance does not know (" + message + ")");
            // corrected meanwhile (by a publish's MOVED, or another channel's): this channel still needs subscribing,
            // a little later, so that owners disagreeing mid-migration cannot make a tight loop
            default -> resubscribeLater(gen, slotOf(message));
        }
    }

    /** The slot of a {@code MOVED <slot> <address>} or {@code ASK <slot> <address>} reply. */
    private static int slotOf(String redirect) {
        return Integer.parseInt(redirect.trim().split(" ")[1]);
    }

    private void resubscribeLater(int gen, int slot) {
        vertx.setTimer(RESUBSCRIBE_DELAY_MS, id -> {
            if (gen == generation) {
                slotMoved.accept(slot);
            }
        });
    }

    /** How long a refused sharded subscribe waits before it is tried again (mid-migration, or corrected meanwhile). */
    static final long RESUBSCRIBE_DELAY_MS = 100;

    /** Whether a refused subscription was logged since the last connect. */
    private boolean subscribeRefusalWarned;

    /** Cluster mode: what to do when a slot is found moved to another known master (subscribe its channels there). */
    void onSlotMoved(java.util.function.IntConsumer listener) {
        this.slotMoved = listener;
    }

    /** Ends a room channel's subscription (cluster: at its slot's master). */
    void unsubscribe(String channel) {
        if (!isCluster()) {
            RedisConnection sub = subscriber;
            if (sub != null) {
                sub.send(Request.cmd(Command.UNSUBSCRIBE).arg(channel));
            }
            return;
        }
        ClusterNodes nodes = cluster;
        ClusterNodes.Node owner = nodes == null ? null : nodes.ownerOf(channel);
        if (owner != null) {
            owner.subscriber().send(Request.cmd(Command.SUNSUBSCRIBE).arg(channel));
        }
    }

    /**
     * Every key matching {@code pattern} (SCAN, never KEYS, which blocks Redis): one Redis, or every cluster master
     * (a SCAN covers the node it runs on only).
     */
    Future<Set<String>> scan(String pattern, int count) {
        Set<String> out = java.util.Collections.synchronizedSet(new java.util.LinkedHashSet<>());
        Context caller = Vertx.currentContext();
        Promise<Set<String>> result = Promise.promise();
        everyNode(node -> scanFrom(node, "0", pattern, count, out)).map(v -> copy(out))
                .onComplete(ar -> completeOn(caller, result, ar)); // as send(): on the caller's context
        return result.future();
    }

    private static Future<Void> scanFrom(RedisConnection node, String cursor, String pattern, int count, Set<String> out) {
        return scanOnce(node, cursor, pattern, count, out)
                .compose(next -> "0".equals(next) ? Future.<Void>succeededFuture() : scanFrom(node, next, pattern, count, out));
    }

    /** One SCAN call from {@code cursor}: its keys go into {@code out}; the next cursor ("0": done). */
    private static Future<String> scanOnce(RedisConnection node, String cursor, String pattern, int count, Set<String> out) {
        return within(node.send(Request.cmd(Command.SCAN).arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(count)))
                .map(r -> {
                    for (Response key : r.get(1)) {
                        out.add(key.toString());
                    }
                    return r.get(0).toString();
                });
    }

    private static Set<String> copy(Set<String> synchronizedSet) {
        synchronized (synchronizedSet) {
            return new java.util.LinkedHashSet<>(synchronizedSet);
        }
    }

    /** Completes {@code result} with {@code ar} on {@code caller}'s context (at once when already there, or none). */
    private static <T> void completeOn(Context caller, Promise<T> result, io.vertx.core.AsyncResult<T> ar) {
        if (caller == null || Vertx.currentContext() == caller) {
            result.handle(ar);
        } else {
            caller.runOnContext(v -> result.handle(ar));
        }
    }

    /**
     * One SCAN step on each node from the cursors of the previous step (for a sweep that walks the keyspace a little at
     * a time); {@code cursors} maps a node's address to its cursor and is updated in place (one Redis: the key "").
     */
    Future<Set<String>> scanStep(String pattern, int count, Map<String, String> cursors) {
        Set<String> out = java.util.Collections.synchronizedSet(new java.util.LinkedHashSet<>());
        ClusterNodes nodes = cluster;
        RedisConnection cmd = commands;
        List<Future<Void>> steps = new ArrayList<>();
        if (isCluster() && nodes != null) {
            for (ClusterNodes.Node n : nodes.nodes()) {
                steps.add(step(n.commands(), n.address(), pattern, count, cursors, out));
            }
        } else if (!isCluster() && cmd != null) {
            steps.add(step(cmd, "", pattern, count, cursors, out));
        } else {
            return Future.failedFuture(new IllegalStateException("Redis unavailable"));
        }
        // what the healthy masters answered is kept when one fails (their cursors have moved on)
        return Future.join(steps).transform(ar -> Future.succeededFuture(copy(out)));
    }

    private static Future<Void> step(RedisConnection node, String address, String pattern, int count,
                                     Map<String, String> cursors, Set<String> out) {
        return scanOnce(node, cursors.getOrDefault(address, "0"), pattern, count, out)
                .map(next -> {
                    cursors.put(address, next);
                    return (Void) null;
                });
    }

    /** Connects (on the calling bridge's context); never fails for an unreachable Redis, which is retried. */
    Future<Void> start(Vertx vertx) {
        this.vertx = vertx;
        this.context = Vertx.currentContext();
        metrics.redisConnected(false);
        pingTimer = vertx.setPeriodic(PING_INTERVAL_MS, id -> ping());
        // Redis down at start: start anyway (local rooms work) and keep trying in the background. The start waits
        // for the first connect at most COMMAND_TIMEOUT_MS: through Sentinel, silent sentinels listed first can
        // make that connect take longer, and it goes on in the background rather than being started over
        Promise<Void> started = Promise.promise();
        connect().onComplete(ar -> {
            if (ar.failed() && !stopped) { // the failed attempt has scheduled the next one itself
                LOG.warn("Redis unavailable at start, running degraded (local rooms only) until it is back: {}",
                        describe(ar.cause()));
            }
            started.tryComplete();
        });
        vertx.setTimer(COMMAND_TIMEOUT_MS, id -> {
            if (started.tryComplete()) {
                LOG.warn("Redis not connected within {} ms of the start: running degraded (local rooms only) until it is",
                        COMMAND_TIMEOUT_MS);
            }
        });
        return started.future();
    }

    Future<Void> stop() {
        vertx.cancelTimer(pingTimer);
        if (reconnectTimer >= 0) {
            vertx.cancelTimer(reconnectTimer);
        }
        stopped = true;
        if (sentinelWatch != null) {
            sentinelWatch.stop();
        }
        generation++; // a connect still resolving its host (or setting up) must not finish after the stop
        connected = false;
        metrics.redisConnected(false);
        return closeClients();
    }

    private Future<Void> connect() {
        int gen = ++generation;
        closeClients();
        return clientUrls().compose(urls -> {
            if (stopped || gen != generation) {
                return Future.failedFuture(new IllegalStateException("stopped or superseded while resolving the Redis host"));
            }
            // the client asks the sentinels in list order, each unreachable one costing a connect timeout: start at
            // another one after every failed attempt, so a dead first sentinel delays one attempt, not all
            options.setEndpoints(rotated(urls, rotation));
            if (sentinelWatch != null && !sentinelWatchStarted) { // not before: the options' default is localhost:6379
                sentinelWatchStarted = true;
                sentinelWatch.start(vertx);
            }
            return connect(gen);
        }).onFailure(err -> {
            // a resolve failure never reached connect(gen), which handles its own failures (and bumps generation)
            if (gen == generation && !stopped) {
                reason = "Redis unavailable: " + describe(err);
                scheduleReconnect();
            }
        });
    }

    /**
     * The URLs the Redis client gets (the one Redis, or the sentinels): as configured, or, for a host java.net.URI
     * refuses (a Compose service name with '_'), with that host resolved to its address first; on every
     * (re)connect, so a moved container is found again.
     */
    private Future<List<String>> clientUrls() {
        if (url.kind() == RedisUrl.Kind.SINGLE && !url.needsResolving()) {
            return Future.succeededFuture(List.of(configuredUrl.trim()));
        }
        List<Future<String>> each = new ArrayList<>(url.endpoints().size());
        for (RedisUrl.Endpoint e : url.endpoints()) {
            if (!RedisUrl.needsResolving(e.host())) {
                each.add(Future.succeededFuture(url.clientUrl(e.host(), e.port())));
                continue;
            }
            each.add(vertx.<String>executeBlocking(() -> url.clientUrl(InetAddress.getByName(e.host()).getHostAddress(), e.port()), false)
                    .recover(err -> Future.failedFuture(new java.net.UnknownHostException(
                            "the Redis host " + e.host() + " does not resolve (" + err.getClass().getSimpleName() + ")"))));
        }
        // a sentinel that does not resolve is left out while another does: the client asks them in turn
        return Future.join(each).transform(ar -> {
            List<String> resolved = new ArrayList<>(each.size());
            Throwable firstFailure = null;
            for (Future<String> f : each) {
                if (f.succeeded()) {
                    resolved.add(f.result());
                } else if (firstFailure == null) {
                    firstFailure = f.cause();
                }
            }
            return resolved.isEmpty() ? Future.failedFuture(firstFailure) : Future.succeededFuture(resolved);
        });
    }

    static List<String> rotated(List<String> urls, int by) {
        int n = urls.size();
        if (n < 2) {
            return urls;
        }
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(urls.get((i + by) % n));
        }
        return out;
    }

    /**
     * Through Sentinel: both connections must have reached the primary. Mid-failover, the sentinels may still
     * name a node that has just become a replica; writing to it would fail with READONLY, so the connect fails and
     * is retried, asking the sentinels again.
     */
    private Future<Void> requirePrimary(RedisConnection commands, RedisConnection subscriber) {
        // each connection asked the sentinels on its own, so mid-failover they may have been told different nodes
        return isPrimary(commands).compose(v -> isPrimary(subscriber))
                .compose(v -> address(commands)).compose(here -> address(subscriber).compose(there -> {
                    if (here != null && there != null && !here.equals(there)) {
                        return Future.failedFuture(new IllegalStateException("the two connections reached different"
                                + " nodes (" + here + ", " + there + "): the sentinels changed their answer mid-connect"));
                    }
                    primaryAddress = here; // for the log, and to tell a late +switch-master from a new one
                    return Future.<Void>succeededFuture();
                }));
    }

    /** The node's address as the connection sees it ({@code CLIENT INFO laddr}, Redis 6.2+), or null when not told. */
    private static Future<String> address(RedisConnection connection) {
        return within(connection.send(Request.cmd(Command.CLIENT).arg("INFO"))).transform(ar -> Future.succeededFuture(
                ar.succeeded() && ar.result() != null ? field(ar.result().toString(), "laddr") : null));
    }

    private static Future<Void> isPrimary(RedisConnection connection) {
        return within(connection.send(Request.cmd(Command.ROLE))).transform(ar -> {
            if (ar.failed()) {
                // an ACL without +role (docs/SCALING.md): the READONLY check on every write still finds a replica
                return String.valueOf(ar.cause().getMessage()).startsWith("NOPERM") ? Future.<Void>succeededFuture()
                        : Future.<Void>failedFuture(ar.cause());
            }
            Response role = ar.result();
            String what = role == null || role.size() == 0 ? "nothing" : role.get(0).toString();
            return "master".equals(what) ? Future.<Void>succeededFuture() : Future.<Void>failedFuture(new IllegalStateException(
                    "the node the sentinels named as the primary is a " + what + " (a failover is under way)"));
        });
    }

    /** {@code name=value} out of a {@code CLIENT INFO} line; null when absent. */
    static String field(String clientInfo, String name) {
        for (String pair : clientInfo.trim().split(" ")) {
            if (pair.startsWith(name + "=")) {
                return pair.substring(name.length() + 1);
            }
        }
        return null;
    }

    /** One Redis (or the primary the sentinels name): a command connection and a subscriber connection. */
    private Future<Void> openSingle(int gen) {
        subscriberClient = Redis.createClient(vertx, options);
        commandClient = Redis.createClient(vertx, options);
        // a Redis that accepts TCP but never answers would leave a connect (HELLO, AUTH) pending for ever
        return withinConnect(commandClient.connect()).compose(cmd -> withinConnect(subscriberClient.connect()).map(sub -> {
            cmd.exceptionHandler(e -> lost(gen, "command connection failed: " + e.getMessage()));
            cmd.endHandler(v -> lost(gen, "command connection closed"));
            sub.handler(this::onPush);
            sub.exceptionHandler(e -> lost(gen, "subscriber connection failed: " + e.getMessage()));
            sub.endHandler(v -> lost(gen, "subscriber connection closed"));
            commands = cmd;
            subscriber = sub;
            return (Void) null;
        }));
    }

    /**
     * A Redis Cluster: the Vert.x cluster client for keyed commands, and Flock's own two connections to every master
     * ({@link ClusterNodes}). One of those failing or closing is a lost link (the reconnect rediscovers the masters);
     * the routed client's own sockets are judged by its commands' failures ({@link #send}).
     */
    private Future<Void> openCluster(int gen) {
        commandClient = Redis.createClient(vertx, options);
        return withinConnect(commandClient.connect()).compose(cmd -> {
            // not a lost link: the routed connection also holds sockets to replicas, which it never sends to; a
            // master's death closes Flock's own connections to it, and a command that cannot reach a master fails
            // (send() then counts the link as lost)
            cmd.exceptionHandler(e -> LOG.debug("a routed cluster connection failed: {}", e.toString()));
            commands = cmd;
            return ClusterNodes.open(vertx, cmd, options, url, new ClusterNodes.Listener() {
                @Override
                public void push(Response push) {
                    onClusterPush(gen, push);
                }

                @Override
                public void lost(String why) {
                    RedisLink.this.lost(gen, why);
                }
            });
        }).map(nodes -> {
            if (gen != generation) {
                nodes.close();
                throw new IllegalStateException("superseded while discovering the cluster");
            }
            cluster = nodes;
            return (Void) null;
        });
    }

    private Future<Void> runNodeSteps(RedisConnection node) {
        Future<Void> done = Future.succeededFuture();
        for (NodeStep step : nodeSteps) {
            done = done.compose(v -> step.run(node));
        }
        return done;
    }

    /** {@code step} on every node: one Redis' command connection, or each cluster master's own. */
    Future<Void> everyNode(java.util.function.Function<RedisConnection, Future<Void>> step) {
        ClusterNodes nodes = cluster;
        if (isCluster()) {
            return nodes == null ? Future.failedFuture(new IllegalStateException("Redis unavailable")) : nodes.onEveryMaster(step);
        }
        RedisConnection cmd = commands;
        return cmd == null ? Future.failedFuture(new IllegalStateException("Redis unavailable")) : step.apply(cmd);
    }

    private Future<Void> connect(int gen) {
        Future<Void> ready = isCluster() ? openCluster(gen) : openSingle(gen);
        for (SetupStep step : setup) { // first: through Sentinel, that the node is the primary
            ready = ready.compose(v -> step.run(commands, subscriber));
        }
        ready = ready.compose(v -> everyNode(this::runNodeSteps));
        return ready.map(v -> {
            if (gen != generation) {
                throw new IllegalStateException("connection lost while setting up");
            }
            connected = true;
            if (everFailed) {
                metrics.redisReconnected(); // back after a loss or a failed attempt (not the first connect)
            }
            attempt = 0;
            reason = null;
            metrics.redisConnected(true);
            subscribeRefusalWarned = false;
            if (isCluster()) {
                LOG.info("Redis Cluster connected: {} masters ({})", cluster.nodes().size(), String.join(", ", cluster.addresses()));
            } else if (url.kind() == RedisUrl.Kind.SENTINEL) {
                LOG.info("Redis connected: the primary of {} at {} (through {} sentinel(s)) db={}", url.masterName(),
                        primaryAddress == null ? "an address it does not tell" : primaryAddress, url.endpoints().size(), db);
            } else {
                LOG.info("Redis connected db={}", db);
            }
            connectedListeners.forEach(Runnable::run);
            return (Void) null;
        }).onFailure(err -> {
            if (stopped) { // a stop in the middle of a connect is no failed connect
                return;
            }
            everFailed = true;
            metrics.redisError("connect_failed");
            rotation++; // failed or superseded: the next attempt asks another sentinel first
            // only the current attempt schedules the next one: a superseded attempt (its successor may already be
            // connected) failing late must not start a connect that would close a healthy link
            if (gen == generation) {
                reason = "Redis unavailable: " + describe(err);
                connected = false;
                commands = null;
                subscriber = null;
                generation++; // the half-made connections' close or error events must not count as another loss
                closeClients();
                scheduleReconnect();
            }
        });
    }

    /**
     * A connect may first ask the sentinels in turn, each unreachable one costing a connect timeout: in Sentinel mode
     * the bound grows with their number, so one healthy sentinel behind silent ones is still reached.
     */
    private <T> Future<T> withinConnect(Future<T> f) {
        long bound = url.kind() == RedisUrl.Kind.SENTINEL
                ? (long) url.endpoints().size() * CONNECT_TIMEOUT_MS + COMMAND_TIMEOUT_MS
                : url.kind() == RedisUrl.Kind.CLUSTER ? CONNECT_TIMEOUT_MS + COMMAND_TIMEOUT_MS : COMMAND_TIMEOUT_MS;
        return f.timeout(bound, TimeUnit.MILLISECONDS);
    }

    static <T> Future<T> within(Future<T> f) {
        return f.timeout(COMMAND_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }

    private void onPush(Response r) {
        answers++;
        pushHandler.accept(r);
    }

    /** The liveness probe: one PING at a time on the command connection (behind any queued publishes). */
    private void ping() {
        RedisConnection cmd = commands;
        if (!connected || cmd == null || pingInFlight) {
            return;
        }
        int gen = generation;
        pingInFlight = true;
        if (isCluster() && cluster != null) {
            pingCluster(gen, cluster, cmd).onComplete(ar -> pingInFlight = false);
            return;
        }
        long answersBefore = answers;
        within(cmd.send(Request.cmd(Command.PING))).onComplete(ar -> {
            pingInFlight = false;
            if (ar.failed() && answers == answersBefore) {
                lost(gen, "no answer to PING within " + COMMAND_TIMEOUT_MS + " ms (" + ar.cause().getMessage() + ")");
            }
        });
    }

    /**
     * A cluster: each master on Flock's own connection to it, judged by what that master alone was heard saying (one
     * master that hangs while the others carry traffic is still found); and every {@link #TOPOLOGY_CHECK_PINGS}
     * pings, {@code CLUSTER SLOTS}: a changed set of masters (one added, a manual failover) is followed by a
     * reconnect, so that sweeps, views and expired-key events cover every master.
     */
    private Future<Void> pingCluster(int gen, ClusterNodes nodes, RedisConnection routed) {
        List<Future<Void>> all = new ArrayList<>();
        for (ClusterNodes.Node n : nodes.nodes()) {
            long heardBefore = n.heard();
            all.add(within(n.commands().send(Request.cmd(Command.PING))).<Void>mapEmpty().onFailure(err -> {
                if (n.heard() == heardBefore) {
                    lost(gen, "no answer to PING from " + n.address() + " within " + COMMAND_TIMEOUT_MS + " ms (" + err.getMessage() + ")");
                }
            }));
        }
        if (++pings % TOPOLOGY_CHECK_PINGS == 0) {
            all.add(within(routed.send(Request.cmd(Command.CLUSTER).arg("SLOTS"))).<Void>map(r -> {
                Set<String> now = ClusterNodes.masters(r, url.host()).keySet();
                if (!now.isEmpty() && !now.equals(Set.copyOf(nodes.addresses()))) {
                    lost(gen, "the cluster's masters changed (now " + String.join(", ", now) + ")");
                }
                return null;
            }));
        }
        return Future.join(all).mapEmpty();
    }

    /** A cluster's masters are compared with {@code CLUSTER SLOTS} every this many pings (5 s). */
    static final int TOPOLOGY_CHECK_PINGS = 5;
    private long pings;

    /** Called on the bridge's loop when a connection fails or closes. */
    private void lost(int gen, String why) {
        if (gen != generation || stopped) {
            return;
        }
        generation++;
        everFailed = true;
        boolean was = connected;
        connected = false;
        commands = null;
        subscriber = null; // the cluster's nodes are closed (and forgotten) by closeClients below
        reason = "Redis connection lost: " + why;
        metrics.redisConnected(false);
        if (was) {
            metrics.redisError("connection_lost"); // once per loss; one lost during set-up is a failed connect
            LOG.warn("Redis connection lost ({}); local delivery goes on, cross-instance events are dropped until it is back", why);
        }
        lostListeners.forEach(Runnable::run);
        closeClients();
        scheduleReconnect();
    }

    /**
     * The sentinels announced a new primary: leave the old one now (it may still accept writes that are about to be
     * thrown away), or, while already reconnecting, try at once instead of after the backoff.
     */
    private void primaryMoved(String address) {
        if (stopped) {
            return;
        }
        if (connected && address.equals(primaryAddress)) {
            return; // already there: this instance followed the failover before this sentinel announced it
        }
        LOG.info("the sentinels switched the primary of {} to {}", url.masterName(), address);
        if (connected) {
            lost(generation, "the sentinels switched the primary to " + address);
        } else if (reconnectTimer >= 0) {
            vertx.cancelTimer(reconnectTimer);
            reconnectTimer = -1;
            attempt = 0;
            connect();
        } else {
            // a connect is in flight, and may have been told the old primary: start over, at once
            attempt = 0;
            lost(generation, "the sentinels switched the primary to " + address + " during a connect");
        }
    }

    private void scheduleReconnect() {
        if (stopped || reconnectTimer >= 0) {
            return;
        }
        // a Sentinel or a cluster that lost a primary is usually mid-failover, and finishes it within seconds
        long max = switch (url.kind()) {
            case SINGLE -> BACKOFF_MAX_MS;
            case SENTINEL -> SENTINEL_BACKOFF_MAX_MS;
            case CLUSTER -> CLUSTER_BACKOFF_MAX_MS;
        };
        long delay = Math.min(max, BACKOFF_MIN_MS << Math.min(attempt, 10));
        delay = delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1);
        attempt++;
        reconnectTimer = vertx.setTimer(delay, id -> {
            reconnectTimer = -1;
            if (stopped || connected) {
                return;
            }
            // a failed attempt schedules the next one itself (only while it is the current one)
            connect().onFailure(err -> LOG.debug("Redis reconnect failed: {}", err.getMessage()));
        });
    }

    private Future<Void> closeClients() {
        List<Future<Void>> closing = new ArrayList<>(3);
        ClusterNodes nodes = cluster;
        if (nodes != null) {
            closing.add(nodes.close());
            cluster = null;
        }
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

    /** Sends one command; the future completes on the caller's context, and fails fast while disconnected. */
    Future<Response> send(Request request) {
        sendWaiting(); // the commands that were allowed to wait leave first: call order is kept
        return sendNow(request, Vertx.currentContext());
    }

    /**
     * A command that may wait a little (a room's once-a-second refresh): it leaves with the next publish batch or
     * command, at the latest {@link #SOON_MS} from now, so Redis reads it in a wake-up it has anyway instead of in
     * one of its own. Sent at the moment of its own, each refresh woke a Redis (each cluster master) once more: at
     * 300 rooms, 600 refreshes a second against 250 publish batches (issue 23, docs/BENCHMARKS.md). With a publish
     * batch it goes in the same pipelined write, on the connection that carries the publishes to the master owning
     * {@code key}'s slot (one Redis: its one command connection). Call order with {@link #send} is kept; the future
     * completes on the caller's context, as send's.
     */
    Future<Response> sendSoon(String key, Request request) {
        Context bridge = context;
        // disconnected: send fails it at once; started off any loop (a test, an embedder): no loop keeps the time limit
        if (bridge == null || commands == null || !connected) {
            return send(request);
        }
        Promise<Response> result = Promise.promise();
        waiting.add(new Waiting(key, request, result, Vertx.currentContext()));
        if (waitingTimer.compareAndSet(false, true)) {
            VertxInternals.schedule(bridge, () -> {
                waitingTimer.set(false);
                sendWaiting();
            }, SOON_MS);
        }
        return result.future();
    }

    /** Sends every command that was allowed to wait, in the order they came, each on its own. */
    private void sendWaiting() {
        sendEach(takeWaiting());
    }

    /** Sends waiting commands each on its own (through the routed connection in a cluster), completing their futures. */
    private void sendEach(List<Waiting> soon) {
        soon.forEach(w -> sendNow(w.request(), w.caller()).onComplete(w.result()));
    }

    /** Takes every command that was allowed to wait, in the order they came, to leave with a publish batch. */
    private List<Waiting> takeWaiting() {
        if (waiting.isEmpty()) {
            return List.of();
        }
        List<Waiting> out = new ArrayList<>();
        Waiting w;
        while ((w = waiting.poll()) != null) {
            out.add(w);
        }
        return out;
    }

    private Future<Response> sendNow(Request request, Context caller) {
        RedisConnection cmd = commands;
        if (cmd == null || !connected) {
            return Future.failedFuture(new IllegalStateException(reason == null ? "Redis unavailable" : reason));
        }
        long start = System.nanoTime();
        int gen = generation;
        Promise<Response> result = Promise.promise();
        within(cmd.send(request)).onComplete(ar -> {
            metrics.redisCommand(System.nanoTime() - start);
            if (ar.succeeded()) {
                answers++;
            } else if (isCluster() && unreachable(ar.cause())) {
                metrics.redisError("command");
                lostFromAnyLoop(gen, "the routed cluster connection cannot reach a master (" + ar.cause().getMessage() + ")");
            } else if (isReadOnly(ar.cause())) {
                metrics.redisError("command");
                demoted(gen);
            } else if (!isNoScript(ar.cause())) { // NOSCRIPT: the script cache is empty (fresh or restarted Redis),
                metrics.redisError("command");     // and the caller falls back to EVAL: no error
            }
            completeOn(caller, result, ar);
        });
        return result.future();
    }

    /**
     * Publishes, as one pipelined write per node: one Redis' command connection, or (a cluster) each master's own
     * connection for the channels its slots hold; the commands {@link #sendSoon} let wait go in the same write, at the
     * head of their master's batch. A publish answered {@code MOVED} (its slot was resharded) corrects the slot map
     * and goes again through the routed connection, which follows the redirect; the others of its batch were
     * published (a batch's replies are one per command). {@code channels.get(i)} is the channel of
     * {@code requests.get(i)}.
     */
    Future<Void> publish(List<String> channels, List<Request> requests) {
        List<Waiting> soon = takeWaiting(); // in the same write as the batch: Redis reads both in one wake-up
        RedisConnection routed = commands;
        ClusterNodes nodes = cluster;
        if (routed == null || !connected || (isCluster() && nodes == null)) {
            sendEach(soon); // fails each, as send would
            return Future.failedFuture(new IllegalStateException("Redis unavailable"));
        }
        int gen = generation;
        if (!isCluster()) {
            return batchWith(routed, soon, requests).<Void>map(v -> {
                answers++;
                return null;
            }).onFailure(err -> {
                metrics.redisError("command");
                if (isReadOnly(err)) {
                    demoted(gen);
                }
            });
        }
        Map<ClusterNodes.Node, List<Integer>> groups = nodes.byOwner(channels);
        Map<ClusterNodes.Node, List<Waiting>> soonByOwner = new HashMap<>();
        List<Waiting> alone = new ArrayList<>();
        for (Waiting w : soon) {
            ClusterNodes.Node owner = nodes.ownerOf(w.key());
            if (owner != null && groups.containsKey(owner)) {
                soonByOwner.computeIfAbsent(owner, n -> new ArrayList<>()).add(w);
            } else { // no batch for its master this time (or its slot has none): through the routed connection now
                alone.add(w);
            }
        }
        sendEach(alone);
        List<Future<Void>> all = new ArrayList<>();
        for (Map.Entry<ClusterNodes.Node, List<Integer>> group : groups.entrySet()) {
            List<Request> batch = group.getValue().stream().map(requests::get).toList();
            if (group.getKey() == null) { // a slot without a master (mid-failover): the routed client may know better
                batch.forEach(r -> all.add(routed.send(r).mapEmpty()));
                continue;
            }
            Future<Void> sent = batchWith(group.getKey().commands(), soonByOwner.getOrDefault(group.getKey(), List.of()), batch);
            all.add(sent.recover(err -> {
                List<Future<Void>> again = new ArrayList<>();
                for (String line : String.valueOf(err.getMessage()).split("\\R")) {
                    int index = batch.size() == 1 ? 0 : batchIndex(line);
                    int at = line.indexOf("MOVED ");
                    if (index < 0 || index >= batch.size() || at < 0) {
                        continue;
                    }
                    String moved = line.substring(at);
                    ClusterNodes.Moved what = nodes.moved(moved);
                    if (what == ClusterNodes.Moved.UNKNOWN) {
                        lost(gen, "a slot moved to a master this instance does not know (" + moved + ")");
                        return Future.failedFuture(err);
                    }
                    if (what == ClusterNodes.Moved.CHANGED) { // the slot's channels are still subscribed at the old owner
                        slotMoved.accept(slotOf(moved));
                    }
                    again.add(routed.send(batch.get(index)).mapEmpty());
                }
                return again.isEmpty() ? Future.failedFuture(err) : Future.all(again).mapEmpty();
            }));
        }
        return Future.all(all).<Void>map(v -> {
            answers++;
            return null;
        }).onFailure(err -> metrics.redisError("command"));
    }

    /**
     * Writes the waiting commands and then {@code publishes} to one node as one pipelined write. Vert.x fails a whole
     * batch when any command in it fails and keeps none of its replies: then each waiting command goes again on its
     * own (a refresh only extends and writes what is there, so running it twice is harmless; a {@code NOSCRIPT} comes
     * back to its caller, who sends the script itself), and the write fails only when a publish failed, with the
     * publishes' lines alone, numbered as in {@code publishes}.
     */
    private Future<Void> batchWith(RedisConnection node, List<Waiting> soon, List<Request> publishes) {
        if (soon.isEmpty()) {
            return (publishes.size() == 1 ? node.send(publishes.get(0)) : node.batch(publishes)).mapEmpty();
        }
        List<Request> all = new ArrayList<>(soon.size() + publishes.size());
        soon.forEach(w -> all.add(w.request()));
        all.addAll(publishes);
        long start = System.nanoTime();
        return within(node.batch(all)).transform(ar -> {
            if (ar.succeeded()) {
                long took = System.nanoTime() - start;
                for (int i = 0; i < soon.size(); i++) {
                    metrics.redisCommand(took);
                    Waiting w = soon.get(i);
                    completeOn(w.caller(), w.result(), Future.succeededFuture(ar.result().get(i)));
                }
                return Future.succeededFuture();
            }
            sendEach(soon);
            StringBuilder publishErrors = new StringBuilder();
            for (String line : String.valueOf(ar.cause().getMessage()).split("\\R")) {
                int index = batchIndex(line);
                if (index < 0) { // not one command's reply: the write as a whole failed (closed, timed out)
                    return Future.failedFuture(ar.cause());
                }
                if (index >= soon.size()) {
                    publishErrors.append(publishErrors.isEmpty() ? "" : "\n")
                            .append("ERR [").append(index - soon.size()).append(line.substring(line.indexOf(']')));
                }
            }
            return publishErrors.isEmpty() ? Future.succeededFuture()
                    : Future.failedFuture(new VertxException(publishErrors.toString(), true));
        });
    }

    /** The index of a failed command in a batch's error ({@code "ERR [3] MOVED ..."}, one line per failed command). */
    static int batchIndex(String line) {
        int open = line.indexOf('[');
        int close = line.indexOf(']');
        if (open < 0 || close <= open + 1) {
            return -1;
        }
        try {
            return Integer.parseInt(line.substring(open + 1, close));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * A write answered READONLY: the node was a primary and is now a replica (a failover demoted it, or a managed
     * Redis moved its primary behind the same name). The connection is healthy but useless: it counts as lost, and
     * the reconnect finds the new primary. On the bridge's loop, where {@link #lost} must run.
     */
    private void demoted(int gen) {
        lostFromAnyLoop(gen, "Redis answered READONLY: the primary became a replica (a failover)");
    }

    /** {@link #lost}, run on the bridge's loop whichever loop calls. */
    private void lostFromAnyLoop(int gen, String why) {
        Context bridge = this.context;
        Runnable lose = () -> lost(gen, why);
        if (bridge == null || Vertx.currentContext() == bridge) {
            lose.run();
        } else {
            bridge.runOnContext(v -> lose.run());
        }
    }

    /** The routed cluster client's words for a pooled connection that is gone. */
    private static boolean unreachable(Throwable err) {
        String m = err == null ? null : err.getMessage();
        return m != null && (m.startsWith("Connection is closed") || m.startsWith("Failed obtaining connection"));
    }

    private static boolean isReadOnly(Throwable err) {
        // Redis 7 answers "READONLY You can't write…"; 6.2 wraps a script's as "ERR Error running script … -READONLY …"
        return err != null && err.getMessage() != null && err.getMessage().contains("READONLY You can't write");
    }

    private static boolean isNoScript(Throwable err) {
        return err != null && err.getMessage() != null && err.getMessage().startsWith("NOSCRIPT");
    }
}
