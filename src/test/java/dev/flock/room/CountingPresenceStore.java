package dev.flock.room;

import dev.flock.protocol.LeaveReason;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** A store that counts the calls it passes on to another (so a test sees how often the room asks). */
final class CountingPresenceStore implements PresenceStore {

    private final PresenceStore delegate;
    final AtomicInteger admits = new AtomicInteger();
    final AtomicInteger firstAdmits = new AtomicInteger();
    final AtomicInteger removes = new AtomicInteger();
    final AtomicInteger merges = new AtomicInteger();
    final AtomicInteger refreshes = new AtomicInteger();
    final AtomicInteger snapshots = new AtomicInteger();
    final AtomicInteger sweeps = new AtomicInteger();

    CountingPresenceStore(PresenceStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public Future<Admission> admit(String roomId, String userId, String connectionId, ObjectNode metadata, int limit,
                                   boolean evict) {
        admits.incrementAndGet();
        return delegate.admit(roomId, userId, connectionId, metadata, limit, evict);
    }

    /** Counted as an admission and a snapshot: it is both, in one call. */
    @Override
    public Future<Admission> admitFirst(String roomId, String userId, String connectionId, ObjectNode metadata, int limit,
                                        boolean evict) {
        admits.incrementAndGet();
        snapshots.incrementAndGet();
        firstAdmits.incrementAndGet();
        return delegate.admitFirst(roomId, userId, connectionId, metadata, limit, evict);
    }

    @Override
    public Future<Boolean> remove(String roomId, String userId, String connectionId, LeaveReason reason) {
        removes.incrementAndGet();
        return delegate.remove(roomId, userId, connectionId, reason);
    }

    @Override
    public Future<ObjectNode> merge(String roomId, String userId, ObjectNode base, ObjectNode patch) {
        merges.incrementAndGet();
        return delegate.merge(roomId, userId, base, patch);
    }

    @Override
    public Future<List<String>> refresh(String roomId, List<Touch> touches, List<CursorWrite> cursors, boolean rewrite) {
        refreshes.incrementAndGet();
        return delegate.refresh(roomId, touches, cursors, rewrite);
    }

    @Override
    public Future<List<Snapshot>> snapshot(String roomId) {
        snapshots.incrementAndGet();
        return delegate.snapshot(roomId);
    }

    @Override
    public Future<Takeover> takeover(String roomId, String userId, List<String> connectionIds, String publisher,
                                     boolean joined) {
        return delegate.takeover(roomId, userId, connectionIds, publisher, joined);
    }

    @Override
    public Future<Void> grace(String roomId, String userId, String connectionId, long graceMs) {
        return delegate.grace(roomId, userId, connectionId, graceMs);
    }

    @Override
    public Future<Boolean> endGrace(String roomId, String userId, String connectionId, LeaveReason reason) {
        return delegate.endGrace(roomId, userId, connectionId, reason);
    }

    @Override
    public Future<List<String>> sweep(String roomId, String userId) {
        sweeps.incrementAndGet();
        return delegate.sweep(roomId, userId);
    }
}
