package dev.flock.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.Map;
import java.util.TreeMap;

/**
 * The share of a capacity run's connections that lives on one event loop (see {@link CapacityRun}): opens them at
 * the configured rate, each bound to its source address, joins, heartbeats, and at the end probes every joined socket
 * with one more heartbeat and classifies each connection by what became of it. Everything runs on this verticle's
 * event loop; the main thread reads copies via {@link #snapshot}.
 */
final class CapacityWorker extends VerticleBase {
    private static final ObjectMapper ERROR_PARSER = new ObjectMapper();
    private static final int MAX_CONNECTS_IN_FLIGHT = 64;
    private static final int PROBES_PER_TICK = 50;
    static final String BROWSER_EXTENSIONS = "permessage-deflate; client_max_window_bits";

    enum State { PENDING, CONNECTING, OPEN, JOINED, FAILED, CLOSED }

    /** One simulated browser tab. */
    private static final class Conn {
        final int index;
        final int room;
        State state = State.PENDING;
        ClientWebSocket ws;
        long connectStartNanos;
        boolean joined;
        /** Failure kind (connect failures) or the close code seen (closes). */
        String outcome;
        int heartbeatsSent;
        int heartbeatsAcked;
        long heartbeatSentAt;

        Conn(int index, int room) {
            this.index = index;
            this.room = room;
        }
    }

    /** Counters of this worker; copies go to the main thread. */
    static final class Stats {
        long assigned;
        long opened;
        long established;
        long joinedEver;
        long connectFailed;
        long closed;
        long open;
        long joinedOpen;
        long heartbeatsSent;
        long heartbeatsAcked;
        long heartbeatsUnanswered;
        long settled;
        /** Live counts of clean refusals (503 on the upgrade, close 1013), for the refusal point. */
        long refused503;
        long closed1013;
        /** Final classification, one kind per connection (filled by {@link #classify}). */
        final Map<String, Long> outcomes = new TreeMap<>();
        final Map<String, Long> errors = new TreeMap<>();
        final org.HdrHistogram.Histogram heartbeatLatency = WorkerStats.newHistogram();

        Stats copy() {
            Stats c = new Stats();
            c.add(this);
            return c;
        }

        void add(Stats o) {
            assigned += o.assigned;
            opened += o.opened;
            established += o.established;
            joinedEver += o.joinedEver;
            connectFailed += o.connectFailed;
            closed += o.closed;
            open += o.open;
            joinedOpen += o.joinedOpen;
            heartbeatsSent += o.heartbeatsSent;
            heartbeatsAcked += o.heartbeatsAcked;
            heartbeatsUnanswered += o.heartbeatsUnanswered;
            settled += o.settled;
            refused503 += o.refused503;
            closed1013 += o.closed1013;
            o.outcomes.forEach((k, v) -> outcomes.merge(k, v, Long::sum));
            o.errors.forEach((k, v) -> errors.merge(k, v, Long::sum));
            heartbeatLatency.add(o.heartbeatLatency);
        }
    }

    private final CapacityConfig cfg;
    private final Conn[] conns;
    private final String[] heartbeatFrames;
    private final List<WebSocketClient> clients = new ArrayList<>();
    private final Stats stats = new Stats();
    private final long handshakeTimeoutNanos;
    private Pacer heartbeats;
    private boolean heartbeating = true;
    private int nextToOpen;
    private int inFlight;
    private double connectCredit;
    private long connectTimer = -1;
    private int nextToProbe = -1;
    private long ticks;

    CapacityWorker(CapacityConfig cfg, int workerIndex) {
        this.cfg = cfg;
        List<Conn> mine = new ArrayList<>();
        for (int i = workerIndex; i < cfg.conns(); i += cfg.loops()) {
            int global = cfg.firstConn() + i;
            mine.add(new Conn(global, cfg.roomOf(global)));
        }
        conns = mine.toArray(new Conn[0]);
        stats.assigned = conns.length;
        heartbeatFrames = new String[cfg.rooms()];
        for (int r = 0; r < cfg.rooms(); r++) {
            heartbeatFrames[r] = "{\"type\":\"heartbeat\",\"roomId\":\"" + cfg.roomId(r) + "\"}";
        }
        handshakeTimeoutNanos = (long) (cfg.handshakeTimeoutSeconds() * 1e9);
    }

