package dev.flock.redis;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.config.FlockConfig;
import dev.flock.room.MemoryPresenceStore;
import dev.flock.room.PresenceStore;
import dev.flock.time.Clock;
import dev.flock.protocol.LeaveReason;
import io.vertx.core.Future;

import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Redis mode's presence: the shared {@link RedisPresenceStore} while Redis answers, local decisions while it does not
 * (degraded mode). A {@link MemoryPresenceStore} mirrors this instance's own connections all along, so when Redis is
 * lost it already knows who is connected here and can admit, merge and remove without it; when Redis is back, every
 * room re-writes its connections into Redis and reconciles ({@code RoomCommand.Resync}), which hands the decisions
 * back. Reads of the whole fleet (snapshot, sweep) have no local answer and fail while Redis is unreachable.
 *
 * <p>Draining (shutdown) makes every removal answer "still present elsewhere" without touching Redis: the user's
 * presence expires after the TTL, so a client that reconnects to another instance meanwhile causes no flicker.
 *
 * <p>Webhook events are recorded by the shared store's scripts only: the mirror records none, so decisions taken
 * locally while Redis is unreachable send no webhook (the fleet's view of them is rebuilt, not decided, on reconnect).
 */
final class FailoverPresenceStore implements PresenceStore {

    private final RedisPresenceStore shared;
    private final MemoryPresenceStore local;
    private final BooleanSupplier reachable;
    private volatile boolean draining;

    FailoverPresenceStore(RedisPresenceStore shared, BooleanSupplier reachable, Clock clock, FlockConfig config) {
        this.shared = shared;
        this.reachable = reachable;
        this.local = new MemoryPresenceStore(clock, PresenceStore.connectionTtlMs(config), config.maxMetadataBytes());
    }

    void drain() {
        draining = true;
    }

    @Override
    public Future<Admission> admit(String roomId, String userId, String connectionId, ObjectNode metadata, int limit,
                                   boolean evict) {
        if (!reachable.getAsBoolean()) {
            return local.admit(roomId, userId, connectionId, metadata, limit, evict);
        }
        return mirrored(shared.admit(roomId, userId, connectionId, metadata, limit, evict), roomId, userId, connectionId,
                metadata, limit, evict);
    }

    /** Redis' admission, mirrored locally; when Redis is lost mid-call, the mirror decides. */
    private Future<Admission> mirrored(Future<Admission> shared, String roomId, String userId, String connectionId,
                                       ObjectNode metadata, int limit, boolean evict) {
        return shared.map(a -> {
            if (a.status() != Admission.Status.FULL) {
                local.admit(roomId, userId, connectionId, a.storedMetadata() != null ? a.storedMetadata() : metadata, 0, evict);
            }
            return a;
        }).recover(err -> local.admit(roomId, userId, connectionId, metadata, limit, evict));
    }

    /** As {@link #admit}; the local fallback has no fleet-wide view, so its admission comes without one. */
    @Override
    public Future<Admission> admitFirst(String roomId, String userId, String connectionId, ObjectNode metadata, int limit,
                                        boolean evict) {
        if (!reachable.getAsBoolean()) {
            return local.admit(roomId, userId, connectionId, metadata, limit, evict);
        }
        return mirrored(shared.admitFirst(roomId, userId, connectionId, metadata, limit, evict), roomId, userId,
                connectionId, metadata, limit, evict);
    }

    @Override
    public Future<Boolean> remove(String roomId, String userId, String connectionId, LeaveReason reason) {
        if (draining) {
            return Future.succeededFuture(false);
        }
        Future<Boolean> mirrored = local.remove(roomId, userId, connectionId, reason);
        if (!reachable.getAsBoolean()) {
            return mirrored;
        }
        // Redis lost mid-call: the mirror (already without this connection) answers, as admit and merge fall back
        return shared.remove(roomId, userId, connectionId, reason).recover(err -> mirrored);
    }

    @Override
    public Future<ObjectNode> merge(String roomId, String userId, ObjectNode base, ObjectNode patch) {
        if (!reachable.getAsBoolean()) {
            return mergeLocally(roomId, userId, base, patch);
        }
        return shared.merge(roomId, userId, base, patch).map(merged -> {
            local.overwriteMetadata(roomId, userId, merged);
            return merged;
        }).recover(err -> err instanceof MetadataTooLarge ? Future.failedFuture(err)
                : mergeLocally(roomId, userId, base, patch));
    }

    /** The room's own belief wins locally: the mirror may not have seen other instances' merges. */
    private Future<ObjectNode> mergeLocally(String roomId, String userId, ObjectNode base, ObjectNode patch) {
        local.overwriteMetadata(roomId, userId, base);
        return local.merge(roomId, userId, base, patch);
    }

    @Override
    public Future<List<String>> refresh(String roomId, List<Touch> touches, List<CursorWrite> cursors, boolean rewrite) {
        Future<List<String>> mirrored = local.refresh(roomId, touches, cursors, rewrite);
        if (!reachable.getAsBoolean()) {
            return mirrored;
        }
        return shared.refresh(roomId, touches, cursors, rewrite);
    }

    /** Also while draining (shutdown): a graced entry expires after the grace instead of the TTL. */
    @Override
    public Future<Void> grace(String roomId, String userId, String connectionId, long graceMs) {
        local.grace(roomId, userId, connectionId, graceMs);
        if (!reachable.getAsBoolean()) {
            return Future.succeededFuture();
        }
        return shared.grace(roomId, userId, connectionId, graceMs).recover(err -> Future.succeededFuture());
    }

    @Override
    public Future<Boolean> endGrace(String roomId, String userId, String connectionId, LeaveReason reason) {
        Future<Boolean> mirrored = local.endGrace(roomId, userId, connectionId, reason);
        if (!reachable.getAsBoolean()) {
            return mirrored;
        }
        return shared.endGrace(roomId, userId, connectionId, reason).recover(err -> mirrored);
    }

    @Override
    public Future<List<Snapshot>> snapshot(String roomId) {
        return shared.snapshot(roomId);
    }

    @Override
    public Future<List<String>> sweep(String roomId, String userId) {
        return shared.sweep(roomId, userId);
    }

    @Override
    public Future<Takeover> takeover(String roomId, String userId, List<String> connectionIds, String publisher,
                                     boolean joined) {
        return shared.takeover(roomId, userId, connectionIds, publisher, joined);
    }
}
