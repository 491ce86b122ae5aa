package dev.flock.redis;

import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisRole;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.function.Consumer;

/**
 * Listens to the sentinels' {@code +switch-master} announcements, so that the link follows a failover the moment the
 * sentinels decide it, not when the old primary's sockets close: after an operator's {@code SENTINEL FAILOVER}, or a
 * partition that leaves the old primary running, that can be seconds later, and every write in between goes to a
 * node whose data is about to be thrown away. An accelerator only: without it (no sentinel reachable, or an ACL
 * without pub/sub on the sentinels) the link still finds the new primary when the old one's connections close or
 * answer READONLY. One connection to one sentinel, PINGed every {@value #PING_INTERVAL_MS} ms (a half-open socket
 * would end the watch silently), re-made after a failure with a backoff of 1 s doubling to 30 s; a warning is logged
 * once per outage. Runs on the bridge's loop.
 */
final class SentinelWatch {

    private static final Logger LOG = LoggerFactory.getLogger(SentinelWatch.class);
    static final String CHANNEL = "+switch-master";
    static final long RETRY_MIN_MS = 1000;
    static final long RETRY_MAX_MS = 30_000;
    static final long PING_INTERVAL_MS = 5000;

    private final RedisOptions options;
    private final String masterName;
    private final Consumer<String> onSwitch;
    private Vertx vertx;
    private Redis client;
    private boolean stopped;
    private int generation;
    private long retryMs = RETRY_MIN_MS;
    private long retryTimer = -1;
    private long pingTimer = -1;
    /** A warning was logged for the current outage: the next one waits for a success. */
    private boolean warned;
    /**
     * Pushes received. The Vert.x connection hands a push that arrives while a PING waits the PING's place, so that
     * PING never completes: a PING timing out while pushes kept coming belongs to a live sentinel.
     */
    private long pushes;

    /**
     * @param options  the link's options (the sentinels' endpoints, user and password)
     * @param onSwitch called with the new primary's {@code ip:port} when the sentinels switch {@code masterName}
     */
    SentinelWatch(RedisOptions options, String masterName, Consumer<String> onSwitch) {
        this.options = options;
        this.masterName = masterName;
        this.onSwitch = onSwitch;
    }

    void start(Vertx vertx) {
        this.vertx = vertx;
        connect();
    }

    void stop() {
        stopped = true;
        generation++;
        cancelTimers();
        closeClient();
    }

    private void connect() {
        if (stopped) {
            return;
        }
        int gen = ++generation;
        closeClient();
        // a copy: the link's own options keep the MASTER role
        client = Redis.createClient(vertx, new RedisOptions(options).setRole(RedisRole.SENTINEL));
        // the client may try every sentinel in turn, each unreachable one costing a connect timeout
        long bound = (long) options.getEndpoints().size() * RedisLink.CONNECT_TIMEOUT_MS + RedisLink.COMMAND_TIMEOUT_MS;
        client.connect().timeout(bound, java.util.concurrent.TimeUnit.MILLISECONDS).compose(conn -> {
            conn.handler(this::onPush);
            conn.exceptionHandler(e -> retry(gen, "its connection failed: " + e.getMessage()));
            conn.endHandler(v -> retry(gen, "its connection closed"));
            return RedisLink.within(conn.send(Request.cmd(Command.SUBSCRIBE).arg(CHANNEL))).map(conn);
        }).onSuccess(conn -> {
            if (gen != generation) {
                return;
            }
            retryMs = RETRY_MIN_MS;
            warned = false;
            pingTimer = vertx.setPeriodic(PING_INTERVAL_MS, id -> {
                long before = pushes;
                RedisLink.within(conn.send(Request.cmd(Command.PING))).onFailure(err -> {
                    if (pushes == before) {
                        retry(gen, "a sentinel did not answer PING: " + err.getMessage());
                    }
                });
            });
        }).onFailure(err -> retry(gen, "could not subscribe to " + CHANNEL + ": " + RedisLink.describe(err)));
    }

    private void retry(int gen, String why) {
        if (stopped || gen != generation) {
            return;
        }
        generation++;
        if (!warned) { // NOPERM (an ACL without pub/sub on the sentinels) lands here too, and says so
            warned = true;
            LOG.warn("not watching the sentinels for failovers ({}); retrying with backoff. Meanwhile a failover is"
                    + " followed when the old primary's connections close or answer READONLY", why);
        } else {
            LOG.debug("sentinel watch: {}; again in {} ms", why, retryMs);
        }
        cancelTimers();
        closeClient();
        retryTimer = vertx.setTimer(retryMs, id -> {
            retryTimer = -1;
            connect();
        });
        retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
    }

    private void cancelTimers() {
        if (retryTimer >= 0) {
            vertx.cancelTimer(retryTimer);
            retryTimer = -1;
        }
        if (pingTimer >= 0) {
            vertx.cancelTimer(pingTimer);
            pingTimer = -1;
        }
    }

    /** {@code message +switch-master "<name> <old-ip> <old-port> <new-ip> <new-port>"} (RESP2 array or RESP3 push). */
    private void onPush(Response r) {
        pushes++;
        // only arrays carry messages; a stray simple reply (a PONG whose PING lost its place) has no size
        if (r == null || (r.type() != ResponseType.MULTI && r.type() != ResponseType.PUSH) || r.size() < 3 || !"message".equalsIgnoreCase(r.get(0).toString())
                || !CHANNEL.equals(r.get(1).toString())) {
            return;
        }
        List<String> words = List.of(r.get(2).toString().split(" "));
        if (words.size() == 5 && words.get(0).equals(masterName)) {
            onSwitch.accept(words.get(3) + ":" + words.get(4));
        }
    }

    private void closeClient() {
        if (client != null) {
            client.close();
            client = null;
        }
    }
}
