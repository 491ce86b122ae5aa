package dev.flock.redis;

import dev.flock.room.LocalRoomDirectory;
import dev.flock.room.PresenceStore;
import dev.flock.room.RoomDirectory;
import dev.flock.room.RoomInspection;
import dev.flock.room.RoomRegistry;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The rooms of the whole fleet (Redis mode). Rooms and members come from Redis (members sets found with SCAN, never
 * KEYS; stale members pruned and announced as left once). Closes act here and go out on the {@link AdminChannel}, on
 * which every other instance of ours closes its own members of the room. Each member's leave is announced once for
 * the fleet by the instance whose remove script took that user's last connection. While Redis is unreachable the
 * answers cover this instance only.
 */
final class FleetRoomDirectory implements RoomDirectory {

    private static final Logger LOG = LoggerFactory.getLogger(FleetRoomDirectory.class);
    /** Keys asked for per SCAN step; also how many rooms are read from Redis at once. */
    static final int SCAN_COUNT = 200;
    private static final String INSTANCES_PATTERN = Keys.INSTANCE + "*";

    private final LocalRoomDirectory local;
    private final RoomRegistry registry;
    private final RedisLink link;
    private final RoomPruner pruner;
    private final RedisPresenceStore presence;
    private final AdminChannel admin;

    FleetRoomDirectory(LocalRoomDirectory local, RoomRegistry registry, RedisLink link, RoomPruner pruner,
                       RedisPresenceStore presence, AdminChannel admin) {
        this.local = local;
        this.registry = registry;
        this.link = link;
        this.pruner = pruner;
        this.presence = presence;
        this.admin = admin;
        admin.onCommand(this::onRemoteCommand);
    }

    // ---- reading ----------------------------------------------------------------------------------------------

    @Override
    public Future<List<RoomInspection>> rooms() {
        if (!link.connected()) {
            return local.rooms();
        }
        return storedRoomIds().compose(roomIds -> inspectAll(new ArrayList<>(roomIds), 0, new ArrayList<>()))
                .compose(fleet -> local.rooms().otherwise(List.of()).map(here -> withLocalFacts(fleet, here)));
    }

    /** The rooms with a members set in Redis (a cluster: on any master), sorted (SCAN, never KEYS). */
    private Future<Set<String>> storedRoomIds() {
        return link.scan(link.layout().membersPattern(), SCAN_COUNT).map(keys -> {
            Set<String> roomIds = new TreeSet<>();
            for (String key : keys) {
                String roomId = link.layout().roomOfMembersKey(key);
                if (roomId != null) {
                    roomIds.add(roomId);
                }
            }
            return roomIds;
        });
    }

    /**
     * The fleet's rooms with what only this instance knows of its own members (join time, sockets, verified
     * tokens): Redis holds the original's layout, and nothing about tokens.
     */
    private static List<RoomInspection> withLocalFacts(List<RoomInspection> fleet, List<RoomInspection> here) {
        java.util.Map<String, RoomInspection.MemberInspection> local = new java.util.HashMap<>();
        for (RoomInspection r : here) {
            for (RoomInspection.MemberInspection m : r.members()) {
                local.put(r.roomId() + '\n' + m.userId(), m); // ids hold no control characters
            }
        }
        if (local.isEmpty()) {
            return fleet;
        }
        List<RoomInspection> out = new ArrayList<>(fleet.size());
        for (RoomInspection r : fleet) {
            List<RoomInspection.MemberInspection> members = new ArrayList<>(r.members().size());
            for (RoomInspection.MemberInspection m : r.members()) {
                RoomInspection.MemberInspection mine = local.get(r.roomId() + '\n' + m.userId());
                members.add(mine == null ? m : m.withLocal(mine));
            }
            out.add(new RoomInspection(r.roomId(), members));
        }
        return out;
    }

    /** Reads the rooms {@link #SCAN_COUNT} at a time, so a large fleet does not flood the command connection. */
    private Future<List<RoomInspection>> inspectAll(List<String> roomIds, int from, List<RoomInspection> out) {
        if (from >= roomIds.size()) {
            return Future.succeededFuture(out);
        }
        List<String> chunk = roomIds.subList(from, Math.min(roomIds.size(), from + SCAN_COUNT));
        List<Future<RoomInspection>> views = chunk.stream().map(this::inspect).toList();
        return Future.all(views).compose(all -> {
            for (Future<RoomInspection> f : views) {
                RoomInspection v = f.result();
                if (v != null && !v.members().isEmpty()) {
                    out.add(v);
                }
            }
            return inspectAll(roomIds, from + chunk.size(), out);
        });
    }

    /**
     * One room's live members. Stale members are pruned first: a room with a verticle here sweeps itself (and
     * announces whom it removed); otherwise the sweep script runs here and this instance announces the leaves.
     */
    private Future<RoomInspection> inspect(String roomId) {
        // the snapshot script lists live members only, whether or not the prune has run yet
        return pruner.prune(roomId, null).compose(v -> presence.snapshot(roomId)).map(users -> toInspection(roomId, users));
    }

