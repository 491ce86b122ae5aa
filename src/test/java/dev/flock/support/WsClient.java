package dev.flock.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A blocking test client over a real WebSocket: records every message it receives, in order, and lets the
 * test wait (bounded) until one matches. Never sleeps to synchronise: waits on arrivals.
 */
public final class WsClient implements AutoCloseable {

    public static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final WebSocketClient client;
    private final WebSocket ws;
    private final List<JsonObject> messages = new ArrayList<>();
    private Integer closeCode;
    private String closeReason;

    private WsClient(WebSocketClient client, WebSocket ws) {
        this.client = client;
        this.ws = ws;
        ws.textMessageHandler(text -> {
            synchronized (this) {
                messages.add(new JsonObject(text));
                notifyAll();
            }
        });
        ws.closeHandler(v -> {
            synchronized (this) {
                closeCode = ws.closeStatusCode() == null ? -1 : (int) ws.closeStatusCode();
                closeReason = ws.closeReason();
                notifyAll();
            }
        });
    }

    public static WsClient connect(Vertx vertx, int port) {
        return connect(vertx, port, "/");
    }

    public static WsClient connect(Vertx vertx, int port, String uri) {
        return connect(vertx, new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(uri));
    }

    public static WsClient connect(Vertx vertx, WebSocketConnectOptions options) {
        WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
                .setMaxFrameSize(1 << 20).setMaxMessageSize(1 << 20));
        try {
            WebSocket ws = await(client.connect(options));
            return new WsClient(client, ws);
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /** Attempts an upgrade and returns the failure (e.g. a 401), or null when it succeeded. */
    public static Throwable connectFailure(Vertx vertx, WebSocketConnectOptions options) {
        WebSocketClient client = vertx.createWebSocketClient();
        try {
            Future<WebSocket> f = client.connect(options);
            try {
                WebSocket ws = await(f);
                ws.close();
                return null;
            } catch (RuntimeException e) {
                return f.cause() != null ? f.cause() : e;
            }
        } finally {
            client.close();
        }
    }

    public WsClient send(JsonObject message) {
        return send(message.encode());
    }

    public WsClient send(String text) {
        await(ws.writeTextMessage(text));
        return this;
    }

    public WsClient sendBinary(byte[] bytes) {
        await(ws.writeBinaryMessage(Buffer.buffer(bytes)));
        return this;
    }

    public WsClient join(String roomId, String userId, JsonObject metadata) {
        return send(new JsonObject().put("type", "join").put("roomId", roomId).put("userId", userId).put("metadata", metadata));
    }

    /** The user ids of a {@code join:ack}'s {@code users}, in order. */
    public static java.util.List<String> userIds(JsonObject ack) {
        java.util.List<String> ids = new java.util.ArrayList<>();
        io.vertx.core.json.JsonArray users = ack.getJsonArray("users");
        for (int k = 0; k < users.size(); k++) {
            ids.add(users.getJsonObject(k).getString("userId"));
        }
        return ids;
    }

    /** Joins and waits for this room's join:ack, which it returns. */
    public JsonObject joinAndAck(String roomId, String userId, JsonObject metadata) {
        int from = size();
        join(roomId, userId, metadata);
        return awaitFrom(from, m -> type(m, "join:ack") && roomId.equals(m.getString("roomId")));
    }

    public WsClient heartbeat(String roomId) {
        return send(new JsonObject().put("type", "heartbeat").put("roomId", roomId));
    }

    public WsClient move(String roomId, double x, double y) {
        return send(new JsonObject().put("type", "cursor:move").put("roomId", roomId)
                .put("position", new JsonObject().put("x", x).put("y", y)));
    }

    public WsClient leave(String roomId) {
        return send(new JsonObject().put("type", "leave").put("roomId", roomId));
    }

    public static boolean type(JsonObject m, String type) {
        return type.equals(m.getString("type"));
    }

    public static Predicate<JsonObject> is(String type, String roomId, String userId) {
        return m -> type(m, type) && (roomId == null || roomId.equals(m.getString("roomId")))
                && (userId == null || userId.equals(m.getString("userId")));
    }

    public synchronized int size() {
        return messages.size();
    }

    public synchronized List<JsonObject> messages() {
        return List.copyOf(messages);
    }

    public synchronized long count(Predicate<JsonObject> p) {
        return messages.stream().filter(p).count();
    }

    public JsonObject await(Predicate<JsonObject> p) {
        return awaitFrom(0, p);
    }

    /** As {@link #await(Predicate)}, for events that are due only after a known delay. */
    public JsonObject await(Predicate<JsonObject> p, Duration timeout) {
        return awaitFrom(0, p, timeout);
    }

    /** Waits for the first message at index {@code from} or later that matches. */
    public JsonObject awaitFrom(int from, Predicate<JsonObject> p) {
        return awaitFrom(from, p, TIMEOUT);
    }

    private synchronized JsonObject awaitFrom(int from, Predicate<JsonObject> p, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int i = from;
        while (true) {
            for (; i < messages.size(); i++) {
                if (p.test(messages.get(i))) {
                    return messages.get(i);
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("no matching message within " + timeout + "; received " + summary());
            }
            waitNanos(left);
        }
    }

    /** The message count and the last few messages, shortened: enough to debug, never a flood. */
    private String summary() {
        int from = Math.max(0, messages.size() - 8);
        StringBuilder b = new StringBuilder().append(messages.size()).append(" messages, last: ");
        for (JsonObject m : messages.subList(from, messages.size())) {
            String text = m.encode();
            b.append(text.length() > 200 ? text.substring(0, 200) + "…" : text).append(' ');
        }
        return b.toString();
    }

    /** Index of the first matching message, or -1. */
    public synchronized int indexOf(Predicate<JsonObject> p) {
        for (int i = 0; i < messages.size(); i++) {
            if (p.test(messages.get(i))) {
                return i;
            }
        }
        return -1;
    }

    /** Waits for the server to close the socket; returns the close code. */
    public synchronized int awaitClose() {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (closeCode == null) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("socket not closed within " + TIMEOUT + "; received " + summary());
            }
            waitNanos(left);
        }
        return closeCode;
    }

    public synchronized boolean isClosed() {
        return closeCode != null;
    }

    public synchronized String closeReason() {
        return closeReason;
    }

    private void waitNanos(long nanos) {
        try {
            TimeUnit.NANOSECONDS.timedWait(this, Math.min(nanos, TimeUnit.MILLISECONDS.toNanos(200)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    @Override
    public void close() {
        try {
            if (!isClosed()) {
                await(ws.close());
            }
        } catch (RuntimeException ignored) {
            // already gone
        } finally {
            client.close();
        }
    }

    public static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new RuntimeException(e.getCause());
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }
}
