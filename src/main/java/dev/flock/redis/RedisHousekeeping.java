package dev.flock.redis;

import dev.flock.config.FlockConfig;
import dev.flock.room.BrokerEventHandler;
import dev.flock.time.Clock;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet's upkeep in Redis: this instance's key {@code flock:instance:<id>} (the fleet's instance count), expired-key
 * events (a user's presence expired: the room is pruned of them at once, here or by its verticle on this instance) and
 * the periodic sweep, of this instance's rooms and of the room index for rooms no instance shows any more (which finds
 * what the events missed, and what a crashed instance left behind). Runs on the Redis bridge's loop; its timers are the
 * {@link Clock}'s.
 */
final class RedisHousekeeping {

    private static final Logger LOG = LoggerFactory.getLogger(RedisHousekeeping.class);
    private static final String KEYSPACE_CONFIG = "notify-keyspace-events";
    /** Each instance re-writes {@code flock:instance:<id>} this often, with {@link #INSTANCE_TTL_MS}. */
    static final long INSTANCE_REFRESH_MS = 5000;
    static final long INSTANCE_TTL_MS = 15000;

    private final RedisLink link;
    private final FlockConfig config;
    private final Clock clock;
    private final String instanceId;
    private final long startedAt;
    private final String expiredChannel;
    private final RoomPruner pruner;
    private final RoomIndexSweep leftovers;
    private volatile BrokerEventHandler handler;
    private boolean keyspaceWarned;
    private boolean stopped;
    private long sweepTimer = -1;
    private long instanceTimer = -1;

    RedisHousekeeping(RedisLink link, RedisBroker broker, RoomPruner pruner, RoomIndexSweep leftovers, FlockConfig config,
                      Clock clock, String instanceId) {
        this.link = link;
        this.pruner = pruner;
        this.leftovers = leftovers;
        this.config = config;
        this.clock = clock;
        this.instanceId = instanceId;
        this.startedAt = clock.millis();
        this.expiredChannel = RedisLink.KEYSPACE_PREFIX + link.db() + "__:expired";
        if (config.redisKeyspaceEvents()) {
            link.addNodeStep(this::configureKeyspaceEvents); // per node: a cluster's events are each master's own
            broker.listen(expiredChannel, this::onExpired);
        }
        link.onConnected(this::announceInstance);
    }

    void register(BrokerEventHandler handler) {
        this.handler = handler;
    }

    /** On the bridge's loop. */
    void start() {
        sweepTimer = clock.setPeriodic(config.redisSweepIntervalMs(), id -> sweep());
        instanceTimer = clock.setPeriodic(INSTANCE_REFRESH_MS, id -> announceInstance());
    }

    /** Leaves the instance count at once rather than after the key's TTL. */
    Future<Void> stop() {
        stopped = true;
        clock.cancelTimer(sweepTimer);
        clock.cancelTimer(instanceTimer);
        return link.connected() ? link.send(Request.cmd(Command.DEL).arg(Keys.instance(instanceId))).<Void>mapEmpty()
                .otherwiseEmpty() : Future.succeededFuture();
    }

    /** Keeps {@code flock:instance:<id>} alive while this instance is connected. */
    private void announceInstance() {
        if (!link.connected() || stopped) {
            return;
        }
        link.send(Request.cmd(Command.SET).arg(Keys.instance(instanceId)).arg(Long.toString(startedAt))
                .arg("PX").arg(INSTANCE_TTL_MS)).onFailure(err -> LOG.debug("instance key not refreshed: {}", err.toString()));
    }

    private void sweep() {
        BrokerEventHandler h = handler;
        if (link.connected() && h != null) {
            h.onSweepDue();
            leftovers.tick();
        }
    }

    /**
     * An expired presence or connections key: that user may have vanished; the sweep decides. A room shown here
     * sweeps itself on either key. A room shown nowhere here (its instance may have crashed) is pruned from here on
     * both: the presence key is every user's (an original instance writes no connections set), and ours expires
     * first (exactly the TTL, as the original's), while our connections key outlives it by the grace and has the
     * last word on a crashed instance's users.
     */
    private void onExpired(Buffer payload) {
        String key = payload.toString();
        String[] ids = link.layout().roomAndUser(key);
        BrokerEventHandler h = handler;
        if (ids == null || h == null) {
            return;
        }
        if (link.layout().isPresence(key) || !h.onPresenceExpired(ids[0], ids[1])) {
            pruner.prune(ids[0], ids[1]);
        }
    }

    /** Keeps the flags already set and adds {@code Ex}; a managed Redis that refuses CONFIG gets one warning. */
    private Future<Void> configureKeyspaceEvents(RedisConnection cmd) {
        return cmd.send(Request.cmd(Command.CONFIG).arg("GET").arg(KEYSPACE_CONFIG)).compose(r -> {
            String flags = configValue(r);
            String wanted = withExpiredEvents(flags);
            if (wanted.equals(flags)) {
                return Future.<Void>succeededFuture();
            }
            return cmd.send(Request.cmd(Command.CONFIG).arg("SET").arg(KEYSPACE_CONFIG).arg(wanted)).<Void>mapEmpty();
        }).recover(err -> {
            if (!keyspaceWarned) {
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
}
