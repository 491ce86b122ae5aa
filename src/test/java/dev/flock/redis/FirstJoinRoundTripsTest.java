package dev.flock.redis;

import dev.flock.support.RedisExtension;
import dev.flock.support.RedisMonitor;
import dev.flock.support.TestCluster;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 22: a room's first join in Redis mode waits for two Redis round trips, the SUBSCRIBE and one script that
 * admits and reads the room's view (admit-first.lua), and a later join for one. Seen through Redis' own MONITOR feed,
 * which lists every command in the order Redis ran it.
 */
class FirstJoinRoundTripsTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();

    private Vertx vertx;
    private TestCluster cluster;
    private RedisMonitor monitor;
    private final List<WsClient> clients = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        vertx = Vertx.vertx();
        cluster = TestCluster.redis(vertx, REDIS.server(), 1);
        monitor = new RedisMonitor(REDIS.server());
    }

    @AfterEach
    void tearDown() throws IOException {
        clients.forEach(WsClient::close);
        monitor.close();
        cluster.close();
        WsClient.await(vertx.close());
    }

    @Test
    void firstJoin_isOneSubscribeAndOneScript_withNoScriptCacheMiss_andASecondJoinIsOneScript() throws Exception {
        String room = "rt-" + System.nanoTime();
        WsClient alice = client();
        alice.joinAndAck(room, "alice", new JsonObject().put("name", "A"));
        List<String> first = monitor.commandsUntilMarker(room);

        assertThat(first).as("Redis commands naming the room until alice's join:ack")
                .filteredOn(c -> !c.equals("PUBLISH")).containsExactly("SUBSCRIBE", "EVALSHA");
        assertThat(monitor.lastScriptSha()).as("the one script is admit-first.lua")
                .isEqualTo(Scripts.WITHOUT_EVENTS.admitFirst().sha());

        WsClient bob = client();
        JsonObject ack = bob.joinAndAck(room, "bob", new JsonObject().put("name", "B"));
        List<String> second = monitor.commandsUntilMarker(room);

        assertThat(second).as("Redis commands naming the room until bob's join:ack")
                .filteredOn(c -> !c.equals("PUBLISH")).containsExactly("EVALSHA");
        assertThat(monitor.lastScriptSha()).isEqualTo(Scripts.WITHOUT_EVENTS.admit().sha());
        assertThat(ack.getJsonArray("users").stream().map(u -> ((JsonObject) u).getString("userId")))
                .containsExactly("alice");
    }

    @Test
    void firstJoinOnASecondInstance_seesWhoIsThereFromTheSameScript() throws Exception {
        TestCluster two = TestCluster.redis(vertx, REDIS.server(), 2);
        try {
            String room = "rt2-" + System.nanoTime();
            WsClient alice = track(WsClient.connect(vertx, two.port(0)));
            alice.joinAndAck(room, "alice", new JsonObject().put("name", "A"));
            monitor.commandsUntilMarker(room);

            WsClient bob = track(WsClient.connect(vertx, two.port(1)));
            JsonObject ack = bob.joinAndAck(room, "bob", new JsonObject().put("name", "B"));

            assertThat(monitor.commandsUntilMarker(room)).filteredOn(c -> !c.equals("PUBLISH"))
                    .containsExactly("SUBSCRIBE", "EVALSHA");
            assertThat(ack.getJsonArray("users").stream().map(u -> ((JsonObject) u).getString("userId")))
                    .containsExactly("alice");
            alice.await(WsClient.is("user:joined", room, "bob"));
        } finally {
            two.close();
        }
    }

    private WsClient client() {
        return track(WsClient.connect(vertx, cluster.port(0)));
    }

    private WsClient track(WsClient c) {
        clients.add(c);
        return c;
    }
}
