package dev.flock.redis;

import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Finds the rooms a crashed instance left behind: rooms whose members no instance sweeps any more, because no room
 * verticle anywhere shows them. Each tick claims at most {@link #BATCH} rooms of the room index in which every
 * connection of ours has expired (one {@code due.lua} call, O(log rooms + claimed)) and prunes each with the one sweep
 * script ({@link RoomPruner}). The claim is atomic and pushes the claimed rooms out by a lease, so the instances of a
 * fleet that tick together share the work instead of repeating it, and no instance ever scans the keyspace. Works
 * without expired-key events; with them, most leftovers are pruned before they come due here.
 *
 * <p>A Redis Cluster has no room index (it would be one key, in one slot, that every room's scripts write): there each
 * tick takes one SCAN step of {@link #BATCH} keys on every master, from where the previous tick stopped, and prunes
 * the rooms it finds, so the whole keyspace is walked a little at a time (issue 23).
 */
final class RoomIndexSweep {

    private static final Logger LOG = LoggerFactory.getLogger(RoomIndexSweep.class);
    /** Rooms claimed per tick per instance: bounds the work of one tick when a crash left many rooms. */
    static final int BATCH = 100;

    private final RedisPresenceStore presence;
    private final RoomPruner pruner;
    private final RedisLink link;
    /** Cluster: each master's SCAN cursor, kept from one tick to the next (a reconnect may restart a walk: harmless). */
    private final java.util.Map<String, String> cursors = new java.util.HashMap<>();
    /** A tick's rooms are still being pruned: the next tick waits for its turn rather than piling up. */
    private boolean running;

    RoomIndexSweep(RedisPresenceStore presence, RoomPruner pruner, RedisLink link) {
        this.presence = presence;
        this.pruner = pruner;
        this.link = link;
    }

    /** On the bridge's loop, while Redis is connected. */
    void tick() {
        if (running) {
            return;
        }
        running = true;
        KeyLayout layout = link.layout();
        Future<List<String>> found = layout.hasRoomIndex() ? presence.claimDueRooms(BATCH)
                : link.scanStep(layout.membersPattern(), BATCH, cursors)
                .map(keys -> keys.stream().map(layout::roomOfMembersKey).filter(java.util.Objects::nonNull).toList());
        found.compose(this::pruneAll)
                .onFailure(err -> LOG.debug("room index not swept: {}", err.toString()))
                .onComplete(ar -> running = false);
    }

    private Future<Void> pruneAll(List<String> roomIds) {
        return Future.join(roomIds.stream().map(roomId -> pruner.prune(roomId, null)).toList()).mapEmpty();
    }
}
