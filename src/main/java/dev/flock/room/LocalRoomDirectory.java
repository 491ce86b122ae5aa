package dev.flock.room;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;

/** This instance's rooms: each room verticle answers for itself over the event bus. */
public final class LocalRoomDirectory implements RoomDirectory {

    private final Vertx vertx;
    private final RoomRegistry registry;

    public LocalRoomDirectory(Vertx vertx, RoomRegistry registry) {
        this.vertx = vertx;
        this.registry = registry;
    }

    @Override
    public Future<List<RoomInspection>> rooms() {
        List<Future<RoomInspection>> answers = new ArrayList<>();
        for (String roomId : registry.roomIds()) {
            // a room that retires meanwhile simply drops out of the list
            answers.add(RoomBus.<RoomInspection>request(vertx, roomId, new RoomCommand.Inspect()).otherwiseEmpty());
        }
        return Future.join(answers).transform(ignored -> {
            List<RoomInspection> rooms = new ArrayList<>();
            for (Future<RoomInspection> f : answers) {
                RoomInspection r = f.result();
                if (r != null && !r.members().isEmpty()) {
                    rooms.add(r);
                }
            }
            return Future.succeededFuture(rooms);
        });
    }

    @Override
    public Future<Void> closeRoom(String roomId) {
        if (!registry.roomIds().contains(roomId)) {
            return Future.succeededFuture();
        }
        return RoomBus.<Integer>request(vertx, roomId, new RoomCommand.Close("operator")).otherwiseEmpty().mapEmpty();
    }

    @Override
    public Future<List<String>> roomIds() {
        return Future.succeededFuture(registry.roomIds());
    }

    @Override
    public Future<RoomInspection> room(String roomId) {
        if (!registry.roomIds().contains(roomId)) {
            return Future.succeededFuture(new RoomInspection(roomId, List.of()));
        }
        return RoomBus.<RoomInspection>request(vertx, roomId, new RoomCommand.Inspect())
                .otherwise(new RoomInspection(roomId, List.of())); // retired meanwhile: nobody is in it
    }

    @Override
    public Future<List<String>> roomsOf(String userId) {
        return rooms().map(all -> all.stream()
                .filter(r -> r.members().stream().anyMatch(m -> m.userId().equals(userId)))
                .map(RoomInspection::roomId).toList());
    }

    @Override
    public Future<Void> kick(String roomId, String userId) {
        if (!registry.roomIds().contains(roomId)) {
            return Future.succeededFuture();
        }
        return RoomBus.<Integer>request(vertx, roomId, new RoomCommand.Kick(userId)).otherwiseEmpty().mapEmpty();
    }

    /** Through the room's verticle here, deployed for the command when this instance has none (Redis mode). */
    @Override
    public Future<com.fasterxml.jackson.databind.node.ObjectNode> patch(String roomId, String userId,
                                                                        com.fasterxml.jackson.databind.node.ObjectNode patch) {
        return registry.route(roomId).compose(v -> RoomBus.<com.fasterxml.jackson.databind.node.ObjectNode>request(vertx,
                roomId, new RoomCommand.ServerPatch(userId, patch))).recover(err -> {
            if (err instanceof io.vertx.core.eventbus.ReplyException re) {
                return Future.failedFuture(re.failureCode() == RoomCommand.ServerPatch.TOO_LARGE
                        ? new PresenceStore.MetadataTooLarge() : new NotPresent());
            }
            return Future.failedFuture(err);
        });
    }

    @Override
    public Future<Integer> closeAll() {
        List<String> ids = registry.roomIds();
        List<Future<Void>> closes = ids.stream().map(this::closeRoom).toList();
        return Future.join(closes).transform(ignored -> Future.succeededFuture(ids.size()));
    }
}