    @Override
    public Future<?> start() {
        // one client per source address: the local address is a client option
        int addresses = Math.max(1, cfg.sourceAddresses());
        for (int a = 0; a < addresses; a++) {
            WebSocketClientOptions options = new WebSocketClientOptions()
                .setMaxConnections(Math.max(1, conns.length))
                .setConnectTimeout(10_000)
                .setTryUsePerMessageCompression(cfg.vertxDeflate());
            WebSocketClient client = vertx.createWebSocketClient(options);
            if (cfg.sourceAddresses() > 0) {
                // WebSocketClientOptions.setLocalAddress is lost in Vert.x 5.1.6: see SourceAddress
                SourceAddress.bind(client, "127.0.0." + (cfg.sourceBase() + a));
            }
            clients.add(client);
        }
        heartbeats = new Pacer(conns.length, cfg.heartbeatMillis() * 1_000_000L, System.nanoTime(), Long.MAX_VALUE,
            this::heartbeat);
        vertx.setPeriodic(10, id -> tick());
        connectTimer = vertx.setPeriodic(10, id -> openSome());
        return Future.succeededFuture();
    }

    Future<Stats> snapshot() {
        Promise<Stats> p = Promise.promise();
        context.runOnContext(v -> {
            long open = 0;
            long joinedOpen = 0;
            long settled = 0;
            for (Conn c : conns) {
                switch (c.state) {
                    case OPEN -> open++;
                    case JOINED -> {
                        open++;
                        joinedOpen++;
                        settled++;
                    }
                    case FAILED, CLOSED -> settled++;
                    default -> { }
                }
            }
            stats.open = open;
            stats.joinedOpen = joinedOpen;
            stats.settled = settled;
            p.complete(stats.copy());
        });
        return p.future();
    }

    /** Stops the periodic heartbeats and sends every joined, open socket one more (the probe), paced. */
    void startProbe() {
        context.runOnContext(v -> {
            heartbeating = false;
            nextToProbe = 0;
        });
    }

    /** True once every probed socket answered its probe or closed (call through {@link #probeDone}). */
    Future<Boolean> probeDone() {
        Promise<Boolean> p = Promise.promise();
        context.runOnContext(v -> {
            if (nextToProbe < conns.length) {
                p.complete(false);
                return;
            }
            for (Conn c : conns) {
                if (c.state == State.JOINED && c.heartbeatsAcked < c.heartbeatsSent) {
                    p.complete(false);
                    return;
                }
            }
            p.complete(true);
        });
        return p.future();
    }

    /** The final outcome of every connection, one kind each; the probe must have been sent. */
    Future<Stats> classify() {
        Promise<Stats> p = Promise.promise();
        context.runOnContext(v -> {
            stats.outcomes.clear();
            for (Conn c : conns) {
                stats.outcomes.merge(outcome(c), 1L, Long::sum);
            }
            p.complete(stats.copy());
        });
        return snapshotAfter(p.future());
    }

    private Future<Stats> snapshotAfter(Future<Stats> f) {
        return f.compose(s -> snapshot().map(snap -> {
            snap.outcomes.clear();
            snap.outcomes.putAll(s.outcomes);
            return snap;
        }));
    }

    private static String outcome(Conn c) {
        return switch (c.state) {
            case PENDING -> "neverAttempted";
            case CONNECTING -> "handshakePending";
            case FAILED -> c.outcome;
            case CLOSED -> c.outcome.equals("1013") ? (c.joined ? "closed1013AfterJoin" : "closed1013BeforeJoin")
                : "closed" + c.outcome + (c.joined ? "AfterJoin" : "BeforeJoin");
            case OPEN -> "openNoJoinAck";
            case JOINED -> c.heartbeatsSent > 0 && c.heartbeatsAcked >= c.heartbeatsSent ? "alive" : "joinedProbeUnanswered";
        };
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
        WebSocketClient client = clients.get(cfg.sourceAddresses() == 0 ? 0 : c.index % cfg.sourceAddresses());
        ClientWebSocket ws = client.webSocket();
        ws.handler(frame -> onFrame(c, frame));
        ws.exceptionHandler(err -> { });
        ws.closeHandler(v -> onClose(c, ws));
        c.state = State.CONNECTING;
        c.connectStartNanos = System.nanoTime();
        inFlight++;
        stats.opened++;
        WebSocketConnectOptions target = new WebSocketConnectOptions()
            .setHost(LoopbackUrls.host(url))
            .setPort(LoopbackUrls.port(url))
            .setURI(cfg.pathOf(c.index));
        if (cfg.compression() && !cfg.vertxDeflate()) {
            // a browser's offer, exactly; the servers under test decline it (with --vertx-deflate Vert.x offers its own,
            // "permessage-deflate" alone, and can speak it if a server accepts)
            target.putHeader("Sec-WebSocket-Extensions", BROWSER_EXTENSIONS);
        }
        ws.connect(target).onComplete(ar -> {
            if (c.state != State.CONNECTING) {
                // the generator gave up on this handshake already: drop a late success
                if (ar.succeeded()) {
                    ws.close();
                }
                return;
            }
            inFlight--;
            if (ar.succeeded()) {
                c.ws = ws;
                c.state = State.OPEN;
                stats.established++;
                String user = "u" + c.index;
                ws.writeTextMessage("{\"type\":\"join\",\"roomId\":\"" + cfg.roomId(c.room) + "\",\"userId\":\"" + user
                    + "\",\"metadata\":{\"name\":\"" + user + "\",\"color\":\"#4f46e5\"}}");
            } else {
                fail(c, connectFailure(ar.cause()));
            }
        });
    }

