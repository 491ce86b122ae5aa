package dev.flock.redis;

import dev.flock.support.ClusterSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The test support's Redis Cluster ({@link ClusterSet}) is what the cluster tests believe it is: three masters sharing
 * the slots, keys readable from their owner, a killed master's replica promoted with the data it had, and a slot moved
 * live with its keys.
 */
class ClusterSetTest {

    private ClusterSet cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void threeMastersShareTheRoomsSurviveAFailoverAndMoveASlot() {
        long t0 = System.nanoTime();
        cluster = ClusterSet.start();
        System.out.printf("ClusterSet.start() took %d ms%n", (System.nanoTime() - t0) / 1_000_000);

        List<Integer> masters = cluster.masterPorts();
        assertThat(masters).hasSize(3);
        assertThat(cluster.url()).startsWith("redis-cluster://127.0.0.1:");
        for (int m : masters) {
            assertThat(cluster.url()).contains("127.0.0.1:" + m);
            assertThat(cluster.usedCpuSeconds(m)).isPositive();
        }

        // ~30 room tags land on all three masters
        Set<Integer> owners = new HashSet<>();
        for (int i = 0; i < 30; i++) {
            String tag = i < 26 ? String.valueOf((char) ('a' + i)) : "a" + (char) ('a' + i - 26);
            String key = "flock:{" + tag + "}:x";
            assertThat(cluster.slotOf(key)).isEqualTo(cluster.slotOf("flock:{" + tag + "}:other"));
            owners.add(cluster.ownerOf(key));
        }
        assertThat(owners).containsExactlyInAnyOrderElementsOf(masters);

        // a write, replicated before the kill, survives the failover
        String key = "flock:{a}:x";
        List<Object> replies = cluster.pipelineFor(key, new String[]{"SET", key, "before"}, new String[]{"WAIT", "1", "1000"});
        assertThat(replies).containsExactly("OK", 1L);
        assertThat(cluster.commandFor(key, "GET", key)).isEqualTo("before");

        int dead = cluster.killMaster(cluster.ownerOf(key));
        long t1 = System.nanoTime();
        int promoted = cluster.awaitPromotion(dead, Duration.ofSeconds(20));
        System.out.printf("promotion took %d ms after the kill%n", (System.nanoTime() - t1) / 1_000_000);
        assertThat(promoted).isNotEqualTo(dead);
        assertThat(cluster.masterPorts()).hasSize(3).contains(promoted).doesNotContain(dead);
        assertThat(cluster.ownerOf(key)).isEqualTo(promoted);
        assertThat(cluster.command(promoted, "GET", key)).isEqualTo("before");

        // a slot with more keys than one GETKEYSINSLOT batch moves to another master, keys and all
        String tag = "{m}";
        int slot = cluster.slotOf("flock:" + tag + ":k0");
        int from = cluster.ownerOfSlot(slot);
        int to = cluster.masterPorts().stream().filter(p -> p != from).findFirst().orElseThrow();
        String[] mset = new String[1 + 2 * 150];
        mset[0] = "MSET";
        for (int i = 0; i < 150; i++) {
            mset[1 + 2 * i] = "flock:" + tag + ":k" + i;
            mset[2 + 2 * i] = "v" + i;
        }
        assertThat(cluster.command(from, mset)).isEqualTo("OK");
        long t2 = System.nanoTime();
        cluster.migrateSlot(slot, to);
        System.out.printf("migrating 150 keys took %d ms%n", (System.nanoTime() - t2) / 1_000_000);
        assertThat(cluster.ownerOf("flock:" + tag + ":k0")).isEqualTo(to);
        assertThat(cluster.command(to, "CLUSTER", "COUNTKEYSINSLOT", String.valueOf(slot))).isEqualTo(150L);
        assertThat(cluster.command(to, "GET", "flock:" + tag + ":k149")).isEqualTo("v149");
        assertThat(cluster.commandFor("flock:" + tag + ":k7", "GET", "flock:" + tag + ":k7")).isEqualTo("v7");
        assertThatThrownBy(() -> cluster.command(from, "GET", "flock:" + tag + ":k7")).hasMessageStartingWith("MOVED");
    }
}
