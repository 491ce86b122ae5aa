package dev.flock.ops;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/** A test WebSocket client that records every message, so tests can wait for one that matches. */
public final class WsProbe {

    /** Held, since Vert.x closes an unreachable client (and its sockets) when the GC collects it. */
    private final WebSocketClient client;
    public final WebSocket ws;
    public final List<JsonObject> received = new CopyOnWriteArrayList<>();
    public volatile Short closeCode;

    private WsProbe(WebSocketClient client, WebSocket ws) {
        this.client = client;
        this.ws = ws;
        if (ws.isClosed()) { // the server closed it right after the upgrade (a refused token) before we got here
            closeCode = ws.closeStatusCode() == null ? -1 : ws.closeStatusCode();
            return;
        }
        ws.textMessageHandler(t -> received.add(new JsonObject(t)));
        ws.closeHandler(v -> closeCode = ws.closeStatusCode() == null ? -1 : ws.closeStatusCode());
    }

    public static Future<WsProbe> connect(Vertx vertx, int port, String path) {
        WebSocketClient client = vertx.createWebSocketClient();
        return client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(path))
                .map(ws -> new WsProbe(client, ws));
    }

    public void send(JsonObject message) {
        ws.writeTextMessage(message.encode());
    }

    public void join(String roomId, String userId) {
        send(new JsonObject().put("type", "join").put("roomId", roomId).put("userId", userId)
                .put("metadata", new JsonObject().put("name", userId)));
    }

    public boolean has(Predicate<JsonObject> p) {
        return received.stream().anyMatch(p);
    }

    public static Predicate<JsonObject> type(String type) {
        return m -> type.equals(m.getString("type"));
    }
}
