package dev.flock.room;

import dev.flock.admin.AdminRooms;
import dev.flock.admin.MemberView;
import dev.flock.admin.RoomView;
import dev.flock.protocol.ProtocolCodec;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The admin dashboard's view of this instance's rooms: each room verticle answers for itself over the bus. */
public final class LocalAdminRooms implements AdminRooms {

    private final Vertx vertx;
    private final RoomRegistry registry;

    public LocalAdminRooms(Vertx vertx, RoomRegistry registry) {
        this.vertx = vertx;
        this.registry = registry;
    }

    @Override
    public Future<List<RoomView>> rooms() {
        List<Future<RoomInspection>> answers = new ArrayList<>();
        for (String roomId : registry.roomIds()) {
            // a room that retires meanwhile simply drops out of the list
            answers.add(RoomBus.<RoomInspection>request(vertx, roomId, new RoomCommand.Inspect()).otherwiseEmpty());
        }
        return Future.join(answers).transform(ignored -> {
            List<RoomView> rooms = new ArrayList<>();
            for (Future<RoomInspection> f : answers) {
                RoomInspection r = f.result();
                if (r != null && !r.members().isEmpty()) {
                    rooms.add(toView(r));
                }
            }
            return Future.succeededFuture(rooms);
        });
    }

    @SuppressWarnings("unchecked")
    private static RoomView toView(RoomInspection r) {
        List<MemberView> members = new ArrayList<>(r.members().size());
        for (RoomInspection.MemberInspection m : r.members()) {
            Map<String, Object> metadata = ProtocolCodec.MAPPER.convertValue(m.metadata(), Map.class);
            members.add(new MemberView(m.userId(), metadata, m.lastCursorAt() == 0 ? null : m.lastCursorAt()));
        }
        return new RoomView(r.roomId(), members);
    }

    @Override
    public Future<Void> closeRoom(String roomId) {
        if (!registry.roomIds().contains(roomId)) {
            return Future.succeededFuture();
        }
        return RoomBus.<Integer>request(vertx, roomId, new RoomCommand.Close("operator")).otherwiseEmpty().mapEmpty();
    }

    @Override
    public Future<Integer> closeAll() {
        List<String> ids = registry.roomIds();
        List<Future<Void>> closes = ids.stream().map(this::closeRoom).toList();
        return Future.join(closes).transform(ignored -> Future.succeededFuture(ids.size()));
    }
}
