package dev.flock.webhook;

import dev.flock.FlockServer;
import dev.flock.redis.Keys;
import dev.flock.support.WebhookReceiver;
import dev.flock.support.Fleet;
import dev.flock.support.JarProcess;
import dev.flock.support.RedisServer;
import dev.flock.support.TestServers;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The delivering instance dies (kill -9) while the receiver is down: the built jar (instance A, started first, so it
 * holds the lease) records events and fails to deliver them; once it is gone and the receiver is back, the surviving
 * in-process instance B takes the lease over and delivers every event A recorded, under the ids A had tried.
 */
class WebhookCrashIT {

    private static final String SECRET = "a-webhook-secret-of-32-bytes-ok!";
    private static final Duration WAIT = Duration.ofSeconds(15);

    private RedisServer redis;
    private WebhookReceiver receiver;
    private JarProcess a;
    private Vertx vertxB;
    private FlockServer b;
    private Vertx clients;
    private final List<WsClient> sockets = new ArrayList<>();

    @BeforeEach
    void setUp() {
        redis = RedisServer.builder().build();
        redis.start();
        receiver = WebhookReceiver.start(SECRET);
        clients = Vertx.vertx();
    }

    @AfterEach
    void tearDown() {
        sockets.forEach(WsClient::close);
        if (a != null) {
            a.close();
        }
        if (b != null) {
            try {
                WsClient.await(b.stop(true));
            } catch (RuntimeException ignored) {
                // stopped already
            }
        }
        if (vertxB != null) {
            WsClient.await(vertxB.close());
        }
        WsClient.await(clients.close());
        receiver.close();
        redis.close();
    }

    private Map<String, String> env() {
        return Map.of("FLOCK_REDIS_URL", redis.url(), "FLOCK_WEBHOOK_URL", receiver.url(), "FLOCK_WEBHOOK_SECRET", SECRET,
                "FLOCK_WEBHOOK_LEADER_LEASE_MS", "1000", "FLOCK_WEBHOOK_BATCH_MS", "50");
    }

    private WsClient client(int port) {
        WsClient c = WsClient.connect(clients, port);
        sockets.add(c);
        return c;
    }

    private static JsonObject meta(String name) {
        return new JsonObject().put("name", name);
    }

    /** The event ids of the outbox stream, as the deliverer names them. */
    @SuppressWarnings("unchecked")
    private List<String> recordedIds() {
        List<String> ids = new ArrayList<>();
        for (Object entry : (List<Object>) redis.command("XRANGE", Keys.WEBHOOKS, "-", "+")) {
            ids.add("evt_" + ((List<Object>) entry).get(0));
        }
        return ids;
    }

    private static Set<String> ids(List<WebhookReceiver.Request> requests) {
        Set<String> ids = new LinkedHashSet<>();
        requests.forEach(r -> r.events().forEach(e -> ids.add(e.getString("id"))));
        return ids;
    }

    @Test
    void theDeliveringJarKilledWhileTheReceiverIsDown_theSurvivorDeliversEveryEventItRecorded_underTheSameIds()
            throws Exception {
        receiver.failAll(500);
        a = JarProcess.start(env());
        Fleet.awaitTrue("the jar takes the webhook lease", WAIT, () -> redis.command("GET", Keys.WEBHOOKS_LEADER) != null);
        String leaderA = String.valueOf(redis.command("GET", Keys.WEBHOOKS_LEADER));
        vertxB = Vertx.vertx();
        Map<String, String> envB = env();
        List<String> pairs = new ArrayList<>();
        envB.forEach((k, v) -> {
            if (!k.equals("FLOCK_REDIS_URL")) {
                pairs.add(k);
                pairs.add(v);
            }
        });
        b = TestServers.startOnRedis(vertxB, redis.url(), pairs.toArray(String[]::new));
        assertThat(b.webhooks().leading()).as("the jar holds the lease, B waits").isFalse();

        WsClient alice = client(a.port);
        WsClient bob = client(a.port);
        WsClient carol = client(a.port);
        alice.joinAndAck("r1", "alice", meta("Alice"));
        bob.joinAndAck("r1", "bob", meta("Bob"));
        carol.joinAndAck("r2", "carol", meta("Carol"));
        alice.leave("r1");
        Fleet.awaitTrue("A recorded 6 events", WAIT, () -> recordedIds().size() == 6);
        List<String> recorded = recordedIds();
        // A tries, and tries again: the receiver is down
        Fleet.awaitTrue("the receiver refused A at least twice", WAIT, () -> receiver.requests().size() >= 2);

        a.process().destroyForcibly(); // SIGKILL: no shutdown, no ack, the lease left to run out
        assertThat(a.process().waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        List<WebhookReceiver.Request> triedByA = receiver.requests();
        assertThat(triedByA).allMatch(r -> r.status() == 500);
        Set<String> idsTriedByA = ids(triedByA);
        assertThat(idsTriedByA).isNotEmpty();
        assertThat(recorded).containsAll(idsTriedByA);
        receiver.recover();

        long killedAt = System.nanoTime();
        Fleet.awaitTrue("B delivers every event A recorded; received " + receiver.requests().size() + " requests", WAIT,
                () -> ids(receiver.accepted()).containsAll(recorded));
        long tookMs = (System.nanoTime() - killedAt) / 1_000_000;

        assertThat(b.webhooks().leading()).isTrue();
        assertThat(redis.command("GET", Keys.WEBHOOKS_LEADER)).isNotEqualTo(leaderA);
        List<String> delivered = receiver.acceptedEvents().stream().map(e -> e.getString("id")).toList();
        assertThat(delivered).as("each once, in the order recorded").containsExactlyElementsOf(recorded);
        assertThat(delivered).containsAll(idsTriedByA);
        assertThat(receiver.acceptedEvents().stream().map(e -> e.getString("type") + " " + e.getString("roomId")
                + (e.getString("userId") == null ? "" : " " + e.getString("userId"))).toList()).containsExactly(
                "room.occupied r1", "user.joined r1 alice", "user.joined r1 bob", "room.occupied r2",
                "user.joined r2 carol", "user.left r1 alice");
        System.out.println("kill -9 of the delivering jar -> " + recorded.size() + " events delivered by the survivor after "
                + tookMs + " ms (lease 1000 ms); A had tried " + triedByA.size() + " times");
    }
}
