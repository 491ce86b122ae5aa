package dev.flock.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * The share of the generator's connections that lives on one event loop: connects them at the configured
 * rate, joins, heartbeats, sends paced cursor moves and records what arrives. Everything here runs on this
 * verticle's event loop, so no field needs synchronisation; the main thread reads copies via {@link #snapshot}.
 */
final class ClientWorker extends VerticleBase {
    private static final ObjectMapper ERROR_PARSER = new ObjectMapper();
    private static final int MAX_CONNECTS_IN_FLIGHT = 128;
    private static final long DEAD_AFTER_NANOS = 20_000_000_000L; // the SDK gives up after 20 s without an ack
    private static final String CURSOR_SUFFIX = ",\"y\":0.5}}";

    /** One simulated browser tab. */
    private static final class Conn {
        final int index;
        final int room;
        ClientWebSocket ws;
        boolean joined;
        boolean closed;
        boolean settled;
        long heartbeatSentAt;

        Conn(int index, int room) {
            this.index = index;
            this.room = room;
        }
    }

    private final BenchConfig cfg;
    private final int workerIndex;
    private final long clockBase;
    private final Conn[] conns;
    private final Conn[] movers;
    private final String[] heartbeatFrames;
    private final String[] cursorPrefixes;
    private final WorkerStats stats = new WorkerStats();
    private final Promise<Void> settled = Promise.promise();
    private final List<WebSocketClient> clients = new ArrayList<>();
    private Pacer heartbeats;
    private Pacer moves;
    private long windowStartMicros = Long.MAX_VALUE;
    private long windowEndMicros = Long.MAX_VALUE;
    private long windowEndNanos = Long.MAX_VALUE;
    private int settledCount;
    private int nextToOpen;
    private int inFlight;
    private double connectCredit;
    private long connectTimer = -1;

    ClientWorker(BenchConfig cfg, int workerIndex, long clockBase) {
        this.cfg = cfg;
        this.workerIndex = workerIndex;
        this.clockBase = clockBase;
        List<Conn> mine = new ArrayList<>();
        List<Conn> moving = new ArrayList<>();
        for (int i = workerIndex; i < cfg.totalConnections(); i += cfg.loops()) {
            Conn c = new Conn(i, cfg.roomOf(i));
            mine.add(c);
            if (cfg.isMover(i)) {
                moving.add(c);
            }
        }
        conns = mine.toArray(new Conn[0]);
        movers = moving.toArray(new Conn[0]);
        stats.assigned = conns.length;
        // Frames that only depend on the room are encoded once.
        heartbeatFrames = new String[cfg.rooms()];
        cursorPrefixes = new String[cfg.rooms()];
        for (int r = 0; r < cfg.rooms(); r++) {
            heartbeatFrames[r] = "{\"type\":\"heartbeat\",\"roomId\":\"" + cfg.roomId(r) + "\"}";
            cursorPrefixes[r] = "{\"type\":\"cursor:move\",\"roomId\":\"" + cfg.roomId(r) + "\",\"position\":{\"x\":0.";
        }
    }

    @Override
    public Future<?> start() {
        int addresses = Math.max(1, cfg.sourceAddresses());
        for (int a = 0; a < addresses; a++) {
            WebSocketClientOptions options = new WebSocketClientOptions()
                .setMaxConnections(Math.max(1, conns.length))
                .setConnectTimeout(10_000)
                .setTryUsePerMessageCompression(cfg.compression()); // a browser always offers permessage-deflate
            WebSocketClient client = vertx.createWebSocketClient(options);
            if (cfg.sourceAddresses() > 0) {
                // options.setLocalAddress is lost in Vert.x 5.1.6 (every socket left from 127.0.0.1): see SourceAddress
                SourceAddress.bind(client, "127.0.0." + (1 + a));
            }
            clients.add(client);
        }
        long now = System.nanoTime();
        heartbeats = new Pacer(conns.length, cfg.heartbeatMillis() * 1_000_000L, now, Long.MAX_VALUE, this::heartbeat);
        long tickMs = cfg.fanout() ? 1 : 10;
        vertx.setPeriodic(tickMs, id -> tick());
        connectTimer = vertx.setPeriodic(10, id -> openSome());
        if (conns.length == 0) {
            settled.complete();
        }
        return Future.succeededFuture();
    }

    /** Completes once every connection of this worker has joined, failed or closed. */
    Future<Void> settled() {
        return settled.future();
    }

    /** Starts the paced cursor moves: a move's send time decides whether it counts (window start ≤ t < end). */
    void startMoves(long startNanos, long windowStartNanos, long endNanos) {
        context.runOnContext(v -> {
            windowStartMicros = micros(windowStartNanos);
            windowEndMicros = micros(endNanos);
            windowEndNanos = endNanos;
            long period = (long) (1e9 / cfg.hz());
            // Interleave the workers' phases so the union of all movers is evenly spread too.
            long offset = movers.length == 0 ? 0 : workerIndex * period / ((long) movers.length * cfg.loops());
            moves = new Pacer(movers.length, period, startNanos + offset, endNanos, this::move);
        });
    }

    Future<WorkerStats> snapshot() {
        Promise<WorkerStats> p = Promise.promise();
        context.runOnContext(v -> {
            long now = System.nanoTime();
            long alive = 0;
            for (Conn c : conns) {
                if (c.joined && !c.closed && (c.heartbeatSentAt == 0 || now - c.heartbeatSentAt < DEAD_AFTER_NANOS)) {
                    alive++;
                }
            }
            stats.alive = alive;
            if (moves != null) {
                stats.maxSendLagNanos = moves.maxLagNanos();
                stats.skippedSends = moves.skipped();
            }
            p.complete(stats.copy());
        });
        return p.future();
    }

