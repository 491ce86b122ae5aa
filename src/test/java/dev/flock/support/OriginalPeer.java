package dev.flock.support;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * Plays an original Node instance on the fleet's Redis, as docs/PROTOCOL.md's Redis layout and the original's source
 * describe its behaviour (written from that description, no code of it): per join it writes the presence hash
 * ({@code metadata}, {@code joinedAt}) with {@code EXPIRE ttl} and adds the member; per heartbeat it only pushes
 * out the presence and cursor expiry and re-adds the member; when its socket of a user closes, and on every
 * expired presence key, it deletes the presence and cursor hashes, removes the member (whoever else holds the user)
 * and publishes {@code user:left}. Every publish is the envelope {@code {"instanceId","message"}}. It keeps no
 * connection set of ours, and {@link #seen} is what its clients received from other instances.
 */
public final class OriginalPeer implements AutoCloseable {

    private final RedisServer redis;
    private final int ttlSeconds;
    private final String instanceId = UUID.randomUUID().toString();
    private final ChannelListener listener;

    public OriginalPeer(Vertx vertx, RedisServer redis, int ttlSeconds, String... rooms) {
        this.redis = redis;
        this.ttlSeconds = ttlSeconds;
        String[] channels = new String[rooms.length];
        for (int i = 0; i < rooms.length; i++) {
            channels[i] = "flock:broadcast:" + rooms[i];
        }
        this.listener = ChannelListener.subscribe(vertx, redis.url(), channels);
    }

    public String instanceId() {
        return instanceId;
    }

    /** A socket of {@code userId} joins on this instance: presence written, {@code user:joined} published. */
    public void join(String roomId, String userId, JsonObject metadata) {
        String key = presence(roomId, userId);
        redis.command("HSET", key, "metadata", metadata.encode(), "joinedAt", Long.toString(System.currentTimeMillis()));
        redis.command("EXPIRE", key, Integer.toString(ttlSeconds));
        redis.command("SADD", "flock:room:" + roomId + ":members", userId);
        publish(roomId, new JsonObject().put("type", "user:joined").put("roomId", roomId).put("userId", userId)
                .put("metadata", metadata));
    }

    public void heartbeat(String roomId, String userId) {
        redis.command("EXPIRE", presence(roomId, userId), Integer.toString(ttlSeconds));
        redis.command("EXPIRE", "flock:cursor:" + roomId + ":" + userId, Integer.toString(ttlSeconds));
        redis.command("SADD", "flock:room:" + roomId + ":members", userId);
    }

    /** Its (current) socket of {@code userId} closes, or a presence key of the user expired: the same clean-up. */
    public void leave(String roomId, String userId) {
        redis.command("DEL", presence(roomId, userId));
        redis.command("DEL", "flock:cursor:" + roomId + ":" + userId);
        redis.command("SREM", "flock:room:" + roomId + ":members", userId);
        publish(roomId, new JsonObject().put("type", "user:left").put("roomId", roomId).put("userId", userId));
    }

    private void publish(String roomId, JsonObject message) {
        redis.command("PUBLISH", "flock:broadcast:" + roomId,
                new JsonObject().put("instanceId", instanceId).put("message", message).encode());
    }

    /** The messages other instances published on its rooms' channels, in order: what its clients were sent. */
    public List<JsonObject> seen() {
        return listener.payloads().stream().filter(e -> !instanceId.equals(e.getString("instanceId")))
                .map(e -> e.getJsonObject("message")).toList();
    }

    public long count(Predicate<JsonObject> p) {
        return seen().stream().filter(p).count();
    }

    private static String presence(String roomId, String userId) {
        return "flock:presence:" + roomId + ":" + userId;
    }

    @Override
    public void close() {
        listener.close();
    }
}
