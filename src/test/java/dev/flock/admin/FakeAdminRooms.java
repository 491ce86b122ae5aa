package dev.flock.admin;

import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** In-memory {@link AdminRooms} that records what was closed. */
final class FakeAdminRooms implements AdminRooms {

    final List<RoomView> rooms = new CopyOnWriteArrayList<>();
    final List<String> closed = new CopyOnWriteArrayList<>();
    /** What {@link #webhooks()} answers; null = webhooks off. */
    volatile WebhookStatus webhooks;

    @Override
    public Future<WebhookStatus> webhooks() {
        return Future.succeededFuture(webhooks);
    }

    @Override
    public Future<List<RoomView>> rooms() {
        return Future.succeededFuture(new ArrayList<>(rooms));
    }

    @Override
    public Future<Void> closeRoom(String roomId) {
        closed.add(roomId);
        rooms.removeIf(r -> r.roomId().equals(roomId));
        return Future.succeededFuture();
    }

    @Override
    public Future<Integer> closeAll() {
        int count = rooms.size();
        rooms.forEach(r -> closed.add(r.roomId()));
        rooms.clear();
        return Future.succeededFuture(count);
    }
}
