package dev.flock.support;

import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Behaves like the published SDK where it matters for reconnect loops: reconnects after every close (backoff
 * reset after each successful open), re-joins every room it holds, and heartbeats each room.
 */
public final class SdkLikeClient implements AutoCloseable {

    private volatile long reconnectDelayMs = 100;
    private static final long HEARTBEAT_MS = 1000;

    private final Vertx vertx;
    private final WebSocketClient client;
    private final int port;
    private final String uri;
    private final Map<String, JsonObject> rooms = new LinkedHashMap<>();
    private final AtomicInteger opens = new AtomicInteger();
    private final AtomicInteger closes = new AtomicInteger();
    private volatile WebSocket ws;
    private volatile boolean stopped;
    private long heartbeatTimer = -1;

    public SdkLikeClient(Vertx vertx, int port) {
        this(vertx, port, "/");
    }

    /** With a {@code serverUrl} of the app's own: a path and query, such as {@code /?token=...}. */
    public SdkLikeClient(Vertx vertx, int port, String uri) {
        this.vertx = vertx;
        this.port = port;
        this.uri = uri;
        this.client = vertx.createWebSocketClient();
    }

    /** Adds a room (joined now when connected, and again after every reconnect). */
    public synchronized SdkLikeClient room(String roomId, String userId, JsonObject metadata) {
        JsonObject join = new JsonObject().put("type", "join").put("roomId", roomId).put("userId", userId).put("metadata", metadata);
        rooms.put(roomId, join);
        WebSocket current = ws;
        if (current != null) {
            current.writeTextMessage(join.encode());
        }
        return this;
    }

    /** The delay before each reconnect (the SDK's backoff starts at 1 s). */
    public SdkLikeClient reconnectDelayMs(long ms) {
        this.reconnectDelayMs = ms;
        return this;
    }

    public SdkLikeClient connect() {
        client.connect(port, "127.0.0.1", uri).onSuccess(this::opened).onFailure(e -> reconnectLater());
        return this;
    }

    private synchronized void opened(WebSocket socket) {
        if (stopped) {
            socket.close();
            return;
        }
        ws = socket;
        opens.incrementAndGet();
        socket.closeHandler(v -> {
            closes.incrementAndGet();
            ws = null;
            reconnectLater();
        });
        socket.textMessageHandler(text -> { });
        rooms.values().forEach(join -> socket.writeTextMessage(join.encode()));
        if (heartbeatTimer < 0) {
            heartbeatTimer = vertx.setPeriodic(HEARTBEAT_MS, id -> heartbeat());
        }
    }

    private synchronized void heartbeat() {
        WebSocket current = ws;
        if (current != null) {
            rooms.keySet().forEach(r -> current.writeTextMessage(new JsonObject().put("type", "heartbeat").put("roomId", r).encode()));
        }
    }

    private void reconnectLater() {
        if (!stopped) {
            vertx.setTimer(reconnectDelayMs, id -> connect());
        }
    }

    public int opens() {
        return opens.get();
    }

    public int closes() {
        return closes.get();
    }

    public boolean connected() {
        return ws != null;
    }

    @Override
    public synchronized void close() {
        stopped = true;
        if (heartbeatTimer >= 0) {
            vertx.cancelTimer(heartbeatTimer);
        }
        WebSocket current = ws;
        if (current != null) {
            WsClient.await(current.close());
        }
        client.close();
    }
}
