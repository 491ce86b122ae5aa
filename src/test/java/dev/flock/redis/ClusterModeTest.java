package dev.flock.redis;

import dev.flock.FlockServer;
import dev.flock.support.ClusterSet;
import dev.flock.support.Fleet;
import dev.flock.support.WsClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.userIds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Redis Cluster mode (issue 23) against a real cluster of redis-server processes: three masters with a replica each.
 * Rooms spread over every master work as on one Redis; a master killed mid-traffic and replaced by its replica, and a
 * slot resharded under live rooms, keep the promises of a Redis restart: no presence lost, nobody shown leaving,
 * fan-out back (within 10 s of a kill).
 */
class ClusterModeTest {

    private static final KeyLayout KEYS = KeyLayout.CLUSTER;
    private ClusterSet cluster;
    private Fleet fleet;

    @BeforeEach
    void setUp() {
        cluster = ClusterSet.start();
        fleet = new Fleet(cluster.url());
    }

    @AfterEach
    void tearDown() {
        if (fleet != null) {
            fleet.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private FlockServer instance(String... env) {
        String[] all = new String[env.length + 2];
        all[0] = "FLOCK_MAX_MESSAGES_PER_SECOND";
        all[1] = "100000";
        System.arraycopy(env, 0, all, 2, env.length);
        return fleet.instance(all);
    }

    private WsClient client(FlockServer server) {
        return fleet.client(server);
    }

    private static JsonObject meta(String name) {
        return new JsonObject().put("name", name);
    }

    /** One room id per master, found by asking the cluster which master serves each candidate's members key. */
    private Map<Integer, String> oneRoomPerMaster() {
        Map<Integer, String> rooms = new LinkedHashMap<>();
        for (int i = 0; rooms.size() < cluster.masterPorts().size() && i < 200; i++) {
            String room = "room:" + i;
            rooms.putIfAbsent(cluster.ownerOf(KEYS.members(room)), room);
        }
        assertThat(rooms.keySet()).as("a room on every master").containsExactlyInAnyOrderElementsOf(cluster.masterPorts());
        return rooms;
    }

    @Test
    void roomsOnEveryMaster_fanOutSnapshotLimitAndExpiry_eachOnItsOwnMaster() {
        FlockServer a = instance("FLOCK_PRESENCE_TTL_SECONDS", "2", "FLOCK_REDIS_SWEEP_INTERVAL_MS", "60000",
                "FLOCK_MAX_ROOM_SIZE", "2");
        FlockServer b = instance("FLOCK_PRESENCE_TTL_SECONDS", "2", "FLOCK_REDIS_SWEEP_INTERVAL_MS", "60000",
                "FLOCK_MAX_ROOM_SIZE", "2");
        Map<Integer, String> rooms = oneRoomPerMaster();
        Map<String, WsClient> watchers = new LinkedHashMap<>();
        for (Map.Entry<Integer, String> e : rooms.entrySet()) {
            String room = e.getValue();
            int master = e.getKey();
            // the room's keys and its channel share the members key's slot, on that master
            assertThat(cluster.slotOf(KEYS.presence(room, "alice"))).isEqualTo(cluster.slotOf(KEYS.members(room)));
            assertThat(cluster.slotOf(KEYS.channel(room))).isEqualTo(cluster.slotOf(KEYS.members(room)));
            WsClient watcher = client(a);
            watcher.joinAndAck(room, "watcher", meta("W"));
            WsClient alice = client(b);
            JsonObject ack = alice.joinAndAck(room, "alice", meta("A"));
            assertThat(userIds(ack)).containsExactly("watcher");
            watcher.await(is("user:joined", room, "alice"));
            alice.move(room, 0.25, 0.75);
            watcher.await(is("cursor:updated", room, "alice"));
            assertThat(cluster.command(master, "EXISTS", KEYS.presence(room, "alice"), KEYS.presence(room, "watcher"),
                    KEYS.members(room))).as("the keys of " + room + " on its master " + master).isEqualTo(3L);
            // the room limit holds on every master: a third user is refused
            WsClient carol = client(a);
            carol.join(room, "carol", meta("C"));
            assertThat(carol.await(m -> "error".equals(m.getString("type"))).getString("code")).isEqualTo("ROOM_FULL");
            watchers.put(room, watcher);
            watcher.heartbeat(room);
        }
        // every master has expired-key events, and each one's expiry reaches the watcher of its room
        for (int master : cluster.masterPorts()) {
            assertThat(String.valueOf(cluster.command(master, "CONFIG", "GET", "notify-keyspace-events")))
                    .as("keyspace events on " + master).contains("E").contains("x");
        }
        Thread keepAlive = new Thread(() -> { // the watchers stay alive while alice's presence expires
            for (int i = 0; i < 40 && !Thread.currentThread().isInterrupted(); i++) {
                try {
                    watchers.forEach((room, w) -> w.heartbeat(room));
                    Thread.sleep(300); // the SDK's heartbeat pace, not a wait for the system under test
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    return;
                }
            }
        });
        keepAlive.setDaemon(true);
        keepAlive.start();
        try {
            WsClient.await(b.stop()); // graceful: alice's presence is left to expire, in each room on its master
            watchers.forEach((room, w) -> w.await(is("user:left", room, "alice")));
        } finally {
            keepAlive.interrupt();
        }
        watchers.forEach((room, w) -> assertThat(w.count(is("user:left", room, "alice"))).isEqualTo(1));
    }

    /** Alice and Carol on instance a, Bob on b, all in {@code room}, each seeing the others. */
    private record Room(String id, FlockServer a, FlockServer b, WsClient alice, WsClient carol, WsClient bob) {
    }

    private Room threeUsers(String room) {
        FlockServer a = instance();
        FlockServer b = instance();
        WsClient alice = client(a);
        WsClient carol = client(a);
        WsClient bob = client(b);
        alice.joinAndAck(room, "alice", meta("A"));
        carol.joinAndAck(room, "carol", meta("C"));
        JsonObject ack = bob.joinAndAck(room, "bob", meta("B"));
        assertThat(userIds(ack)).containsExactlyInAnyOrder("alice", "carol");
        alice.await(is("user:joined", room, "bob"));
        return new Room(room, a, b, alice, carol, bob);
    }

    /** Bob keeps moving meanwhile (a bounded loop: at most 600 moves, 50 ms apart, and it stops with the test). */
    private Thread keepMoving(WsClient bob, String room, AtomicBoolean stop) {
        Thread mover = new Thread(() -> {
            for (int i = 0; i < 600 && !stop.get() && !bob.isClosed(); i++) {
                try {
                    bob.move(room, 0.1, (i % 100) / 100.0);
                    Thread.sleep(50); // the traffic's pace, not a wait for the system under test
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    return;
                }
            }
        }, "bob-moves");
        mover.setDaemon(true);
        mover.start();
        return mover;
    }

    private static void end(Thread mover, AtomicBoolean stop) {
        stop.set(true);
        try {
            mover.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Fan-out both ways, presence on the room's master now, a newcomer sees everyone, nobody shown leaving. */
    private void assertWorking(Room r, long sinceNanos, Duration fanOutWithin) {
        Fleet.awaitTrue("both bridges connected", Duration.ofSeconds(20),
                () -> r.a().redis().connected() && r.b().redis().connected());
        double marker = 0.987;
        Fleet.awaitTrue("fan-out from b to a", Duration.ofSeconds(20), () -> {
            r.bob().move(r.id(), marker, marker);
            return r.alice().count(m -> is("cursor:updated", r.id(), "bob").test(m)
                    && m.getJsonObject("position").getDouble("x") == marker) > 0;
        });
        Duration back = Duration.ofNanos(System.nanoTime() - sinceNanos);
        assertThat(back).as("fan-out back").isLessThan(fanOutWithin);
        r.carol().move(r.id(), 0.55, 0.55);
        r.bob().await(m -> is("cursor:updated", r.id(), "carol").test(m) && m.getJsonObject("position").getDouble("x") == 0.55);
        Fleet.awaitTrue("presence on the room's master", Duration.ofSeconds(10),
                () -> ((Long) cluster.commandFor(KEYS.members(r.id()), "EXISTS", KEYS.presence(r.id(), "alice"),
                        KEYS.presence(r.id(), "bob"), KEYS.presence(r.id(), "carol"))) == 3);
        JsonObject ack = client(instance()).joinAndAck(r.id(), "dave", meta("D"));
        assertThat(userIds(ack)).containsExactlyInAnyOrder("alice", "bob", "carol");
        r.alice().await(is("user:joined", r.id(), "dave"));
        r.bob().await(is("user:joined", r.id(), "dave"));
        for (WsClient c : List.of(r.alice(), r.carol(), r.bob())) {
            assertThat(c.count(is("user:left", r.id(), null))).as("nobody is shown leaving").isZero();
        }
    }

    @Test
    void masterKilledMidTraffic_replicaPromoted_noPresenceLost_nobodyLeft_fanOutBackWithin10s() {
        String room = "m";
        int master = cluster.ownerOf(KEYS.members(room));
        Room r = threeUsers(room);
        // the replica misses what its master had not yet sent it: here, everything (a replica refuses writes; this
        // one is told not to, and a FLUSHALL names no key a cluster would redirect). Only the instances can write the
        // room back.
        int replica = cluster.replicasOf(master).get(0);
        cluster.command(replica, "CONFIG", "SET", "replica-read-only", "no");
        cluster.command(replica, "FLUSHALL");
        assertThat(cluster.command(replica, "DBSIZE")).isEqualTo(0L);
        AtomicBoolean stop = new AtomicBoolean();
        Thread mover = keepMoving(r.bob(), room, stop);
        long killedAt = System.nanoTime();
        cluster.killMaster(master);
        try {
            Fleet.awaitTrue("the bridges see the master gone", Duration.ofSeconds(10),
                    () -> !r.a().redis().connected() && !r.b().redis().connected());
            r.carol().move(room, 0.3, 0.3); // local delivery never stops
            r.alice().await(m -> is("cursor:updated", room, "carol").test(m) && m.getJsonObject("position").getDouble("x") == 0.3);
            assertThat(cluster.awaitPromotion(master, Duration.ofSeconds(20))).isEqualTo(replica);
        } finally {
            end(mover, stop);
        }
        assertWorking(r, killedAt, Duration.ofSeconds(10));
        assertThat(String.valueOf(cluster.command(replica, "CONFIG", "GET", "notify-keyspace-events")))
                .as("keyspace events on the promoted master (CONFIG SET is not replicated)").contains("E").contains("x");
    }

    @Test
    void reshardingTheSlotOfLiveRooms_theRoomsKeepWorking_onTheirNewMaster() {
        String room = "m";
        int slot = cluster.slotOf(KEYS.members(room));
        int from = cluster.ownerOfSlot(slot);
        int to = cluster.masterPorts().stream().filter(p -> p != from).findFirst().orElseThrow();
        Room r = threeUsers(room);
        AtomicBoolean stop = new AtomicBoolean();
        Thread mover = keepMoving(r.bob(), room, stop);
        long movedAt = System.nanoTime();
        try {
            cluster.migrateSlot(slot, to);
        } finally {
            end(mover, stop);
        }
        assertThat(cluster.ownerOfSlot(slot)).isEqualTo(to);
        assertWorking(r, movedAt, Duration.ofSeconds(20));
        assertThat(cluster.command(to, "EXISTS", KEYS.members(room))).as("the room's keys moved with the slot").isEqualTo(1L);
    }
}
