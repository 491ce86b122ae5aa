package dev.flock.transport;

import dev.flock.logging.AuditLog;
import dev.flock.config.FlockConfig;
import dev.flock.identity.ApiKeys;
import dev.flock.identity.UpgradeAuth;
import dev.flock.internals.VertxInternals;
import dev.flock.metrics.FlockMetrics;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.room.RoomRegistry;
import dev.flock.time.Clock;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The connections of one event loop and the loop's shared bookkeeping: one flush timer for batched writes
 * and one scanner per second for TTLs, join timeouts, stalled messages, slow consumers and HTTP request deadlines
 * (no timer per socket or per room).
 * Everything here runs on that loop.
 */
public final class ConnectionHub {

    private static final AtomicLong IDS = new AtomicLong();
    private static final long SCAN_INTERVAL_MS = 1000;

    final Vertx vertx;
    final Context context;
    final FlockConfig config;
    final ProtocolCodec codec;
    final ApiKeys apiKeys;
    final RoomRegistry registry;
    final FlockMetrics metrics;
    final Clock clock;
    /** Rate-limit closes and join refusals go to the audit trail. */
    final AuditLog audit;
    /** Cursor frames to one socket are flushed together at most this often (0: each at once). */
    final long flushIntervalNanos;
    private final EventLoop loop;
    private final Set<ClientConnection> connections = new LinkedHashSet<>();
    /** HTTP connections of this loop that have not become WebSockets. */
    private final Set<RequestDeadline> awaitingRequests = new LinkedHashSet<>();
    private final List<SocketWriter> dirty = new ArrayList<>();
    private boolean flushScheduled;
    /** Frames written since the last scan; published to the shared counter once a second, not per write. */
    long delivered;
    private long scanTimer = -1;

    public ConnectionHub(Vertx vertx, Context context, FlockConfig config, ProtocolCodec codec, ApiKeys apiKeys,
                         RoomRegistry registry, FlockMetrics metrics, Clock clock, AuditLog audit) {
        this.vertx = vertx;
        this.context = context;
        this.config = config;
        this.codec = codec;
        this.apiKeys = apiKeys;
        this.registry = registry;
        this.metrics = metrics;
        this.clock = clock;
        this.audit = audit;
        this.flushIntervalNanos = TimeUnit.MILLISECONDS.toNanos(config.flushIntervalMs());
        this.loop = VertxInternals.eventLoop(context);
    }

    public void start() {
        scanTimer = clock.setPeriodic(SCAN_INTERVAL_MS, id -> scan());
    }

    /** Gives an HTTP connection of this loop its request deadline. */
    void watchRequests(Channel channel) {
        RequestDeadline deadline = new RequestDeadline(clock::monotonicMillis, awaitingRequests::remove);
        awaitingRequests.add(deadline);
        VertxInternals.addBeforeVertx(channel, RequestDeadline.NAME, deadline);
        VertxInternals.boundInflation(channel, config.maxFrameBytes());
    }

    /** Takes over an accepted WebSocket. */
    public void accept(ServerWebSocket ws, UpgradeAuth.Admitted credentials, Admission.Ticket ticket) {
        VertxInternals.removeHandler(ws, RequestDeadline.NAME); // a WebSocket has no requests to wait for
        VertxInternals.releaseUpgradeLeftovers(ws);
        ClientConnection c = new ClientConnection(IDS.incrementAndGet(), ws, this, credentials, ticket);
        connections.add(c);
        metrics.connectionOpened();
    }

    void forget(ClientConnection c) {
        connections.remove(c);
    }

    /** Batches a flush of {@code c} into the next tick of the flush timer. */
    void flushLater(SocketWriter c) {
        if (c.dirty) {
            return;
        }
        c.dirty = true;
        dirty.add(c);
        if (!flushScheduled) {
            flushScheduled = true;
            loop.schedule(this::flushDirty, config.flushIntervalMs(), TimeUnit.MILLISECONDS);
        }
    }

    private void flushDirty() {
        flushScheduled = false;
        // a connection that stays slow re-marks itself, so iterate over a snapshot
        SocketWriter[] batch = dirty.toArray(new SocketWriter[0]);
        dirty.clear();
        for (SocketWriter c : batch) {
            c.dirty = false;
            c.flushNow();
        }
    }

    private void scan() {
        metrics.delivered(delivered);
        delivered = 0;
        long now = clock.monotonicMillis();
        for (ClientConnection c : List.copyOf(connections)) {
            c.scan(now);
        }
        for (RequestDeadline d : List.copyOf(awaitingRequests)) {
            d.check(now, config.httpRequestTimeoutMs());
        }
    }

    public int size() {
        return connections.size();
    }

    /**
     * Closes every socket with 4001 (server restarting), spread evenly over {@code spreadMs} of the clock so that the
     * clients, which reconnect at once, come back to the other instances spread out rather than all in one second.
     * This hub's sockets take the places {@code first}, {@code first + 1}, ... of {@code total} in the window.
     */
    public Future<Void> closeAll(String reason, long spreadMs, int first, int total, boolean graced) {
        List<ClientConnection> all = List.copyOf(connections);
        List<Future<Void>> closing = new ArrayList<>(all.size());
        for (int i = 0; i < all.size(); i++) {
            ClientConnection c = all.get(i);
            long at = spreadMs * Math.min(total - 1, first + i) / Math.max(1, total);
            if (at == 0) {
                closing.add(c.goAway(reason, graced));
            } else {
                io.vertx.core.Promise<Void> gone = io.vertx.core.Promise.promise();
                clock.setTimer(at, id -> c.goAway(reason, graced).onComplete(gone));
                closing.add(gone.future());
            }
        }
        // the scan goes on during the spread (expiries, stalled frames, request deadlines), and stops after it
        return Future.join(closing).onComplete(ar -> {
            if (scanTimer >= 0) {
                clock.cancelTimer(scanTimer);
            }
        }).mapEmpty();
    }
}
