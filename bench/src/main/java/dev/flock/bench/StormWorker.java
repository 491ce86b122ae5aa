package dev.flock.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The clients of a storm ({@link StormRun}) that live on one event loop: clients w, w + loops, ... Each round gets
 * fresh clients, opened at their scheduled instants (round start + i / rate), each sending its join as soon as the
 * upgrade completes. Everything here runs on this verticle's event loop; the main thread reads {@link #settled()}
 * (an atomic) while it polls and copies of the counters via {@link #snapshot}.
 */
final class StormWorker extends VerticleBase {
    /** Opens per 1 ms tick at most, so a storm "all at once" still lets this loop read the answers between opens. */
    private static final int MAX_OPENS_PER_TICK = 256;

    private enum State { PENDING, CONNECTING, OPEN, JOINED, REFUSED, FAILED }

    /** One client of one round. */
    private static final class Conn {
        final int index;
        final long dueNanos;
        State state = State.PENDING;
        ClientWebSocket ws;
        boolean socketOpen;
        boolean closingByUs;

        Conn(int index, long dueNanos) {
            this.index = index;
            this.dueNanos = dueNanos;
        }
    }

    private final StormConfig cfg;
    private final int workerIndex;
    private final List<WebSocketClient> clients = new ArrayList<>();
    private final AtomicInteger settled = new AtomicInteger();
    private Conn[] conns = new Conn[0];
    private StormStats stats = new StormStats();
    private int nextToOpen;
    private long openTimer = -1;
    private Promise<Void> closed;

    StormWorker(StormConfig cfg, int workerIndex) {
        this.cfg = cfg;
        this.workerIndex = workerIndex;
    }

    @Override
    public Future<?> start() {
        int addresses = Math.max(1, cfg.sourceAddresses());
        int share = (cfg.conns() + cfg.loops() - 1) / cfg.loops();
        for (int a = 0; a < addresses; a++) {
            WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
                .setMaxConnections(Math.max(1, share))
                .setConnectTimeout(10_000)
                .setTryUsePerMessageCompression(false)); // offered below, as a browser does
            if (cfg.sourceAddresses() > 0) {
                // WebSocketClientOptions.setLocalAddress is lost in Vert.x 5.1.6: see SourceAddress
                SourceAddress.bind(client, "127.0.0." + (cfg.sourceBase() + a));
            }
            clients.add(client);
        }
        return Future.succeededFuture();
    }

    /** Clients of this worker that joined, were refused or failed in the current round. */
    int settled() {
        return settled.get();
    }

    int assigned() {
        return conns.length;
    }

    /** Fresh clients for a new round, scheduled from {@code startNanos}; the previous round's must be closed. */
    Future<Void> startRound(long startNanos) {
        Promise<Void> p = Promise.promise();
        context.runOnContext(v -> {
            List<Conn> mine = new ArrayList<>();
            for (int i = workerIndex; i < cfg.conns(); i += cfg.loops()) {
                mine.add(new Conn(i, startNanos + cfg.scheduleOffsetNanos(i)));
            }
            conns = mine.toArray(new Conn[0]);
            stats = new StormStats();
            stats.assigned = conns.length;
            settled.set(0);
            nextToOpen = 0;
            closed = null;
            openTimer = vertx.setPeriodic(1, id -> openDue());
            p.complete();
        });
        return p.future();
    }

    Future<StormStats> snapshot() {
        Promise<StormStats> p = Promise.promise();
        context.runOnContext(v -> p.complete(stats.copy()));
        return p.future();
    }

    /** The join deadline passed: whoever has not settled failed (never opened or no upgrade yet, or no ack yet). */
    Future<Void> expire() {
        Promise<Void> p = Promise.promise();
        context.runOnContext(v -> {
            stopOpening();
            for (Conn c : conns) {
                switch (c.state) {
                    case PENDING, CONNECTING -> fail(c, "connectTimeout");
                    case OPEN -> fail(c, "joinTimeout");
                    default -> { }
                }
            }
            p.complete();
        });
        return p.future();
    }

    /** Closes every socket of the round cleanly (1000); completes when the generator saw each of them close. */
    Future<Void> closeAll() {
        Promise<Void> p = Promise.promise();
        context.runOnContext(v -> {
            stopOpening();
            closed = p;
            for (Conn c : conns) {
                if (c.socketOpen && !c.closingByUs) {
                    c.closingByUs = true;
                    stats.closesSent++;
                    c.ws.close((short) 1000);
                }
            }
            completeCloseIfDone();
        });
        return p.future();
    }

    private void openDue() {
        long now = System.nanoTime();
        int opened = 0;
        while (nextToOpen < conns.length && conns[nextToOpen].dueNanos <= now && opened < MAX_OPENS_PER_TICK) {
            Conn c = conns[nextToOpen++];
            if (c.state == State.PENDING) {
                stats.maxOpenLagNanos = Math.max(stats.maxOpenLagNanos, now - c.dueNanos);
                open(c);
                opened++;
            }
        }
        if (nextToOpen == conns.length) {
            stopOpening();
        }
    }

    private void stopOpening() {
        if (openTimer >= 0) {
            vertx.cancelTimer(openTimer);
            openTimer = -1;
        }
    }

    private void open(Conn c) {
        URI url = cfg.urlOf(c.index);
        ClientWebSocket ws = clients.get(cfg.sourceOf(c.index) % clients.size()).webSocket();
        c.ws = ws;
        c.state = State.CONNECTING;
        ws.handler(frame -> onFrame(c, frame));
        ws.exceptionHandler(err -> { });
        ws.closeHandler(v -> onClose(c));
        WebSocketConnectOptions target = new WebSocketConnectOptions()
            .setHost(LoopbackUrls.host(url))
            .setPort(LoopbackUrls.port(url))
            .setURI(LoopbackUrls.path(url));
        if (cfg.compression()) {
            target.putHeader("Sec-WebSocket-Extensions", CapacityWorker.BROWSER_EXTENSIONS);
        }
        ws.connect(target).onComplete(ar -> {
            if (ar.succeeded()) {
                c.socketOpen = true;
            }
            if (c.state != State.CONNECTING) {
                // given up on at the deadline: a late upgrade is closed, not counted
                if (ar.succeeded()) {
                    c.closingByUs = true;
                    ws.close((short) 1000);
                }
                return;
            }
            if (ar.succeeded()) {
                c.state = State.OPEN;
                stats.established++;
                stats.connect.recordValue(micros(System.nanoTime() - c.dueNanos));
                String user = "u" + c.index;
                ws.writeTextMessage("{\"type\":\"join\",\"roomId\":\"" + cfg.roomId(cfg.roomOf(c.index))
                    + "\",\"userId\":\"" + user + "\",\"metadata\":{\"name\":\"" + user + "\",\"color\":\"#4f46e5\"}}");
            } else if (ar.cause() instanceof UpgradeRejectedException r) {
                refuse(c, "http" + r.getStatus());
            } else {
                fail(c, CapacityWorker.connectFailure(ar.cause()));
            }
        });
    }

    private void onFrame(Conn c, Buffer frame) {
        switch (FrameScan.kind(frame)) {
            case FrameScan.JOIN_ACK -> {
                if (c.state == State.OPEN) {
                    long now = System.nanoTime();
                    c.state = State.JOINED;
                    stats.joined++;
                    stats.joinAck.recordValue(micros(now - c.dueNanos));
                    stats.lastAckNanos = Math.max(stats.lastAckNanos, now);
                    settled.incrementAndGet();
                }
            }
            case FrameScan.ERROR -> {
                if (c.state == State.OPEN) {
                    refuse(c, "error:" + CapacityWorker.errorCode(frame));
                }
            }
            default -> { }
        }
    }

    private void onClose(Conn c) {
        c.socketOpen = false;
        if (c.closingByUs) {
            stats.closesDone++;
            completeCloseIfDone();
            return;
        }
        Short code = c.ws.closeStatusCode();
        boolean reset = code == null || code == 1006;
        switch (c.state) {
            case OPEN -> {
                if (reset) {
                    fail(c, "reset");
                } else {
                    refuse(c, "close" + code);
                }
            }
            case JOINED -> stats.droppedAfterJoin.merge(reset ? "reset" : "close" + code, 1L, Long::sum);
            default -> { }
        }
    }

    private void completeCloseIfDone() {
        if (closed != null && stats.closesDone >= stats.closesSent) {
            closed.tryComplete();
        }
    }

    private void refuse(Conn c, String kind) {
        c.state = State.REFUSED;
        stats.refused.merge(kind, 1L, Long::sum);
        settled.incrementAndGet();
    }

    private void fail(Conn c, String kind) {
        c.state = State.FAILED;
        stats.failed.merge(kind, 1L, Long::sum);
        settled.incrementAndGet();
    }

    private static long micros(long nanos) {
        return Math.min(Math.max(0, nanos / 1000), 60_000_000L);
    }
}
