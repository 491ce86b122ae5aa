package dev.flock.room;

import dev.flock.protocol.ClientMessage;
import dev.flock.protocol.LeaveReason;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The single owner of one room's state. It processes the commands at {@code flock.room.<roomId>} one at a time on
 * its own event loop ({@link CommandQueue}), so the state needs no locks. Its parts:
 * <ul>
 *   <li>{@link Members}: the room's view (members here and elsewhere, local connections, the audience);</li>
 *   <li>{@link Membership}: joins, leaves, expiry and operator closes, each decided by the {@link PresenceStore};</li>
 *   <li>{@link Activity}: cursors, presence updates and heartbeats, and the batched store refresh;</li>
 *   <li>{@link FleetSync}: events from other instances, sweeps and reconciliation;</li>
 *   <li>{@link Announcer}: what the room says, locally through {@link Delivery} and to the fleet through
 *   {@link RoomBroker}.</li>
 * </ul>
 * The same code runs over every store: memory (one instance), Redis (many), or Redis with a local fallback.
 */
public final class RoomVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(RoomVerticle.class);

    /** The longest a stopping room waits for the decisions it has in flight. */
    private static final long STOP_DRAIN_MS = 2000;
    private static final long STOP_POLL_MS = 5;

    private final String roomId;
    private final RoomRegistry registry;
    private final RoomServices services;
    private CommandQueue<Message<Object>> queue;
    private Members members;
    private Membership membership;
    private Activity activity;
    private FleetSync fleet;
    private MessageConsumer<Object> consumer;
    private boolean retiring;
    /** The room's view of the fleet was read (or asked for) with its first command. */
    private boolean viewLoaded;

    public RoomVerticle(String roomId, RoomRegistry registry, RoomServices services) {
        this.roomId = roomId;
        this.registry = registry;
        this.services = services;
    }

    @Override
    public Future<?> start() {
        queue = new CommandQueue<>(context, this::process, m -> isCursorMove(m.body()), this::retireIfEmpty,
                services.metrics()::droppedOverload);
        members = new Members(services.delivery(), services.metrics());
        Announcer announcer = new Announcer(roomId, members, services);
        activity = new Activity(roomId, services, members, announcer, queue);
        membership = new Membership(roomId, services, members, announcer, queue, activity, vertx);
        fleet = new FleetSync(roomId, services, members, announcer, membership, queue, vertx);
        consumer = vertx.eventBus().localConsumer(RoomRegistry.address(roomId), queue::offer);
        // subscribe before the room's view is read (with its first command, see process); what arrives meanwhile
        // waits in the queue and is applied after the view
        queue.await(services.broker().subscribe(roomId), ignored -> { });
        return consumer.completion();
    }

    /**
     * The room's first command reads its view of the fleet: a join reads it in the same store call that admits
     * ({@link Membership#firstJoin}: a first join in Redis mode costs the SUBSCRIBE and one script, issue 22); any other
     * command waits for a snapshot first.
     */
    private boolean loadView(Message<Object> message) {
        if (viewLoaded) {
            return false;
        }
        viewLoaded = true;
        if (message.body() instanceof RoomCommand.Join c) {
            registry.joinArrived(roomId);
            membership.firstJoin(c.peer(), c.seq(), c.join(), view -> {
                if (view != null) {
                    fleet.load(view);
                } else { // the admission came without a view (the store failed or fell back): read it on its own
                    queue.await(services.store().snapshot(roomId), fleet::load);
                }
            });
        } else {
            queue.await(services.store().snapshot(roomId), ar -> {
                try {
                    fleet.load(ar);
                } finally {
                    process(message);
                }
            });
        }
        return true;
    }

    /**
     * What the room is still deciding goes on first (bounded): at shutdown, the leaves of the sockets just closed are on
     * their way to the store, and their announcements must leave before the broker does. Watched by a short timer, not
     * signalled by the queue: the queue's drain is the hot path of every message and stays as small as it is.
     */
    @Override
    public Future<?> stop() {
        io.vertx.core.Promise<Void> drained = io.vertx.core.Promise.promise();
        long deadline = System.nanoTime() + STOP_DRAIN_MS * 1_000_000;
        awaitIdle(drained, deadline);
        return drained.future().eventually(() -> {
            activity.stop();
            services.broker().unsubscribe(roomId);
            return Future.succeededFuture();
        });
    }

    /** Real time on purpose: a stop must end even when a test's clock stands still. */
    private void awaitIdle(io.vertx.core.Promise<Void> drained, long deadlineNanos) {
        if (queue.idle() || System.nanoTime() >= deadlineNanos) {
            drained.complete();
        } else {
            vertx.setTimer(STOP_POLL_MS, t -> awaitIdle(drained, deadlineNanos));
        }
    }

    private static boolean isCursorMove(Object command) {
        return command instanceof RoomCommand.Relay r && r.message() instanceof ClientMessage.CursorMove;
    }

    private void process(Message<Object> message) {
        Object body = message.body();
        try {
            if (loadView(message)) {
                return;
            }
            if (body instanceof RoomCommand.Join c) {
                registry.joinArrived(roomId);
                membership.join(c.peer(), c.seq(), c.join());
            } else if (body instanceof RoomCommand.Relay c) {
                relay(c);
            } else if (body instanceof RoomCommand.Expire c) {
                membership.expire(c.peer());
            } else if (body instanceof RoomCommand.Disconnect c) {
                if (c.graced()) {
                    membership.disconnectGraced(c.peer());
                } else {
                    membership.removePeer(c.peer(), LeaveReason.CLOSED, null);
                }
            } else if (body instanceof RoomCommand.GraceEnded c) {
                membership.graceEnded(c.userId(), c.connectionId());
            } else if (body instanceof RoomCommand.Remote c) {
                fleet.remote(c.message(), c.encoded(), c.publisher());
            } else if (body instanceof RoomCommand.Sweep c) {
                fleet.sweep(c.userId());
            } else if (body instanceof RoomCommand.Resync) {
                fleet.resync();
            } else if (body instanceof RoomCommand.Recheck c) {
                fleet.recheck(c.userIds());
            } else if (body instanceof RoomCommand.Close) {
                message.reply(membership.close(), RoomBus.LOCAL);
            } else if (body instanceof RoomCommand.Kick c) {
                message.reply(membership.kick(c.userId()), RoomBus.LOCAL);
            } else if (body instanceof RoomCommand.ServerPatch c) {
                registry.commandArrived(roomId);
                activity.serverPatch(c.userId(), c.patch()).onComplete(ar -> {
                    if (ar.succeeded()) {
                        message.reply(ar.result(), RoomBus.LOCAL);
                    } else {
                        message.fail(ar.cause() instanceof PresenceStore.MetadataTooLarge ? RoomCommand.ServerPatch.TOO_LARGE
                                : RoomCommand.ServerPatch.NOT_PRESENT, ar.cause().getMessage());
                    }
                });
            } else if (body instanceof RoomCommand.Inspect) {
                message.reply(members.inspect(roomId, membership::reconnecting), RoomBus.LOCAL);
            }
        } catch (RuntimeException e) {
            LOG.error("room command failed {} {}", kv("roomId", roomId), kv("command", body.getClass().getSimpleName()), e);
        }
    }

    private void relay(RoomCommand.Relay c) {
        Member member = members.of(c.peer());
        if (member == null) {
            services.metrics().dropped(dev.flock.metrics.FlockMetrics.Drop.EVICTED); // raced with an eviction or expiry: the connection learns it on its loop
        } else if (c.message() instanceof ClientMessage.Leave) {
            membership.removePeer(c.peer(), LeaveReason.LEFT, null);
        } else {
            activity.relay(c.peer(), member, c.message(), c.receivedNanos());
        }
    }

    private void retireIfEmpty() {
        if (retiring || !members.noLocalConnections() || membership.gracing() || !registry.tryRetire(roomId)) {
            return;
        }
        retiring = true;
        vertx.undeploy(deploymentID()).onComplete(ar -> registry.retired(roomId));
    }
}
