package dev.flock.redis;

import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import dev.flock.room.BrokerEventHandler;
import dev.flock.room.LocalRoomDirectory;
import dev.flock.room.PresenceStore;
import dev.flock.room.RoomBroker;
import dev.flock.room.RoomDirectory;
import dev.flock.room.RoomRegistry;
import dev.flock.time.Clock;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;

/**
 * The Redis bridge verticle: mirrors room addresses to Redis channels and keeps shared presence, on a loop of its
 * own. It only assembles the parts, each with one job:
 * <ul>
 *   <li>{@link RedisLink}: the connections, reconnect and liveness, command transport;</li>
 *   <li>{@link RedisBroker}: room channels (subscriptions, batched publishes, received events);</li>
 *   <li>{@link RedisHousekeeping}: the instance key, expired-key events, the periodic sweep, and with
 *   {@link RoomIndexSweep} the search for rooms a crashed instance left behind;</li>
 *   <li>{@link RoomPruner}: prunes a room of departed members, through its verticle here or from here;</li>
 *   <li>{@link AdminChannel}: operator commands to every instance;</li>
 *   <li>{@link RedisOutbox}: the webhook outbox stream the scripts write to, and its delivery lease;</li>
 *   <li>{@link RedisPresenceStore} behind {@link FailoverPresenceStore}: the shared presence, decided locally while
 *   Redis is unreachable.</li>
 * </ul>
 */
public final class RedisBridge extends VerticleBase {

    private final RedisLink link;
    private final RedisBroker broker;
    private final RedisHousekeeping housekeeping;
    private final AdminChannel admin;
    private final RedisPresenceStore presence;
    private final RoomPruner pruner;
    private final FailoverPresenceStore store;
    /** Null without webhooks. */
    private final RedisOutbox outbox;
    /** Cluster with webhooks only: see {@link WebhookRelay}. */
    private final WebhookRelay relay;

    public RedisBridge(FlockConfig config, FlockMetrics metrics, String instanceId, Clock clock) {
        this.link = new RedisLink(config, metrics);
        this.broker = new RedisBroker(link, config, metrics, instanceId);
        // with webhooks, each script records its decision's event in the outbox stream (issue 19)
        this.presence = new RedisPresenceStore(link, config, config.webhooks().enabled()
                ? Scripts.of(link.layout(), config.webhooks().recorded(), config.webhooks().maxPending())
                : Scripts.of(link.layout(), java.util.Set.of(), 1));
        this.outbox = config.webhooks().enabled() ? new RedisOutbox(link, instanceId,
                config.webhooks().urls().stream().map(java.net.URI::toString).toList(), config.webhooks().leaderLeaseMs())
                : null;
        link.addNodeStep(presence::loadScripts); // per node: a cluster master's script cache is its own
        this.pruner = new RoomPruner(presence, broker);
        this.housekeeping = new RedisHousekeeping(link, broker, pruner, new RoomIndexSweep(presence, pruner, link), config, clock,
                instanceId);
        this.admin = new AdminChannel(link, broker, instanceId);
        this.store = new FailoverPresenceStore(presence, link::connected, clock, config);
        this.relay = link.isCluster() && outbox != null
                ? new WebhookRelay(link, config.webhooks().maxPending(), clock, config.redisSweepIntervalMs()) : null;
        if (relay != null) {
            presence.relayEvents(relay);
        }
    }

    /** Where room events and housekeeping reports go; before the bridge is deployed. */
    public void register(BrokerEventHandler handler) {
        broker.register(handler);
        housekeeping.register(handler);
        pruner.register(handler);
    }

    @Override
    public Future<?> start() {
        broker.attach(vertx, context);
        housekeeping.start();
        if (relay != null) {
            relay.start();
        }
        return link.start(vertx);
    }

    @Override
    public Future<?> stop() {
        if (relay != null) {
            relay.stop();
        }
        return housekeeping.stop().eventually(link::stop);
    }

    /** The connection, for {@code connected()} and {@code /ready}'s {@code reason()}. */
    public RedisLink link() {
        return link;
    }

    public RoomBroker broker() {
        return broker;
    }

    /** The presence store rooms use: Redis, or local decisions while it is unreachable. */
    public PresenceStore store() {
        return store;
    }

    /** The fleet's webhook outbox (a Redis Stream), or null without webhooks. */
    public dev.flock.webhook.Outbox outbox() {
        return outbox;
    }

    /** Shutdown: connections that close from now on leave no announcement; their presence expires. */
    public void drain() {
        store.drain();
    }

    /** Every instance's rooms, read from Redis; this instance's alone while Redis is unreachable. */
    public RoomDirectory directory(Vertx vertx, RoomRegistry registry) {
        return new FleetRoomDirectory(new LocalRoomDirectory(vertx, registry), registry, link, pruner, presence, admin);
    }
}
