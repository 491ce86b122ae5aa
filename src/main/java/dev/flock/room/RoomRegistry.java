package dev.flock.room;

import dev.flock.internals.VertxInternals;
import dev.flock.logging.RepeatedLog;
import dev.flock.protocol.ServerMessage;
import dev.flock.time.Clock;
import dev.flock.time.SystemClock;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.slf4j.LoggerFactory;

/**
 * Deploys a room verticle when a room gets its first join and undeploys it when it empties, without
 * ever letting two verticles listen on one room address.
 *
 * <p>A join is counted from the moment it is routed until the room verticle processes it, so a room that
 * has just emptied does not retire under a join already on its way. A room that is retiring finishes
 * its undeploy before a new verticle for the same id is deployed.
 *
 * <p>Room verticles are deployed from a context that belongs to no deployment, so they are top-level
 * deployments owned by this registry. Deployed from the context of the verticle that routed the first join
 * (an HTTP verticle, or an embedding application's), they would be its children, and undeploying that
 * verticle would undeploy them too, racing their own retirement ("Already undeployed").
 *
 * <p>It is also the one place where what brokers and store housekeeping report ({@link BrokerEventHandler}) becomes
 * room commands.
 */
public final class RoomRegistry implements BrokerEventHandler {

    public static final String ADDRESS_PREFIX = "flock.room.";

    private final Vertx vertx;
    private final Function<String, RoomVerticle> factory;
    private final Context detached;
    private final Map<String, Entry> rooms = new HashMap<>();
    /** Entries replaced while their verticle was still undeploying, by room id. */
    private final Map<String, Entry> retiringEntries = new HashMap<>();
    /** A room that cannot open answers its joins INTERNAL_ERROR; the cause goes here, once per kind and window. */
    private final RepeatedLog openFailures;
    /** Rooms deploy once this completes: the parts they need (the Redis bridge) run. */
    private volatile Future<Void> openable = Future.succeededFuture();

    private static final class Entry {
        /** The deployment id once the verticle listens on the room's address. */
        final Future<String> live;
        final Promise<Void> retired = Promise.promise();
        int joinsInFlight;
        boolean retiring;

        Entry(Future<String> live) {
            this.live = live;
        }
    }

    public RoomRegistry(Vertx vertx, Function<String, RoomVerticle> factory) {
        this(vertx, factory, new SystemClock(vertx));
    }

    public RoomRegistry(Vertx vertx, Function<String, RoomVerticle> factory, Clock clock) {
        this.vertx = vertx;
        this.factory = factory;
        this.detached = VertxInternals.detachedEventLoopContext(vertx);
        this.openFailures = new RepeatedLog(LoggerFactory.getLogger(RoomRegistry.class), clock, 60);
    }

    /**
     * Rooms open only after {@code ready} completes, and fail to open if it fails: an embedding application may hand
     * over sockets before the Redis bridge (which room verticles subscribe through) is deployed.
     */
    public void openAfter(Future<Void> ready) {
        this.openable = ready;
    }

    public static String address(String roomId) {
        return ADDRESS_PREFIX + roomId;
    }

    /**
     * Routes a join (or a server API command, {@link #route}): completes once a room verticle for {@code roomId} listens
     * on its address.
     */
    public Future<Void> routeJoin(String roomId) {
        synchronized (this) {
            Entry e = rooms.get(roomId);
            if (e == null || e.retiring) {
                Future<Void> previous = Future.succeededFuture();
                if (e != null) {
                    retiringEntries.put(roomId, e);
                    previous = e.retired.future();
                }
                Entry fresh = new Entry(previous.transform(ignored -> deploy(roomId)));
                fresh.live.onFailure(err -> {
                    forget(roomId, fresh);
                    openFailures.error(err.getClass().getName(), "a room could not be opened (its joins get INTERNAL_ERROR): "
                            + err, err);
                });
                rooms.put(roomId, fresh);
                e = fresh;
            }
            e.joinsInFlight++;
            return e.live.mapEmpty();
        }
    }

    /**
     * Routes a server API command to the room, deploying its verticle when this instance has none (Redis mode: the
     * user is held elsewhere); the verticle retires again once the command is done and nobody is in it here.
     */
    public Future<Void> route(String roomId) {
        return routeJoin(roomId);
    }