    private void openSome() {
        connectCredit = Math.min(connectCredit + cfg.connectRate() / cfg.loops() / 100.0, MAX_CONNECTS_IN_FLIGHT);
        while (connectCredit >= 1 && inFlight < MAX_CONNECTS_IN_FLIGHT && nextToOpen < conns.length) {
            connectCredit--;
            open(conns[nextToOpen++]);
        }
        if (nextToOpen == conns.length && connectTimer >= 0) {
            vertx.cancelTimer(connectTimer);
            connectTimer = -1;
        }
    }

    private void open(Conn c) {
        URI url = cfg.urlOf(c.index);
        WebSocketClient client = clients.get(c.index % clients.size());
        ClientWebSocket ws = client.webSocket();
        ws.handler(frame -> onFrame(c, frame));
        ws.exceptionHandler(err -> { });
        ws.closeHandler(v -> onClose(c));
        inFlight++;
        WebSocketConnectOptions target = new WebSocketConnectOptions()
            .setHost(LoopbackUrls.host(url))
            .setPort(LoopbackUrls.port(url))
            .setURI(LoopbackUrls.path(url));
        ws.connect(target).onComplete(ar -> {
            inFlight--;
            if (ar.succeeded()) {
                c.ws = ws;
                stats.established++;
                String user = "u" + c.index;
                ws.writeTextMessage("{\"type\":\"join\",\"roomId\":\"" + cfg.roomId(c.room) + "\",\"userId\":\"" + user
                    + "\",\"metadata\":{\"name\":\"" + user + "\",\"color\":\"#4f46e5\"}}");
            } else {
                c.closed = true;
                settle(c);
                stats.connectFailed++;
                String why = ar.cause().getClass().getSimpleName() + ": " + ar.cause().getMessage();
                stats.connectErrors.merge(why.length() > 120 ? why.substring(0, 120) : why, 1L, Long::sum);
            }
        });
    }

    private void onFrame(Conn c, Buffer frame) {
        switch (FrameScan.kind(frame)) {
            case FrameScan.CURSOR_UPDATED -> {
                long nowMicros = micros(System.nanoTime());
                stats.deliveries++;
                long sent = FrameScan.sentMicros(frame);
                if (sent < 0) {
                    stats.unstamped++;
                } else if (sent >= windowStartMicros && sent < windowEndMicros) {
                    stats.windowDeliveries++;
                    stats.latency.recordValue(Math.min(Math.max(0, nowMicros - sent), 60_000_000L));
                }
            }
            case FrameScan.HEARTBEAT_ACK -> {
                if (c.heartbeatSentAt != 0) {
                    long micros = (System.nanoTime() - c.heartbeatSentAt) / 1000;
                    stats.heartbeatLatency.recordValue(Math.min(micros, 60_000_000L));
                    stats.heartbeatsAcked++;
                    c.heartbeatSentAt = 0;
                }
            }
            case FrameScan.JOIN_ACK -> {
                if (!c.joined) {
                    c.joined = true;
                    stats.joined++;
                    settle(c);
                }
            }
            case FrameScan.ERROR -> stats.errors.merge(errorCode(frame), 1L, Long::sum);
            default -> { }
        }
    }

    private void onClose(Conn c) {
        if (!c.closed) {
            c.closed = true;
            stats.closed++;
            settle(c);
        }
    }

    private void tick() {
        long now = System.nanoTime();
        heartbeats.tick(now);
        if (moves != null) {
            moves.tick(now);
        }
    }

    private void heartbeat(int k) {
        Conn c = conns[k];
        if (!c.joined || c.closed) {
            return;
        }
        if (c.heartbeatSentAt != 0) {
            stats.heartbeatsUnanswered++; // the previous one never got its ack
        }
        c.heartbeatSentAt = System.nanoTime();
        c.ws.writeTextMessage(heartbeatFrames[c.room]);
        stats.heartbeatsSent++;
    }

    private void move(int k) {
        Conn c = movers[k];
        if (!c.joined || c.closed) {
            return;
        }
        long now = System.nanoTime();
        long sent = micros(now);
        // position.x = 0.<1,000,000,000 + µs>: always in [0.1, 1) for runs under 2.5 h, and receivers
        // read the send time back with a byte scan (FrameScan.sentMicros).
        c.ws.writeTextMessage(cursorPrefixes[c.room] + (FrameScan.STAMP_OFFSET + sent) + CURSOR_SUFFIX);
        stats.sends++;
        if (sent >= windowStartMicros && now < windowEndNanos) {
            stats.windowSends++;
        }
    }

    /** A connection is settled once it has joined, failed to connect or closed, whichever comes first. */
    private void settle(Conn c) {
        if (!c.settled) {
            c.settled = true;
            if (++settledCount == conns.length) {
                settled.tryComplete();
            }
        }
    }

    private long micros(long nanos) {
        return (nanos - clockBase) / 1000;
    }

    private static String errorCode(Buffer frame) {
        try {
            return ERROR_PARSER.readTree(frame.getBytes()).path("code").asText("?");
        } catch (java.io.IOException e) {
            return "unparseable";
        }
    }
}
