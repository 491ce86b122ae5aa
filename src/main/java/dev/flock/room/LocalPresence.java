package dev.flock.room;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;

import java.util.List;

/** Single instance: the room verticle's own state is the whole truth, so it never asks this store. */
public final class LocalPresence implements PresenceStore {

    public static final LocalPresence INSTANCE = new LocalPresence();
    private static final Future<?> UNUSED = Future.failedFuture("single instance: the room decides alone");

    private LocalPresence() {
    }

    @Override
    public boolean available() {
        return false;
    }

    @Override
    public boolean draining() {
        return false;
    }

    @Override
    public String connectionId(Peer peer) {
        return Long.toString(peer.id());
    }

    @Override
    public Future<Admission> admit(String roomId, String userId, String connectionId, ObjectNode metadata, int limit, boolean evict) {
        return unused();
    }

    @Override
    public Future<Boolean> remove(String roomId, String userId, String connectionId) {
        return unused();
    }

    @Override
    public Future<ObjectNode> merge(String roomId, String userId, ObjectNode base, ObjectNode patch) {
        return unused();
    }

    @Override
    public Future<List<String>> refresh(String roomId, List<Touch> touches, List<CursorWrite> cursors, boolean rewrite) {
        return unused();
    }

    @Override
    public Future<List<Snapshot>> snapshot(String roomId) {
        return unused();
    }

    @Override
    public Future<List<String>> sweep(String roomId, String userId) {
        return unused();
    }

    @SuppressWarnings("unchecked")
    private static <T> Future<T> unused() {
        return (Future<T>) UNUSED;
    }
}
