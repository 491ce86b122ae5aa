package dev.flock.support;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A cluster-wide witness: subscribes Redis channels on its own connection and records every JSON payload published
 * on them (e.g. each {@code user:left} an instance announces on {@code flock:broadcast:<roomId>}).
 */
public final class ChannelListener implements AutoCloseable {

    private final Redis client;
    private final RedisConnection connection;
    private final List<JsonObject> payloads = new ArrayList<>();
    private int confirmed;

    private ChannelListener(Redis client, RedisConnection connection) {
        this.client = client;
        this.connection = connection;
        connection.handler(this::onPush);
    }

    public static ChannelListener subscribe(Vertx vertx, String redisUrl, String... channels) {
        Redis client = Redis.createClient(vertx, redisUrl);
        RedisConnection connection = WsClient.await(client.connect());
        ChannelListener listener = new ChannelListener(client, connection);
        Request subscribe = Request.cmd(Command.SUBSCRIBE);
        for (String c : channels) {
            subscribe.arg(c);
        }
        connection.send(subscribe);
        Fleet.awaitTrue("subscribed to " + List.of(channels), WsClient.TIMEOUT, () -> listener.confirmed() == channels.length);
        return listener;
    }

    private void onPush(Response r) {
        if (r == null || (r.type() != ResponseType.PUSH && r.type() != ResponseType.MULTI) || r.size() < 3) {
            return;
        }
        String kind = r.get(0).toString();
        synchronized (this) {
            if ("subscribe".equals(kind)) {
                confirmed++;
            } else if ("message".equals(kind)) {
                payloads.add(new JsonObject(r.get(2).toString()));
            }
        }
    }

    private synchronized int confirmed() {
        return confirmed;
    }

    public synchronized List<JsonObject> payloads() {
        return List.copyOf(payloads);
    }

    /** Payloads of the original envelope {@code {"instanceId", "message"}} whose message matches. */
    public synchronized long countMessages(Predicate<JsonObject> p) {
        return payloads.stream().map(e -> e.getJsonObject("message")).filter(m -> m != null && p.test(m)).count();
    }

    @Override
    public void close() {
        try {
            connection.close();
        } finally {
            client.close();
        }
    }
}
