package dev.flock.browser;

import dev.flock.admin.AdminConfig;
import dev.flock.admin.AdminRooms;
import dev.flock.admin.AdminRoutes;
import dev.flock.admin.DemoConfig;
import dev.flock.admin.MemberView;
import dev.flock.admin.RoomView;
import dev.flock.admin.TryItRoutes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * THROWAWAY stand-in for the core server, used only until the real server lands: it serves the
 * try-it page and the admin routes exactly as the core will mount them, and relays a minimal subset
 * of the protocol (one connection per user, no TTL, no limits). Not a reference for the protocol.
 */
final class DevRelayServer implements AdminRooms {

  /** A user in a room, through one socket. */
  private static final class Member {
    final ServerWebSocket socket;
    final String userId;
    final JsonObject metadata;
    JsonObject cursor;
    Long lastCursorAt;

    Member(ServerWebSocket socket, String userId, JsonObject metadata) {
      this.socket = socket;
      this.userId = userId;
      this.metadata = metadata;
    }
  }

  private final Vertx vertx;
  private final String apiKey;
  private final Map<String, Map<String, Member>> rooms = new LinkedHashMap<>();
  private final Set<ServerWebSocket> keyedSockets = new HashSet<>();
  private HttpServer server;

  /** @param apiKey the one accepted key, or null for open mode */
  DevRelayServer(Vertx vertx, String apiKey) {
    this.vertx = vertx;
    this.apiKey = apiKey;
  }

  Future<Integer> start(String adminPassword) {
    Router router = Router.router(vertx);
    new AdminRoutes(this, AdminConfig.of(adminPassword, null)).mount(router);
    new TryItRoutes(() -> Future.succeededFuture(new DemoConfig(apiKey != null, 1))).mount(router);
    return vertx.createHttpServer()
        .webSocketHandshakeHandler(this::handshake)
        .webSocketHandler(this::accept)
        .requestHandler(router)
        .listen(0, "127.0.0.1")
        .map(s -> {
          server = s;
          return s.actualPort();
        });
  }

  Future<Void> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  /** As PROTOCOL.md says: a wrong key at the upgrade is a 401; no key opens the socket. */
  private void handshake(ServerWebSocketHandshake handshake) {
    String given = queryParam(handshake.query(), "apiKey");
    if (apiKey != null && given != null && !apiKey.equals(given)) {
      handshake.reject(401);
    } else {
      handshake.accept().onSuccess(socket -> {
        if (given != null) {
          synchronized (this) {
            keyedSockets.add(socket);
          }
        }
      });
    }
  }

