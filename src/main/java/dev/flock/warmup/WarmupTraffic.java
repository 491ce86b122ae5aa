package dev.flock.warmup;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;

/**
 * The synthetic clients of the start-up warm-up: {@code total} connection lifecycles against a Flock server on a
 * loopback port, at most {@code concurrency} at a time, each as a browser tab lives it: upgrade (offering
 * permessage-deflate, as browsers do), join a room of ten, wait for the {@code join:ack}, move the cursor, heartbeat,
 * update its metadata, leave, close cleanly. Consecutive clients share a room, so joins and leaves fan out and room
 * verticles start and retire as in a real storm.
 *
 * <p>Everything runs on one event loop of the given Vert.x (counters need no locking); it never blocks, and
 * {@link #cancel()} ends it early (the private server going away, or the time limit): what is left counts as not done.
 */
final class WarmupTraffic {

    /** Users per room: the SDK's common case, and a fan-out of nine on every join and leave. */
    static final int USERS_PER_ROOM = 10;

    private final Vertx vertx;
    private final int port;
    private final int total;
    private final int concurrency;
    private final Promise<StartupWarmup.Result> outcome = Promise.promise();
    private WebSocketClient client;
    private volatile Context context;
    /** Set by {@link #cancel()} from any thread; read on the loop before every open. */
    private volatile boolean cancelRequested;
    private int started;
    private int completed;
    private int failed;
    private int inFlight;

    WarmupTraffic(Vertx vertx, int port, int total, int concurrency) {
        this.vertx = vertx;
        this.port = port;
        this.total = total;
        this.concurrency = concurrency;
    }

    /** Starts the lifecycles; the future completes once every one ended or {@link #cancel()} was called. */
    Future<StartupWarmup.Result> run() {
        context = vertx.getOrCreateContext();
        context.runOnContext(v -> {
            client = vertx.createWebSocketClient(new WebSocketClientOptions().setTryUsePerMessageCompression(true)
                    .setConnectTimeout(5_000).setIdleTimeout(10));
            fill();
        });
        return outcome.future();
    }

    /** Stops opening clients and ends the run now (from any thread). */
    void cancel() {
        cancelRequested = true; // before reading the context: a run that has none yet sees the flag in its first fill
        Context c = context;
        if (c == null) {
            return;
        }
        try {
            c.runOnContext(v -> finish(true));
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            // the private Vert.x is closing already: the run has ended
        }
    }

    private void fill() {
        if (cancelRequested) {
            finish(true);
            return;
        }
        while (inFlight < concurrency && started < total) {
            open(started++);
        }
        if (inFlight == 0 && started == total) {
            finish(false);
        }
    }

    private void open(int i) {
        inFlight++;
        WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/");
        client.connect(options).onComplete(ar -> {
            if (ar.failed()) {
                ended(false);
            } else {
                live(ar.result(), i);
            }
        });
    }

    private void live(WebSocket ws, int i) {
        String room = "warm-up-" + (i / USERS_PER_ROOM);
        boolean[] acked = {false};
        ws.exceptionHandler(err -> { }); // the close handler follows and counts it
        ws.closeHandler(v -> ended(acked[0]));
        ws.textMessageHandler(text -> {
            if (acked[0] || !text.contains("\"join:ack\"")) {
                return; // the other members' events: read and dropped, as a tab would render them
            }
            acked[0] = true;
            double x = (i % 97) / 97.0;
            ws.writeTextMessage(move(room, x, 0.25));
            ws.writeTextMessage("{\"type\":\"heartbeat\",\"roomId\":\"" + room + "\"}");
            ws.writeTextMessage("{\"type\":\"presence:update\",\"roomId\":\"" + room + "\",\"metadata\":{\"idle\":false}}");
            ws.writeTextMessage(move(room, 1 - x, 0.75));
            ws.writeTextMessage("{\"type\":\"leave\",\"roomId\":\"" + room + "\"}");
            ws.close((short) 1000);
        });
        ws.writeTextMessage("{\"type\":\"join\",\"roomId\":\"" + room + "\",\"userId\":\"w" + i
                + "\",\"metadata\":{\"name\":\"warm-up " + i + "\",\"color\":\"#888888\"}}");
    }

    private static String move(String room, double x, double y) {
        return "{\"type\":\"cursor:move\",\"roomId\":\"" + room + "\",\"position\":{\"x\":" + x + ",\"y\":" + y + "}}";
    }

    private void ended(boolean ok) {
        inFlight--;
        if (ok) {
            completed++;
        } else {
            failed++;
        }
        fill();
    }

    private void finish(boolean cancel) {
        if (outcome.future().isComplete()) {
            return;
        }
        outcome.complete(new StartupWarmup.Result(completed, failed, cancel));
        if (client != null) {
            client.close();
        }
    }
}
