package dev.flock.redis;

import dev.flock.support.ClusterSet;
import dev.flock.support.Fleet;
import dev.flock.support.JarProcess;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.flock.support.WsClient.is;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Cluster mode (issue 23) with separate OS processes from the built jar, as an operator runs them: one is killed with
 * -9, and its users disappear for the others in rooms on every master (expired-key events on each), and the rooms only
 * it showed are pruned from every master by the survivors' SCAN walk (a cluster has no room index).
 */
class ClusterJarIT {

    private static final int TTL_SECONDS = 2;
    private static final KeyLayout KEYS = KeyLayout.CLUSTER;
    private ClusterSet cluster;
    private final List<JarProcess> processes = new ArrayList<>();
    private final List<WsClient> clients = new ArrayList<>();
    private Vertx vertx;

    @BeforeEach
    void setUp() {
        cluster = ClusterSet.start();
        vertx = Vertx.vertx();
    }

    @AfterEach
    void tearDown() {
        clients.forEach(WsClient::close);
        processes.forEach(JarProcess::close);
        if (vertx != null) {
            WsClient.await(vertx.close());
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private JarProcess instance() throws Exception {
        JarProcess p = JarProcess.start(Map.of("FLOCK_REDIS_URL", cluster.url(),
                "FLOCK_PRESENCE_TTL_SECONDS", String.valueOf(TTL_SECONDS), "FLOCK_HEARTBEAT_INTERVAL_MS", "500",
                "FLOCK_REDIS_SWEEP_INTERVAL_MS", "500"));
        processes.add(p);
        return p;
    }

    private WsClient client(JarProcess p) {
        WsClient c = WsClient.connect(vertx, p.port);
        clients.add(c);
        return c;
    }

    /** Two room ids per master: one both instances show, one only the doomed instance shows. */
    private Map<Integer, String[]> roomsPerMaster() {
        Map<Integer, String[]> rooms = new LinkedHashMap<>();
        for (int i = 0; i < 400 && (rooms.size() < 3 || rooms.values().stream().anyMatch(r -> r[1] == null)); i++) {
            String room = "r" + i;
            String[] pair = rooms.computeIfAbsent(cluster.ownerOf(KEYS.members(room)), k -> new String[2]);
            if (pair[0] == null) {
                pair[0] = room;
            } else if (pair[1] == null) {
                pair[1] = room;
            }
        }
        assertThat(rooms.keySet()).containsExactlyInAnyOrderElementsOf(cluster.masterPorts());
        assertThat(rooms.values()).allMatch(r -> r[1] != null);
        return rooms;
    }

    @Test
    void killedInstance_itsUsersDisappearOnEveryMaster_withinTtlPlus5s_andItsOwnRoomsArePruned() throws Exception {
        JarProcess a = instance();
        JarProcess b = instance();
        Map<Integer, String[]> rooms = roomsPerMaster();
        List<WsClient> watchers = new ArrayList<>();
        for (String[] pair : rooms.values()) {
            WsClient watcher = client(a);
            watcher.joinAndAck(pair[0], "watcher", new JsonObject().put("name", "W"));
            WsClient alice = client(b);
            alice.joinAndAck(pair[0], "alice", new JsonObject().put("name", "Alice"));
            alice.joinAndAck(pair[1], "alice", new JsonObject().put("name", "Alice")); // a room only b shows
            watcher.await(is("user:joined", pair[0], "alice"));
            watchers.add(watcher);
        }
        long killedAt = System.nanoTime();
        b.kill(); // SIGKILL: no shutdown hook, no clean leave
        Thread heartbeat = new Thread(() -> { // the watchers stay alive meanwhile (a bounded loop)
            List<String[]> pairs = new ArrayList<>(rooms.values());
            for (int n = 0; n < 60 && !Thread.currentThread().isInterrupted(); n++) {
                try {
                    for (int i = 0; i < watchers.size(); i++) {
                        watchers.get(i).heartbeat(pairs.get(i)[0]);
                    }
                    Thread.sleep(500); // the SDK's heartbeat pace, not a wait for the system under test
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    return;
                }
            }
        });
        heartbeat.setDaemon(true);
        heartbeat.start();
        try {
            int i = 0;
            for (String[] pair : rooms.values()) {
                watchers.get(i++).await(is("user:left", pair[0], "alice"));
            }
            long tookMs = (System.nanoTime() - killedAt) / 1_000_000;
            assertThat(tookMs).as("user:left after kill -9").isLessThanOrEqualTo(TTL_SECONDS * 1000L + 5000L);
            for (Map.Entry<Integer, String[]> e : rooms.entrySet()) {
                String alone = e.getValue()[1];
                Fleet.awaitTrue("room " + alone + " pruned on " + e.getKey(), Duration.ofSeconds(TTL_SECONDS + 5),
                        () -> ((List<?>) cluster.command(e.getKey(), "KEYS", "flock:{" + alone + "}:*")).isEmpty());
            }
        } finally {
            heartbeat.interrupt();
        }
        int i = 0;
        for (String[] pair : rooms.values()) {
            assertThat(watchers.get(i++).count(is("user:left", pair[0], "alice"))).isEqualTo(1);
        }
    }
}