  private static String queryParam(String query, String name) {
    if (query == null) {
      return null;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0 && pair.substring(0, eq).equals(name)) {
        return URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  private void accept(ServerWebSocket socket) {
    socket.textMessageHandler(text -> {
      try {
        onMessage(socket, new JsonObject(text));
      } catch (RuntimeException e) {
        socket.writeTextMessage(new JsonObject().put("type", "error").put("code", "INVALID_MESSAGE")
            .put("message", "bad frame").encode());
      }
    });
    socket.closeHandler(v -> leaveAll(socket));
  }

  private synchronized void onMessage(ServerWebSocket socket, JsonObject msg) {
    String type = msg.getString("type");
    String roomId = msg.getString("roomId");
    if ("heartbeat".equals(type)) {
      send(socket, new JsonObject().put("type", "heartbeat:ack"));
      return;
    }
    if ("join".equals(type)) {
      if (apiKey != null && !keyedSockets.contains(socket) && !apiKey.equals(msg.getString("apiKey"))) {
        send(socket, new JsonObject().put("type", "error").put("code", "INVALID_API_KEY").put("message", "invalid API key"));
        socket.close((short) 1008, "invalid API key");
        return;
      }
      join(socket, roomId, msg.getString("userId"), msg.getJsonObject("metadata", new JsonObject()));
      return;
    }
    Member member = memberOf(socket, roomId);
    if (member == null) {
      return;
    }
    switch (type) {
      case "cursor:move" -> {
        member.cursor = msg.getJsonObject("position");
        member.lastCursorAt = System.currentTimeMillis();
        broadcast(roomId, member, event("cursor:updated", roomId, member.userId)
            .put("position", member.cursor).put("timestamp", member.lastCursorAt));
      }
      case "cursor:leave" -> {
        member.cursor = null;
        broadcast(roomId, member, event("cursor:removed", roomId, member.userId));
      }
      case "presence:update" -> {
        JsonObject patch = msg.getJsonObject("metadata", new JsonObject());
        member.metadata.mergeIn(patch);
        broadcast(roomId, member, event("presence:updated", roomId, member.userId).put("metadata", patch));
      }
      case "leave" -> leave(roomId, member);
      default -> { }
    }
  }

  private void join(ServerWebSocket socket, String roomId, String userId, JsonObject metadata) {
    Map<String, Member> room = rooms.computeIfAbsent(roomId, k -> new LinkedHashMap<>());
    JsonArray users = new JsonArray();
    room.values().stream().filter(m -> !m.userId.equals(userId)).forEach(m -> users.add(
        new JsonObject().put("userId", m.userId).put("metadata", m.metadata).put("cursor", m.cursor)));
    Member member = new Member(socket, userId, metadata.copy());
    room.put(userId, member);
    send(socket, new JsonObject().put("type", "join:ack").put("roomId", roomId).put("users", users));
    broadcast(roomId, member, event("user:joined", roomId, userId).put("metadata", member.metadata));
  }

  private void leave(String roomId, Member member) {
    Map<String, Member> room = rooms.get(roomId);
    if (room == null || room.get(member.userId) != member) {
      return;
    }
    room.remove(member.userId);
    broadcast(roomId, member, event("user:left", roomId, member.userId));
    if (room.isEmpty()) {
      rooms.remove(roomId);
    }
  }

  private synchronized void leaveAll(ServerWebSocket socket) {
    keyedSockets.remove(socket);
    for (String roomId : new ArrayList<>(rooms.keySet())) {
      Member member = memberOf(socket, roomId);
      if (member != null) {
        leave(roomId, member);
      }
    }
  }

  private Member memberOf(ServerWebSocket socket, String roomId) {
    Map<String, Member> room = roomId == null ? null : rooms.get(roomId);
    if (room == null) {
      return null;
    }
    return room.values().stream().filter(m -> m.socket == socket).findFirst().orElse(null);
  }

  private void broadcast(String roomId, Member from, JsonObject message) {
    Map<String, Member> room = rooms.get(roomId);
    if (room != null) {
      room.values().stream().filter(m -> m != from).forEach(m -> send(m.socket, message));
    }
  }

  private static JsonObject event(String type, String roomId, String userId) {
    return new JsonObject().put("type", type).put("roomId", roomId).put("userId", userId);
  }

  private static void send(ServerWebSocket socket, JsonObject message) {
    if (!socket.isClosed()) {
      socket.writeTextMessage(message.encode());
    }
  }

  // ---- AdminRooms ----

  @Override
  public synchronized Future<List<RoomView>> rooms() {
    List<RoomView> views = new ArrayList<>();
    rooms.forEach((roomId, members) -> views.add(new RoomView(roomId, members.values().stream()
        .map(m -> new MemberView(m.userId, new HashMap<>(m.metadata.getMap()), m.lastCursorAt)).toList())));
    return Future.succeededFuture(views);
  }

  @Override
  public synchronized Future<Void> closeRoom(String roomId) {
    Map<String, Member> room = rooms.remove(roomId);
    if (room != null) {
      room.values().forEach(m -> send(m.socket, new JsonObject().put("type", "error").put("code", "ROOM_CLOSED")
          .put("message", "room closed by an operator").put("roomId", roomId)));
    }
    return Future.succeededFuture();
  }

  @Override
  public synchronized Future<Integer> closeAll() {
    List<String> ids = new ArrayList<>(rooms.keySet());
    ids.forEach(this::closeRoom);
    return Future.succeededFuture(ids.size());
  }
}
