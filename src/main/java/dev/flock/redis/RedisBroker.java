package dev.flock.redis;

import dev.flock.config.FlockConfig;
import dev.flock.internals.VertxInternals;
import dev.flock.metrics.FlockMetrics;
import dev.flock.protocol.ServerMessage;
import dev.flock.room.BrokerEventHandler;
import dev.flock.room.RoomBroker;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Room events over Redis pub/sub, on channels {@code flock:broadcast:<roomId>} in the original server's envelope (in
 * a Redis Cluster: sharded pub/sub on {@code flock:{<roomId>}:broadcast}, see {@link KeyLayout}):
 * subscribes a room's channel while this instance has a verticle for it (reference-counted), publishes in call
 * order (cursor moves batched), drops its own echoes before any copy, and hands other instances' events to the
 * {@link BrokerEventHandler}. Other parts of the bridge listen to fixed channels through {@link #listen}. While
 * Redis is unreachable, publishes are dropped and counted, never queued.
 */
public final class RedisBroker implements RoomBroker {

    private static final Logger LOG = LoggerFactory.getLogger(RedisBroker.class);
    /** Publishes waiting for the bridge's loop; above it events are dropped (bounded memory). */
    static final int MAX_QUEUED_PUBLISHES = 65536;
    private static final byte[] MESSAGE = {'m', 'e', 's', 's', 'a', 'g', 'e'};
    private static final byte[] SHARDED_MESSAGE = {'s', 'm', 'e', 's', 's', 'a', 'g', 'e'};

    /** A publish waiting for the next batch, with its channel (in a cluster, the batch is split by slot owner). */
    private record Queued(String channel, Request request) {
    }

    private final RedisLink link;
    private final KeyLayout layout;
    private final FlockMetrics metrics;
    private final String instanceId;
    private final Envelope envelope;
    /**
     * How long a cursor publish may wait for the next batch on one Redis: half the flush interval (0: sent at once),
     * so a move that crosses instances waits at most 1.5 intervals in all. Measured at 72k/s with 4, 8 and 16 ms: p99
     * 21, 25 and 35 ms; all three spend about a third less CPU than sending at once (docs/BENCHMARKS.md). In a
     * cluster see {@link #cursorHoldMs()}.
     */
    private final int publishDelayMs;
    private final int flushIntervalMs;
    /** Rooms with a local verticle, with a reference count (a retiring and a new verticle may overlap). */
    private final Map<String, Integer> rooms = new ConcurrentHashMap<>();
    /** Channels other parts of the bridge listen to, with what to do with each message's payload. */
    private final Map<String, Consumer<Buffer>> fixed = new ConcurrentHashMap<>();
    private final Map<String, Promise<Void>> pendingSubscribes = new HashMap<>();
    /** Rooms opened while the link was not connected ({@link #subscribeMissed}); only touched on the bridge's loop. */
    private final java.util.Set<String> missed = new java.util.HashSet<>();
    /** Channels to subscribe in the next flush; only touched on the bridge's loop. */
    private final java.util.Set<String> queuedSubscribes = new java.util.LinkedHashSet<>();
    private final ConcurrentLinkedQueue<Queued> publishes = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queuedPublishes = new AtomicInteger();
    private final AtomicBoolean drainNowScheduled = new AtomicBoolean();
    private final AtomicBoolean drainLaterScheduled = new AtomicBoolean();
    private volatile BrokerEventHandler handler;
    private Vertx vertx;
    private Context context;

    RedisBroker(RedisLink link, FlockConfig config, FlockMetrics metrics, String instanceId) {
        this.link = link;
        this.layout = link.layout();
        this.metrics = metrics;
        this.instanceId = instanceId;
        this.envelope = new Envelope(instanceId);
        this.publishDelayMs = config.flushIntervalMs() / 2;
        this.flushIntervalMs = config.flushIntervalMs();
        link.pushHandler(this::onPush);
        link.addSetupStep((commands, subscriber) -> subscribe(channelsToSubscribe()));
        link.onConnected(() -> context.runOnContext(v -> subscribeMissed()));
        link.onSlotMoved(this::resubscribeSlot);
        link.onLost(() -> {
            pendingSubscribes.values().forEach(Promise::tryComplete);
            pendingSubscribes.clear();
        });
    }

    /** The bridge's loop, where subscriptions and batched publishes run. */
    void attach(Vertx vertx, Context context) {
        this.vertx = vertx;
        this.context = context;
        metrics.redisChannels(rooms::size);
    }

    @Override
    public void register(BrokerEventHandler handler) {
        this.handler = handler;
        link.onConnected(handler::onReconnected);
    }

    /** Listens to a channel of the bridge's own (operators, keyspace events) on every connection. */
    void listen(String channel, Consumer<Buffer> onMessage) {
        fixed.put(channel, onMessage);
    }

    private List<String> channelsToSubscribe() {
        List<String> channels = new ArrayList<>(rooms.size() + fixed.size());
        channels.addAll(fixed.keySet());
        for (String roomId : rooms.keySet()) {
            channels.add(layout.channel(roomId));
        }
        return channels;
    }

    // ---- subscriptions -------------------------------------------------------------------------------------

    /** Subscribes on the bridge's loop; completes once Redis confirmed every channel (or gave up). */
    private Future<Void> subscribe(List<String> channels) {
        if (channels.isEmpty() || !link.open()) {
            return Future.succeededFuture();
        }
        List<Future<Void>> confirmations = new ArrayList<>(channels.size());
        for (String channel : channels) {
            Promise<Void> p = pendingSubscribes.computeIfAbsent(channel, c -> Promise.promise());
            confirmations.add(p.future());
        }
        link.subscribe(channels).onFailure(err -> channels.forEach(c -> {
            Promise<Void> p = pendingSubscribes.remove(c);
            if (p != null) {
                p.tryFail(err);
            }
        }));
        return RedisLink.within(Future.all(confirmations).<Void>mapEmpty());
    }

    @Override
    public Future<Void> subscribe(String roomId) {
        Context caller = vertx.getOrCreateContext();
        Promise<Void> result = Promise.promise();
        context.runOnContext(v -> {
            int refs = rooms.merge(roomId, 1, Integer::sum);
            Future<Void> ready = Future.succeededFuture();
            if (refs == 1 && link.connected()) {
                ready = queueSubscribe(roomId);
            } else if (refs == 1) {
                missed.add(roomId);
            }
            ready.onComplete(ar -> {
                if (ar.failed()) {
                    LOG.debug("subscribe roomId={} not confirmed: {}", roomId, ar.cause().toString());
                }
                caller.runOnContext(x -> result.tryComplete());
            });
        });
        return result.future();
    }

    /**
     * Rooms opened in the same turn of the bridge's loop share one SUBSCRIBE (a storm opens hundreds at once, issue 22):
     * the first queues a flush behind the other tasks already waiting on the loop, which gathers them all.
     */
    private Future<Void> queueSubscribe(String roomId) {
        String channel = layout.channel(roomId);
        Promise<Void> confirmed = pendingSubscribes.computeIfAbsent(channel, c -> Promise.promise());
        if (queuedSubscribes.isEmpty()) {
            context.runOnContext(v -> flushSubscribes());
        }
        queuedSubscribes.add(channel);
        return RedisLink.within(confirmed.future());
    }

    private void flushSubscribes() {
        List<String> channels = new ArrayList<>(queuedSubscribes);
        queuedSubscribes.clear();
        if (link.connected() && link.open()) {
            subscribe(channels);
        } else { // lost meanwhile: subscribed once the link is back (its set-up step, or subscribeMissed)
            channels.forEach(c -> {
                missed.add(layout.roomOfChannel(c));
                confirm(c);
            });
        }
    }

    /**
     * Rooms opened while the link was down or still setting up. The set-up step lists the rooms when it runs, and the
     * link reports itself connected only after every later step (the scripts' load, the keyspace events): a room opened
     * in between would otherwise hear nothing from other instances until the next reconnect. Subscribing a channel the
     * set-up step already did is harmless.
     */
    private void subscribeMissed() {
        for (String roomId : List.copyOf(missed)) {
            if (rooms.containsKey(roomId) && link.connected()) {
                queueSubscribe(roomId);
            }
        }
        missed.clear();
    }

    /** A subscription is confirmed (or needs no more waiting for). */
    private void confirm(String channel) {
        Promise<Void> p = pendingSubscribes.remove(channel);
        if (p != null) {
            p.tryComplete();
        }
    }

    @Override
    public void unsubscribe(String roomId) {
        context.runOnContext(v -> {
            Integer left = rooms.computeIfPresent(roomId, (k, n) -> n == 1 ? null : n - 1);
            String channel = layout.channel(roomId);
            if (left == null) {
                missed.remove(roomId);
            }
            if (left == null && queuedSubscribes.remove(channel)) { // closed before its SUBSCRIBE left: none is sent
                confirm(channel);
                return;
            }
            if (left == null && link.connected()) {
                link.unsubscribe(channel);
            }
        });
    }

    // ---- receiving -----------------------------------------------------------------------------------------

    private void onPush(Response r) {
        if (r == null || (r.type() != ResponseType.PUSH && r.type() != ResponseType.MULTI) || r.size() < 3) {
            return;
        }
        Response kind = r.get(0);
        Buffer kindBytes = bulk(kind);
        if (is(kindBytes, MESSAGE) || is(kindBytes, SHARDED_MESSAGE)) {
            // the hot path: our own echoes (half of all traffic) are dropped before any string or copy is made
            Buffer payload = bulk(r.get(2));
            if (payload == null || envelope.isOwn(payload)) {
                return;
            }
            String channel = r.get(1).toString();
            String roomId = layout.roomOfChannel(channel); // room channels first: nearly every message is one
            if (roomId != null) {
                onRoomEvent(roomId, payload.getBytes());
            } else {
                Consumer<Buffer> listener = fixed.get(channel);
                if (listener != null) {
                    listener.accept(payload);
                }
            }
            return;
        }
        String what = kind == null ? "" : kind.toString();
        if ("subscribe".equals(what) || "ssubscribe".equals(what)) {
            confirm(r.get(1).toString());
        } else if ("sunsubscribe".equals(what)) {
            onShardedUnsubscribe(r.get(1).toString());
        }
        // unsubscribe confirmations and other pushes need nothing
    }

    /** Cluster mode: a slot now has another master; its wanted channels are subscribed there (on the bridge's loop). */
    private void resubscribeSlot(int slot) {
        List<String> channels = new ArrayList<>();
        for (String channel : channelsToSubscribe()) {
            if (!channel.startsWith(RedisLink.KEYSPACE_PREFIX) && HashSlot.of(channel) == slot) {
                channels.add(channel);
            }
        }
        if (!channels.isEmpty() && link.open()) { // also while setting up: a set-up SSUBSCRIBE may be the one moved
            subscribe(channels);
        }
    }

    /**
     * A cluster master ends a sharded subscription by itself when the channel's slot leaves it (resharding, or a
     * failover that demoted it): a channel still wanted is subscribed again, at the slot's new owner (its MOVED reply
     * tells which). An unsubscribe of ours is confirmed the same way, for a room no longer wanted: nothing to do.
     */
    private void onShardedUnsubscribe(String channel) {
        String roomId = layout.roomOfChannel(channel);
        boolean wanted = roomId != null ? rooms.containsKey(roomId) : fixed.containsKey(channel);
        if (wanted && link.open()) {
            LOG.info("Redis Cluster moved channel {} (its slot was resharded or failed over): subscribing it again", channel);
            subscribe(List.of(channel));
        }
    }

    private static Buffer bulk(Response r) {
        return r != null && r.type() == ResponseType.BULK ? r.toBuffer() : null;
    }

    private static boolean is(Buffer kind, byte[] expected) {
        if (kind == null || kind.length() != expected.length) {
            return false;
        }
        for (int i = 0; i < expected.length; i++) {
            if (kind.getByte(i) != expected[i]) {
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
        BrokerEventHandler h = handler;
        // an event is applied only to the room whose channel carried it
        if (h != null && received.message() != null && roomId.equals(received.roomId()) && rooms.containsKey(roomId)) {
            h.onPublication(roomId, received.message(), received.encoded(), received.instanceId());
        }
    }

    // ---- publishing ----------------------------------------------------------------------------------------

    @Override
    public void publish(String roomId, ServerMessage message, byte[] encoded) {
        if (enqueue(layout.channel(roomId), envelope.wrap(encoded)) && drainNowScheduled.compareAndSet(false, true)) {
            context.runOnContext(v -> drainPublishes(drainNowScheduled));
        }
    }

    /**
     * Cursor moves leave in one pipelined write per {@link #cursorHoldMs()}: Redis then wakes once per batch and
     * pushes each batch to every subscriber in one write, instead of once per move (measured: a third less CPU
     * summed over two instances and Redis).
     */
    @Override
    public void publishCursor(String roomId, ServerMessage message, byte[] encoded) {
        if (publishDelayMs == 0) {
            publish(roomId, message, encoded);
        } else if (enqueue(layout.channel(roomId), envelope.wrap(encoded)) && drainLaterScheduled.compareAndSet(false, true)) {
            VertxInternals.schedule(context, () -> context.runOnContext(v -> drainPublishes(drainLaterScheduled)),
                    cursorHoldMs());
        }
    }

    /**
     * How long the next cursor batch is held. A batch is split by master, and each master pays a wake-up (a read,
     * and a write to every subscribed instance) per piece whatever its size: with the single-Redis hold, a 3-master
     * cluster woke three times as often as one Redis for the same deliveries and spent 1.28-1.48x its CPU per
     * delivery (docs/BENCHMARKS.md). Held {@code masters} times as long, the masters together wake as often as one
     * Redis does; capped at two flush intervals so a large cluster does not hold moves visibly long
     * (docs/DECISIONS.md).
     */
    int cursorHoldMs() {
        return cursorHoldMs(flushIntervalMs, link.publishTargets());
    }

    static int cursorHoldMs(int flushIntervalMs, int masters) {
        return Math.min(flushIntervalMs / 2 * masters, flushIntervalMs * 2);
    }

    /** Queues one publish for the bridge's loop; false when it is dropped (not connected, or the queue is full). */
    private boolean enqueue(String channel, byte[] payload) {
        if (!link.connected()) {
            metrics.redisDropped(1);
            return false;
        }
        if (queuedPublishes.incrementAndGet() > MAX_QUEUED_PUBLISHES) {
            queuedPublishes.decrementAndGet();
            metrics.redisDropped(1);
            return false;
        }
        publishes.add(new Queued(channel, Request.cmd(layout.publish()).arg(channel).arg(Buffer.buffer(payload))));
        return true;
    }

    /**
     * Sends every queued publish as one pipelined batch (one write), in the order they were queued. The flag of the
     * drain that runs is cleared first, so a publish queued from now on schedules another.
     */
    private void drainPublishes(AtomicBoolean scheduled) {
        scheduled.set(false);
        List<Request> batch = new ArrayList<>();
        List<String> channels = new ArrayList<>();
        Queued q;
        while ((q = publishes.poll()) != null) {
            batch.add(q.request());
            channels.add(q.channel());
        }
        queuedPublishes.addAndGet(-batch.size());
        if (batch.isEmpty()) {
            return;
        }
        int n = batch.size();
        link.publish(channels, batch).onComplete(ar -> {
            if (ar.succeeded()) {
                metrics.redisPublished(n);
            } else {
                metrics.redisDropped(n);
            }
        });
    }
}
