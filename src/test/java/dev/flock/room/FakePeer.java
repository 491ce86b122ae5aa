package dev.flock.room;

import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/** A connection as a room sees it, recording what the room told it (through {@link FakeDelivery}). */
final class FakePeer implements Peer {

    private static final AtomicLong IDS = new AtomicLong();

    private final long id = IDS.incrementAndGet();
    private final String name;
    private final AtomicLong seqs = new AtomicLong();
    final Map<Long, JoinResult> joinResults = new ConcurrentHashMap<>();
    private final Map<Long, CompletableFuture<JoinResult>> answers = new ConcurrentHashMap<>();
    final List<Removal> removals = new CopyOnWriteArrayList<>();
    /** Every message delivered to this peer, decoded, in delivery order. */
    final List<JsonObject> received = new CopyOnWriteArrayList<>();

    FakePeer(String name) {
        this.name = name;
    }

    long nextSeq() {
        return seqs.incrementAndGet();
    }

    @Override
    public long id() {
        return id;
    }

    @Override
    public void joinResult(String roomId, long seq, JoinResult result) {
        joinResults.put(seq, result);
        answer(seq).complete(result);
    }

    private CompletableFuture<JoinResult> answer(long seq) {
        return answers.computeIfAbsent(seq, s -> new CompletableFuture<>());
    }

    /** Waits for the room's answer to join {@code seq}. */
    JoinResult awaitJoinResult(long seq) {
        try {
            return answer(seq).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(this + " got no answer to join " + seq, e);
        }
    }

    @Override
    public void removed(String roomId, Removal reason) {
        removals.add(reason);
    }

    List<JsonObject> received(Predicate<JsonObject> which) {
        return received.stream().filter(which).toList();
    }

    /** Types of the messages received, e.g. {@code user:left alice}, in order (for readable assertions). */
    List<String> events() {
        return received.stream().map(m -> m.getString("type")
                + (m.containsKey("userId") ? " " + m.getString("userId") : "")
                + (m.containsKey("code") ? " " + m.getString("code") : "")).toList();
    }

    @Override
    public String toString() {
        return name + "#" + id;
    }
}
