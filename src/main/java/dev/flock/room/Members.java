package dev.flock.room;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.metrics.FlockMetrics;
import dev.flock.protocol.ServerMessage;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The room's view: every member (local or on another instance), which member each local connection belongs to,
 * and the audience the room delivers to. Only the room verticle's loop touches it.
 */
final class Members {

    private final Map<String, Member> byUser = new LinkedHashMap<>();
    private final Map<Peer, Member> byPeer = new HashMap<>();
    private final Delivery.Audience audience;
    private final FlockMetrics metrics;

    Members(Delivery delivery, FlockMetrics metrics) {
        this.audience = delivery.newAudience();
        this.metrics = metrics;
    }

    Member get(String userId) {
        return byUser.get(userId);
    }

    Member of(Peer peer) {
        return byPeer.get(peer);
    }

    boolean has(String userId) {
        return byUser.containsKey(userId);
    }

    /** A new member in the view (without connections yet); replaces nobody. */
    Member add(String userId, ObjectNode metadata, long joinedAt) {
        Member m = new Member(userId, metadata, joinedAt);
        byUser.put(userId, m);
        return m;
    }

    /** Adds a member from a store snapshot unless the view has them already. */
    Member addIfAbsent(PresenceStore.Snapshot s, long now) {
        Member m = byUser.get(s.userId());
        if (m == null) {
            m = add(s.userId(), s.metadata(), now);
            m.cursor = s.cursor();
        }
        return m;
    }

    void remove(String userId) {
        byUser.remove(userId);
    }

    /** True when {@code m} is still the view's member for its user (not replaced meanwhile). */
    boolean current(Member m) {
        return byUser.get(m.userId) == m;
    }

    void attach(Peer peer, Member member) {
        member.peers.add(peer);
        byPeer.put(peer, member);
        audience.add(peer, member.userId);
        metrics.memberAdded();
    }

    void detach(Peer peer, Member member) {
        member.peers.remove(peer);
        byPeer.remove(peer);
        audience.remove(peer);
        metrics.memberRemoved();
    }

    Delivery.Audience audience() {
        return audience;
    }

    boolean noLocalConnections() {
        return byPeer.isEmpty();
    }

    List<Peer> localPeers() {
        return List.copyOf(byPeer.keySet());
    }

    List<Member> all() {
        return List.copyOf(byUser.values());
    }

    /** Everyone but {@code joiner}, as a join:ack lists them. */
    List<ServerMessage.UserSnapshot> snapshotFor(Member joiner) {
        List<ServerMessage.UserSnapshot> others = new ArrayList<>(byUser.size());
        for (Member m : byUser.values()) {
            if (m != joiner) {
                others.add(new ServerMessage.UserSnapshot(m.userId, m.metadata, m.cursor));
            }
        }
        return others;
    }

    RoomInspection inspect(String roomId, java.util.function.Predicate<String> reconnecting) {
        List<RoomInspection.MemberInspection> list = new ArrayList<>(byUser.size());
        for (Member m : byUser.values()) {
            int verified = 0;
            for (Peer p : m.peers) {
                verified += p.verified() ? 1 : 0;
            }
            list.add(new RoomInspection.MemberInspection(m.userId, m.metadata.deepCopy(), m.joinedAt, m.peers.size(), verified,
                    m.cursor == null ? 0 : m.cursor.timestamp(), reconnecting.test(m.userId), m.peers.size(), m.cursor));
        }
        return new RoomInspection(roomId, list);
    }
}
