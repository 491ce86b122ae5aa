package dev.flock.admin;

import dev.flock.protocol.ProtocolCodec;
import dev.flock.room.RoomDirectory;
import dev.flock.room.RoomInspection;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The dashboard's view types over the room side's own inspection interface. */
public final class DirectoryAdminRooms implements AdminRooms {

    private final RoomDirectory directory;
    /** Null without webhooks. */
    private final java.util.function.Supplier<Future<WebhookStatus>> webhooks;

    public DirectoryAdminRooms(RoomDirectory directory) {
        this(directory, null);
    }

    public DirectoryAdminRooms(RoomDirectory directory, java.util.function.Supplier<Future<WebhookStatus>> webhooks) {
        this.directory = directory;
        this.webhooks = webhooks;
    }

    @Override
    public Future<WebhookStatus> webhooks() {
        return webhooks == null ? Future.succeededFuture(null) : webhooks.get();
    }

    @Override
    public Future<List<RoomView>> rooms() {
        return directory.rooms().map(rooms -> rooms.stream().map(DirectoryAdminRooms::toView).toList());
    }

    @SuppressWarnings("unchecked")
    static RoomView toView(RoomInspection r) {
        List<MemberView> members = new ArrayList<>(r.members().size());
        for (RoomInspection.MemberInspection m : r.members()) {
            Map<String, Object> metadata = ProtocolCodec.MAPPER.convertValue(m.metadata(), Map.class);
            members.add(new MemberView(m.userId(), metadata, m.lastCursorAt() == 0 ? null : m.lastCursorAt(),
                    MemberView.Identity.of(m.connections(), m.verifiedConnections()), m.reconnecting()));
        }
        return new RoomView(r.roomId(), members);
    }

    @Override
    public Future<Integer> userCount(String roomId) {
        return directory.room(roomId).map(room -> room.members().size()); // one room, not a listing of every room
    }

    @Override
    public Future<Void> closeRoom(String roomId) {
        return directory.closeRoom(roomId);
    }

    @Override
    public Future<Integer> closeAll() {
        return directory.closeAll();
    }

    @Override
    public Future<Integer> instanceCount() {
        return directory.instanceCount();
    }
}
