package dev.flock.room;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.config.FlockConfig;
import dev.flock.protocol.ServerMessage;
import dev.flock.protocol.LeaveReason;
import io.vertx.core.Future;

import java.util.List;

/**
 * Who is in a room, through which connections, with what metadata and last cursor, and the atomic decisions about
 * it: admit within the room limit, "the last connection is gone", metadata merge, expiry. The room verticle takes
 * every membership decision through this interface, in every mode. {@link MemoryPresenceStore} is the embedded
 * default (and the reference); {@code dev.flock.redis.RedisPresenceStore} keeps the same model in Redis, shared
 * by every instance; {@code dev.flock.redis.FailoverPresenceStore} decides locally while Redis is unreachable.
 *
 * <p>Each decision also records its webhook event (issue 19) in the same atomic step: {@code user.joined} (and
 * {@code room.occupied} for the room's first user) when {@link #admit} answers JOINED, {@code user.left} with its
 * {@link LeaveReason} (and {@code room.vacated} for the last) when a removal, grace end, sweep or prune drops a user,
 * {@code presence.updated} for a merge. A share-mode second connection, an evict-mode replacement and a return within
 * the reconnect grace record nothing: the user stayed present throughout.
 *
 * <p>Futures complete on the caller's context (the memory store's at once).
 */
public interface PresenceStore {

    /**
     * A store keeps a connection this much longer than the local TTL, so the connection's own expiry (which knows
     * it is gone) always decides before the store's (which only sees silence).
     */
    long EXPIRY_GRACE_MS = 2000;

    /** How long a store keeps a connection without a refresh: the local TTL plus {@link #EXPIRY_GRACE_MS}. */
    static long connectionTtlMs(FlockConfig config) {
        return config.presenceTtlMs() + EXPIRY_GRACE_MS;
    }

    /** Admits a connection: adds it, or refuses it when a new user would exceed {@code limit} (0 = none). */
    Future<Admission> admit(String roomId, String userId, String connectionId, ObjectNode metadata, int limit, boolean evict);

    /**
     * A room's first join on this instance (issue 22): {@link #admit}, and in the same atomic step the room's
     * {@link #snapshot} as it was just before this admission ({@link Admission#view}), so opening a room costs one
     * store round trip instead of two. A store that cannot take the snapshot answers the admission without it (view
     * null), as a failed {@link #snapshot} leaves the view empty.
     */
    Future<Admission> admitFirst(String roomId, String userId, String connectionId, ObjectNode metadata, int limit,
                                 boolean evict);

    /**
     * Removes one connection; true when the user is present nowhere any more: it was their last connection, or the
     * store had already dropped them (expired and swept). The caller, which still shows the user, announces the leave.
     */
    Future<Boolean> remove(String roomId, String userId, String connectionId, LeaveReason reason);

    /**
     * Merges {@code patch} into the stored metadata, atomically against merges elsewhere. {@code base} is the
     * metadata the caller believes stored. Fails with {@link MetadataTooLarge} when the result would not fit.
     */
    Future<ObjectNode> merge(String roomId, String userId, ObjectNode base, ObjectNode patch);

    /**
     * Pushes out the expiry of connections that were active and writes changed cursors. With {@code rewrite}, also
     * re-creates what is missing (after the store lost it) and returns the users whose presence had to be re-created.
     */
    Future<List<String>> refresh(String roomId, List<Touch> touches, List<CursorWrite> cursors, boolean rewrite);

    /** Everyone present in the room, on any instance. */
    Future<List<Snapshot>> snapshot(String roomId);

    /**
     * A connection ended without a clean goodbye (issue 20): it stays, as a graced entry, for {@code graceMs} only,
     * keeping the user present (and their seat). A new connection of the user admitted meanwhile, on any instance and
     * in either mode, takes the user over silently; {@link #endGrace} removes the entry when nobody came back.
     */
    Future<Void> grace(String roomId, String userId, String connectionId, long graceMs);

    /**
     * The grace of this connection ended ({@link LeaveReason#CLOSED}) or was cut short (a kick, a close): as
     * {@link #remove} of its graced entry (true when that was the user's last).
     */
    Future<Boolean> endGrace(String roomId, String userId, String connectionId, LeaveReason reason);

    /** Removes users whose every connection expired ({@code userId} null = all of the room); returns them. */
    Future<List<String>> sweep(String roomId, String userId);

    /**
     * Evict mode, another instance announced a user this instance holds: does the store still hold these local
     * connections of the user (when not, another instance of ours replaced them), and is {@code publisher} one of ours
     * (an instance that registers itself) rather than an original Node instance? With {@code joined} (the
     * announcement was a join) and a publisher that is not ours, the held connections are removed in the same step,
     * and the user is kept: the original holds them now.
     */
    Future<Takeover> takeover(String roomId, String userId, List<String> connectionIds, String publisher, boolean joined);

    /** What {@link #takeover} found. */
    record Takeover(boolean connectionsHeld, boolean publisherIsOurs) {
    }

    /** {@code view}: only from {@link #admitFirst}, the room's snapshot before the admission (null otherwise). */
    record Admission(Status status, ObjectNode storedMetadata, List<String> pruned, List<Snapshot> view) {
        public Admission(Status status, ObjectNode storedMetadata, List<String> pruned) {
            this(status, storedMetadata, pruned, null);
        }

        /** This admission with the room's snapshot before it. */
        public Admission withView(List<Snapshot> snapshot) {
            return new Admission(status, storedMetadata, pruned, snapshot);
        }

        public enum Status {
            /** A new user in the room. */
            JOINED,
            /** Share mode: the user was present already; {@code storedMetadata} is what is stored. */
            PRESENT,
            /** Evict mode: the user was present already; their other connections were dropped. */
            REPLACED,
            /** The room is at its limit. */
            FULL
        }
    }

    record Touch(String userId, String connectionId, ObjectNode metadata) {
    }

    /** {@code cursor} null removes the stored cursor. */
    record CursorWrite(String userId, ServerMessage.Cursor cursor) {
    }

    /**
     * One present user. {@code connections}: their live connections on every instance (graced ones not counted; a user
     * held by an original Node instance, which writes no connections, counts 1); {@code reconnecting}: present only by
     * reconnect graces.
     */
    record Snapshot(String userId, ObjectNode metadata, ServerMessage.Cursor cursor, int connections,
                    boolean reconnecting) {
    }

    final class MetadataTooLarge extends RuntimeException {
        public MetadataTooLarge() {
            super("merged metadata too large", null, false, false);
        }
    }
}
