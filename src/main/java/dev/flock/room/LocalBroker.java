package dev.flock.room;

import io.vertx.core.Future;

/** Single instance: every member of a room is local, so there is nothing to carry. */
public final class LocalBroker implements RoomBroker {

    public static final LocalBroker INSTANCE = new LocalBroker();

    private LocalBroker() {
    }

    @Override
    public Future<Void> subscribe(String roomId) {
        return Future.succeededFuture();
    }

    @Override
    public void unsubscribe(String roomId) {
    }

    @Override
    public void publish(String roomId, byte[] message) {
    }

    @Override
    public boolean connected() {
        return true;
    }
}