    /** The room verticle processed a command sent with {@link #route}. */
    void commandArrived(String roomId) {
        joinArrived(roomId);
    }

    /** The room verticle processed a routed join (admitted or not). */
    synchronized void joinArrived(String roomId) {
        Entry e = rooms.get(roomId);
        if (e != null && e.joinsInFlight > 0) {
            e.joinsInFlight--;
        }
    }

    /** The room is empty; it retires unless a join is on its way. True when the caller must undeploy. */
    synchronized boolean tryRetire(String roomId) {
        Entry e = rooms.get(roomId);
        if (e == null || e.retiring || e.joinsInFlight > 0) {
            return false;
        }
        e.retiring = true;
        return true;
    }

    /** The retired verticle is gone; a deployment waiting for the address may go on. */
    void retired(String roomId) {
        Entry e;
        synchronized (this) {
            e = rooms.get(roomId);
            if (e != null && e.retiring) {
                rooms.remove(roomId);
            } else {
                // a newer entry already replaced it and waits on the retired promise of the old one
                e = retiringEntries.remove(roomId);
            }
        }
        if (e != null) {
            e.retired.tryComplete();
        }
    }

    private synchronized void forget(String roomId, Entry e) {
        rooms.remove(roomId, e);
    }

    private Future<String> deploy(String roomId) {
        Promise<String> deployed = Promise.promise();
        openable.onComplete(ready -> detached.runOnContext(v -> {
            if (ready.failed()) {
                deployed.fail(ready.cause());
                return;
            }
            try {
                vertx.deployVerticle(factory.apply(roomId)).onComplete(deployed);
            } catch (RuntimeException e) { // the factory itself failed: the same as a failed deployment
                deployed.fail(e);
            }
        }));
        return deployed.future();
    }

    /**
     * Shutdown: undeploys every room verticle (after the sockets are closed). A room already retiring by itself is
     * waited for; any other is marked retiring first, so it does not also undeploy itself.
     */
    public Future<Void> closeAll() {
        List<Future<?>> gone = new ArrayList<>();
        synchronized (this) {
            // a snapshot: an undeploy that fails at once (the verticle is gone already) retires its room inside this loop
            for (Map.Entry<String, Entry> en : List.copyOf(rooms.entrySet())) {
                Entry e = en.getValue();
                if (e.retiring) {
                    gone.add(e.retired.future());
                    continue;
                }
                e.retiring = true;
                String roomId = en.getKey();
                gone.add(e.live.compose(vertx::undeploy).eventually(() -> {
                    retired(roomId);
                    return Future.succeededFuture();
                }));
            }
        }
        return Future.join(gone).mapEmpty();
    }

    /** Room ids with a live (or starting) verticle on this instance. */
    public synchronized List<String> roomIds() {
        return rooms.entrySet().stream().filter(en -> !en.getValue().retiring).map(Map.Entry::getKey).toList();
    }

    public synchronized int size() {
        return (int) rooms.values().stream().filter(en -> !en.retiring).count();
    }

    private synchronized boolean live(String roomId) {
        Entry e = rooms.get(roomId);
        return e != null && !e.retiring;
    }

    // ---- what brokers and housekeeping report, as room commands --------------------------------------------

    @Override
    public void onPublication(String roomId, ServerMessage message, byte[] encoded, String publisher) {
        RoomBus.send(vertx, roomId, new RoomCommand.Remote(message, encoded, publisher));
    }

    @Override
    public boolean onPresenceExpired(String roomId, String userId) {
        if (!live(roomId)) {
            return false;
        }
        RoomBus.send(vertx, roomId, new RoomCommand.Sweep(userId));
        return true;
    }

    @Override
    public void onSweepDue() {
        for (String roomId : roomIds()) {
            RoomBus.send(vertx, roomId, new RoomCommand.Sweep(null));
        }
    }

    @Override
    public void onReconnected() {
        for (String roomId : roomIds()) {
            RoomBus.send(vertx, roomId, new RoomCommand.Resync());
        }
    }
}
