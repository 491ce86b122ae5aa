package dev.flock.redis;

import dev.flock.support.RedisExtension;
import dev.flock.support.RedisServer;
import dev.flock.support.TestCluster;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

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
    private Monitor monitor;
    private final List<WsClient> clients = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        vertx = Vertx.vertx();
        cluster = TestCluster.redis(vertx, REDIS.server(), 1);
        monitor = new Monitor(REDIS.server());
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
        assertThat(monitor.lastScriptSha).as("the one script is admit-first.lua")
                .isEqualTo(Scripts.WITHOUT_EVENTS.admitFirst().sha());

        WsClient bob = client();
        JsonObject ack = bob.joinAndAck(room, "bob", new JsonObject().put("name", "B"));
        List<String> second = monitor.commandsUntilMarker(room);

        assertThat(second).as("Redis commands naming the room until bob's join:ack")
                .filteredOn(c -> !c.equals("PUBLISH")).containsExactly("EVALSHA");
        assertThat(monitor.lastScriptSha).isEqualTo(Scripts.WITHOUT_EVENTS.admit().sha());
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

    /** Redis' MONITOR feed, read on a thread of its own. */
    private static final class Monitor implements AutoCloseable {
        private final Socket socket;
        private final RedisServer redis;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final Thread reader;
        private int markers;
        String lastScriptSha;

        Monitor(RedisServer redis) throws IOException {
            this.redis = redis;
            socket = new Socket(InetAddress.getLoopbackAddress(), redis.port());
            socket.getOutputStream().write("MONITOR\r\n".getBytes(StandardCharsets.US_ASCII));
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("+OK");
            reader = new Thread(() -> {
                try {
                    for (String line; (line = in.readLine()) != null; ) {
                        lines.add(line);
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            }, "redis-monitor");
            reader.setDaemon(true);
            reader.start();
        }

        /**
         * The names of the commands that mention {@code room} since the previous call, up to a marker this sends now:
         * Redis feeds MONITOR in execution order, so every command the server ran before the marker is in.
         */
        List<String> commandsUntilMarker(String room) throws InterruptedException {
            String marker = "flock-test-marker-" + (++markers);
            redis.command("ECHO", marker);
            List<String> out = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                String line = lines.poll(100, TimeUnit.MILLISECONDS);
                if (line == null) {
                    continue;
                }
                if (line.contains("\"" + marker + "\"")) {
                    return out;
                }
                // "[0 lua]": a command a script ran, not one a client sent
                if (line.contains(room) && !line.contains(" lua]")) {
                    List<String> args = quoted(line);
                    String name = args.get(0).toUpperCase(java.util.Locale.ROOT);
                    out.add(name);
                    if (name.startsWith("EVAL")) {
                        lastScriptSha = args.get(1);
                    }
                }
            }
            throw new AssertionError("no MONITOR marker within 10 s; saw " + out);
        }

        /** The quoted arguments of a MONITOR line ({@code +ts [db addr] "CMD" "arg" ...}); escapes are kept as they are. */
        private static List<String> quoted(String line) {
            List<String> args = new ArrayList<>();
            int i = line.indexOf('"');
            while (i >= 0 && i < line.length()) {
                int j = i + 1;
                while (j < line.length() && line.charAt(j) != '"') {
                    j += line.charAt(j) == '\\' ? 2 : 1;
                }
                args.add(line.substring(i + 1, Math.min(j, line.length())));
                i = line.indexOf('"', j + 1);
            }
            return args;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