    private static RoomInspection toInspection(String roomId, List<PresenceStore.Snapshot> users) {
        List<RoomInspection.MemberInspection> members = new ArrayList<>(users.size());
        for (PresenceStore.Snapshot s : users) {
            // joinedAt and the connection count are not in the original's layout: 0, "unknown"
            members.add(new RoomInspection.MemberInspection(s.userId(), s.metadata(), 0, 0, 0,
                    s.cursor() == null ? 0 : s.cursor().timestamp(), s.reconnecting(), s.connections(), s.cursor()));
        }
        return new RoomInspection(roomId, members);
    }

    // ---- the server API (issue 19) ------------------------------------------------------------------------------

    @Override
    public Future<List<String>> roomIds() {
        if (!link.connected()) {
            return Future.failedFuture(new IllegalStateException("Redis unavailable: the fleet's rooms cannot be read"));
        }
        return storedRoomIds().map(ids -> {
            ids.addAll(registry.roomIds());
            return List.copyOf(ids);
        });
    }

    @Override
    public Future<RoomInspection> room(String roomId) {
        if (!link.connected()) {
            return Future.failedFuture(new IllegalStateException("Redis unavailable: the fleet's rooms cannot be read"));
        }
        return inspect(roomId).compose(fleet -> local.room(roomId).otherwise(new RoomInspection(roomId, List.of()))
                .map(here -> withLocalFacts(List.of(fleet), List.of(here)).get(0)));
    }

    @Override
    public Future<List<String>> roomsOf(String userId) {
        return roomIds().compose(ids -> roomsOf(userId, ids, 0, new ArrayList<>()));
    }

    /** {@link #SCAN_COUNT} rooms per script call, so no one call holds Redis long. */
    private Future<List<String>> roomsOf(String userId, List<String> ids, int from, List<String> out) {
        if (from >= ids.size()) {
            return Future.succeededFuture(out);
        }
        List<String> chunk = ids.subList(from, Math.min(ids.size(), from + SCAN_COUNT));
        return presence.roomsOf(userId, chunk).compose(found -> {
            out.addAll(found);
            return roomsOf(userId, ids, from + chunk.size(), out);
        });
    }

    @Override
    public Future<Void> kick(String roomId, String userId) {
        Future<Void> others = tellOthers(AdminCommand.KICK, roomId, userId);
        return Future.join(others, local.kick(roomId, userId)).mapEmpty();
    }

    @Override
    public Future<com.fasterxml.jackson.databind.node.ObjectNode> patch(String roomId, String userId,
                                                                        com.fasterxml.jackson.databind.node.ObjectNode patch) {
        return local.patch(roomId, userId, patch); // the merge is the store's, the broadcast reaches every instance
    }

    @Override
    public Future<Integer> instanceCount() {
        if (!link.connected()) {
            return Future.succeededFuture(1);
        }
        return link.scan(INSTANCES_PATTERN, SCAN_COUNT).map(keys -> Math.max(1, keys.size())).otherwise(1);
    }

    // ---- closing ----------------------------------------------------------------------------------------------

    @Override
    public Future<Void> closeRoom(String roomId) {
        Future<Void> others = tellOthers(AdminCommand.CLOSE_ROOM, roomId);
        return Future.join(others, local.closeRoom(roomId)).mapEmpty();
    }

    @Override
    public Future<Integer> closeAll() {
        Set<String> localIds = new LinkedHashSet<>(registry.roomIds());
        return rooms().otherwise(List.of()).compose(fleet -> {
            Set<String> closed = new LinkedHashSet<>(localIds);
            fleet.forEach(r -> closed.add(r.roomId()));
            Future<Void> others = tellOthers(AdminCommand.CLOSE_ALL, null);
            return Future.join(others, local.closeAll()).map(v -> closed.size());
        });
    }

    /** Publishes the command to the other instances; when Redis is unreachable only this instance acts. */
    private Future<Void> tellOthers(String action, String roomId) {
        return tellOthers(action, roomId, null);
    }

    private Future<Void> tellOthers(String action, String roomId, String userId) {
        if (!link.connected()) {
            LOG.warn("Redis unavailable: {} roomId={} acts on this instance only", action, roomId);
            return Future.succeededFuture();
        }
        return admin.publish(action, roomId, userId).recover(err -> {
            LOG.warn("{} roomId={} not published to the other instances: {}", action, roomId, err.toString());
            return Future.succeededFuture();
        });
    }

    /** Another instance's operator closed a room (or all): close this instance's members of it. */
    private void onRemoteCommand(AdminCommand command) {
        switch (command.action()) {
            case AdminCommand.CLOSE_ROOM -> local.closeRoom(command.roomId());
            case AdminCommand.CLOSE_ALL -> local.closeAll();
            case AdminCommand.KICK -> local.kick(command.roomId(), command.userId());
            default -> {
                // parse() admits known actions only
            }
        }
    }
}