    private void fail(Conn c, String kind) {
        c.state = State.FAILED;
        c.outcome = kind;
        stats.connectFailed++;
        if (kind.equals("refused503")) {
            stats.refused503++;
        }
    }

    /** "refused503" for a clean refusal; otherwise the kind, with addresses and ports taken out so kinds stay few. */
    static String connectFailure(Throwable cause) {
        if (cause instanceof UpgradeRejectedException r) {
            return r.getStatus() == 503 ? "refused503" : "upgradeRejected" + r.getStatus();
        }
        String msg = cause.getMessage() == null ? "" : cause.getMessage()
            .replaceAll("/?\\d+\\.\\d+\\.\\d+\\.\\d+(:\\d+)?", "<addr>").replaceAll("\\d+", "N");
        int sentence = msg.indexOf(". ");
        if (sentence > 0) {
            msg = msg.substring(0, sentence); // drops what follows, e.g. the values of a bad handshake
        }
        String why = "connect:" + cause.getClass().getSimpleName() + (msg.isEmpty() ? "" : ": " + msg);
        return why.length() > 100 ? why.substring(0, 100) : why;
    }

    private void onFrame(Conn c, Buffer frame) {
        switch (FrameScan.kind(frame)) {
            case FrameScan.HEARTBEAT_ACK -> {
                c.heartbeatsAcked++;
                stats.heartbeatsAcked++;
                if (c.heartbeatSentAt != 0) {
                    long micros = (System.nanoTime() - c.heartbeatSentAt) / 1000;
                    stats.heartbeatLatency.recordValue(Math.min(micros, 60_000_000L));
                    c.heartbeatSentAt = 0;
                }
            }
            case FrameScan.JOIN_ACK -> {
                if (!c.joined && c.state == State.OPEN) {
                    c.joined = true;
                    c.state = State.JOINED;
                    stats.joinedEver++;
                }
            }
            case FrameScan.ERROR -> stats.errors.merge(errorCode(frame), 1L, Long::sum);
            default -> { }
        }
    }

    private void onClose(Conn c, ClientWebSocket ws) {
        if (c.state == State.OPEN || c.state == State.JOINED) {
            Short code = ws.closeStatusCode();
            c.state = State.CLOSED;
            c.outcome = code == null ? "NoCode" : String.valueOf(code);
            stats.closed++;
            if (code != null && code == 1013) {
                stats.closed1013++;
            }
        }
    }

    private void tick() {
        long now = System.nanoTime();
        if (heartbeating) {
            heartbeats.tick(now);
        }
        if (nextToProbe >= 0) {
            for (int sent = 0; sent < PROBES_PER_TICK && nextToProbe < conns.length; nextToProbe++) {
                Conn c = conns[nextToProbe];
                if (c.state == State.JOINED) {
                    sendHeartbeat(c);
                    sent++;
                }
            }
        }
        // the generator's own handshake timeout: a server that accepted TCP but never answers the upgrade
        if (inFlight > 0 && ++ticks % 100 == 0) { // once a second
            for (int i = 0; i < nextToOpen; i++) {
                Conn c = conns[i];
                if (c.state == State.CONNECTING && now - c.connectStartNanos > handshakeTimeoutNanos) {
                    inFlight--;
                    fail(c, "handshakeTimeout");
                }
            }
        }
    }

    private void heartbeat(int k) {
        Conn c = conns[k];
        if (c.state == State.JOINED) {
            if (c.heartbeatSentAt != 0) {
                stats.heartbeatsUnanswered++; // the previous one never got its ack
            }
            sendHeartbeat(c);
        }
    }

    private void sendHeartbeat(Conn c) {
        c.heartbeatSentAt = System.nanoTime();
        c.heartbeatsSent++;
        stats.heartbeatsSent++;
        c.ws.writeTextMessage(heartbeatFrames[c.room]);
    }

    static String errorCode(Buffer frame) {
        try {
            return ERROR_PARSER.readTree(frame.getBytes()).path("code").asText("?");
        } catch (java.io.IOException e) {
            return "unparseable";
        }
    }
}
