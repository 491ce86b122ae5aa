package dev.flock.redis;

import dev.flock.FlockServer;
import dev.flock.support.ClusterSet;
import dev.flock.support.Fleet;
import dev.flock.support.WsClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.userIds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code rediss-cluster://} (issue 23): a Redis Cluster whose nodes Flock reaches over TLS only (the URL lists TLS
 * ports, and the nodes name their TLS ports to a TLS client), checked against the JVM's trust store with hostname
 * verification; its cluster bus and replication on TLS too. Rooms on every master work across instances.
 */
class ClusterTlsTest {

    private static final KeyLayout KEYS = KeyLayout.CLUSTER;
    private ClusterSet cluster;
    private Fleet fleet;

    @BeforeEach
    void setUp() {
        cluster = ClusterSet.startTls();
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

    @Test
    void rediss_cluster_tlsToEveryMaster_withTheJvmTrustStore_roomsOnEveryMasterWorkAcrossInstances() {
        assertThat(cluster.url()).startsWith("rediss-cluster://");
        Map<Integer, String> rooms = new LinkedHashMap<>();
        for (int i = 0; rooms.size() < 3 && i < 200; i++) {
            rooms.putIfAbsent(cluster.ownerOf(KEYS.members("t" + i)), "t" + i);
        }
        cluster.certificates().trusted(() -> {
            FlockServer a = fleet.instance();
            FlockServer b = fleet.instance();
            assertThat(a.redis().connected() && b.redis().connected()).as("both instances reached the cluster over TLS").isTrue();
            for (Map.Entry<Integer, String> e : rooms.entrySet()) {
                String room = e.getValue();
                WsClient alice = fleet.client(a);
                WsClient bob = fleet.client(b);
                alice.joinAndAck(room, "alice", new JsonObject().put("name", "A"));
                assertThat(userIds(bob.joinAndAck(room, "bob", new JsonObject().put("name", "B")))).containsExactly("alice");
                alice.await(is("user:joined", room, "bob"));
                bob.move(room, 0.5, 0.5);
                alice.await(is("cursor:updated", room, "bob"));
                alice.move(room, 0.25, 0.25);
                bob.await(is("cursor:updated", room, "alice"));
                assertThat(cluster.command(e.getKey(), "EXISTS", KEYS.presence(room, "alice"), KEYS.presence(room, "bob")))
                        .as(room + " on its master " + e.getKey()).isEqualTo(2L);
            }
        });
        assertThat(rooms.keySet()).containsExactlyInAnyOrderElementsOf(cluster.masterPorts());
    }
}
