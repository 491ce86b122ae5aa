package dev.flock.room;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;

/** Sends room commands over the event bus, by reference (local codec). */
public final class RoomBus {

    static final DeliveryOptions LOCAL = new DeliveryOptions().setCodecName(RoomCommandCodec.NAME).setLocalOnly(true);
    private static final long INSPECT_TIMEOUT_MS = 5000;

    private RoomBus() {
    }

    /** Registers the local codec once per Vert.x instance. */
    public static void registerCodec(Vertx vertx) {
        try {
            vertx.eventBus().registerCodec(new RoomCommandCodec());
        } catch (IllegalStateException alreadyRegistered) {
            // a second Flock server in the same Vert.x shares the codec
        }
    }

    public static void send(Vertx vertx, String roomId, RoomCommand command) {
        vertx.eventBus().send(RoomRegistry.address(roomId), command, LOCAL);
    }

    public static <T> Future<T> request(Vertx vertx, String roomId, RoomCommand command) {
        return vertx.eventBus().<T>request(RoomRegistry.address(roomId), command,
                new DeliveryOptions(LOCAL).setSendTimeout(INSPECT_TIMEOUT_MS)).map(m -> m.body());
    }
}
