package dev.flock.room;

import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The delivery port without sockets: every delivery is recorded (peer, decoded JSON, kind) and handed to the
 * {@link FakePeer} at once; {@code after} and {@code run} actions run inline, on the room's thread.
 */
final class FakeDelivery implements Delivery {

    record Delivered(Peer peer, JsonObject message, DeliveryKind kind) {
    }

    final List<Delivered> log = new CopyOnWriteArrayList<>();

    private static final class FakeAudience implements Audience {
        /** Peer → user, in the order they were added; touched by the room's thread only. */
        final Map<Peer, String> peers = new LinkedHashMap<>();

        @Override
        public void add(Peer peer, String userId) {
            peers.put(peer, userId);
        }

        @Override
        public void remove(Peer peer) {
            peers.remove(peer);
        }

        @Override
        public boolean isEmpty() {
            return peers.isEmpty();
        }
    }

    @Override
    public Audience newAudience() {
        return new FakeAudience();
    }

    @Override
    public void broadcast(Audience audience, byte[] json, DeliveryKind kind, String aboutUserId, String excludedUserId,
                          long receivedNanos) {
        ((FakeAudience) audience).peers.forEach((peer, userId) -> {
            if (excludedUserId == null || !excludedUserId.equals(userId)) {
                deliver(peer, json, kind);
            }
        });
    }

    @Override
    public void send(Peer peer, byte[] json, Runnable after) {
        deliver(peer, json, DeliveryKind.EVENT);
        if (after != null) {
            after.run();
        }
    }

    @Override
    public void run(Peer peer, Runnable action) {
        action.run();
    }

    private void deliver(Peer peer, byte[] json, DeliveryKind kind) {
        JsonObject message = new JsonObject(new String(json, StandardCharsets.UTF_8));
        log.add(new Delivered(peer, message, kind));
        if (peer instanceof FakePeer p) {
            p.received.add(message);
        }
    }
}
