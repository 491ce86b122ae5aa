package dev.flock.redis;

import dev.flock.support.Fleet;
import dev.flock.support.JarProcess;
import dev.flock.support.RedisServer;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.flock.support.WsClient.is;
import static org.assertj.core.api.Assertions.assertThat;

/** Separate OS processes from the built jar on one Redis, as an operator runs them; one is killed with -9. */
class RedisJarIT {

    private static final int TTL_SECONDS = 2;

    private RedisServer redis;
    private final List<JarProcess> processes = new ArrayList<>();
    private final List<WsClient> clients = new ArrayList<>();
    private Vertx vertx;

    @BeforeEach
    void setUp() {
        redis = RedisServer.builder().build();
        redis.start();
        vertx = Vertx.vertx();
    }

    @AfterEach
    void tearDown() {
        clients.forEach(WsClient::close);
        processes.forEach(JarProcess::close);
        WsClient.await(vertx.close());
        redis.close();
    }

    private JarProcess instance() throws Exception {
        JarProcess p = JarProcess.start(Map.of("FLOCK_REDIS_URL", redis.url(),
                "FLOCK_PRESENCE_TTL_SECONDS", String.valueOf(TTL_SECONDS), "FLOCK_HEARTBEAT_INTERVAL_MS", "500"));
        processes.add(p);
        return p;
    }

    private WsClient client(JarProcess p) {
        WsClient c = WsClient.connect(vertx, p.port);
        clients.add(c);
        return c;
    }

    @Test
    void killedInstance_itsUsersDisappearForTheOthers_withinTtlPlus5s() throws Exception {
        JarProcess a = instance();
        JarProcess b = instance();
        JarProcess c = instance();
        WsClient watcherA = client(a);
        WsClient watcherC = client(c);
        watcherA.joinAndAck("doc", "wa", new JsonObject().put("name", "WA"));
        watcherC.joinAndAck("doc", "wc", new JsonObject().put("name", "WC"));
        WsClient alice = client(b);
        JsonObject ack = alice.joinAndAck("doc", "alice", new JsonObject().put("name", "Alice"));
        alice.joinAndAck("alone", "alice", new JsonObject().put("name", "Alice")); // a room only b shows
        assertThat(ack.getJsonArray("users").size()).isEqualTo(2);
        watcherA.await(is("user:joined", "doc", "alice"));
        watcherC.await(is("user:joined", "doc", "alice"));
        alice.move("doc", 0.5, 0.5);
        watcherA.await(is("cursor:updated", "doc", "alice"));
        watcherC.await(is("cursor:updated", "doc", "alice"));

        long killedAt = System.nanoTime();
        b.kill(); // SIGKILL: no shutdown hook, no clean leave
        Thread heartbeat = new Thread(() -> { // the watchers stay alive meanwhile
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    watcherA.heartbeat("doc");
                    watcherC.heartbeat("doc");
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    return;
                }
            }
        });
        heartbeat.start();
        try {
            watcherA.await(is("user:left", "doc", "alice"));
            watcherC.await(is("user:left", "doc", "alice"));
        } finally {
            heartbeat.interrupt();
        }
        long tookMs = (System.nanoTime() - killedAt) / 1_000_000;
        assertThat(tookMs).as("user:left after kill -9").isLessThanOrEqualTo(TTL_SECONDS * 1000L + 5000L);
        // nobody shows the room b alone had, yet a survivor prunes it: no members set (nor any other key) is left
        Fleet.awaitTrue("room 'alone' pruned", Duration.ofSeconds(TTL_SECONDS + 5),
                () -> ((List<?>) redis.command("KEYS", "flock:*:alone*")).isEmpty());
        long prunedMs = (System.nanoTime() - killedAt) / 1_000_000;
        assertThat(redis.command("ZSCORE", Keys.ROOM_INDEX, "alone")).isNull();
        assertThat(watcherA.count(is("user:left", "doc", "alice"))).isEqualTo(1);
        assertThat(watcherC.count(is("user:left", "doc", "alice"))).isEqualTo(1);
        assertThat(watcherA.count(is("user:left", "doc", "wc"))).isZero();
        System.out.println("kill -9 -> user:left after " + tookMs + " ms, room 'alone' pruned after " + prunedMs
                + " ms (TTL " + TTL_SECONDS + " s)");
    }

    /**
     * Issue 21 item 5: a Compose service name with '_' (which java.net.URI, and so the Redis client, refuses) is
     * resolved by Flock and connects. The JVM's hosts file stands in for Compose's DNS.
     */
    @Test
    void hostWithUnderscore_asComposeNamesServices_connects(@TempDir Path dir) throws Exception {
        Path hosts = dir.resolve("hosts");
        Files.writeString(hosts, "127.0.0.1 my_redis\n");
        JarProcess p = JarProcess.start(Map.of("FLOCK_REDIS_URL", "redis://my_redis:" + redis.port() + "/3",
                "JAVA_TOOL_OPTIONS", "-Djdk.net.hosts.file=" + hosts));
        processes.add(p);
        Fleet.awaitTrue("/ready 200", Duration.ofSeconds(10), () -> readyStatus(p.port) == 200);
        client(p).joinAndAck("r", "alice", new JsonObject().put("name", "Alice"));
        assertThat(redis.commandIn(3, "EXISTS", "flock:presence:r:alice")).isEqualTo(1L);
        assertThat(p.output()).contains("Redis connected db=3");
    }

    @Test
    void sigterm_inRedisMode_stopsCleanly_reachableRedisOrNot() throws Exception {
        JarProcess up = instance();
        Fleet.awaitTrue("/ready 200", Duration.ofSeconds(10), () -> readyStatus(up.port) == 200);
        JarProcess down = JarProcess.start(Map.of("FLOCK_REDIS_URL", "redis://127.0.0.1:" + JarProcess.freePort()));
        processes.add(down);
        for (JarProcess p : List.of(up, down)) {
            // the shutdown's last step must be seen: a stop chained on a context Vert.x's close ended hung to the timeout
            assertThat(p.terminate(15_000)).isTrue();
            assertThat(p.output()).contains("\"message\":\"stopped\"").doesNotContain("shutdown timed out");
        }
    }

    private static int readyStatus(int port) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/ready").toURL().openConnection();
            c.setConnectTimeout(1000);
            c.setReadTimeout(1000);
            return c.getResponseCode();
        } catch (IOException e) {
            return -1;
        }
    }
}
