package dev.flock.redis;

import dev.flock.FlockServer;
import dev.flock.support.Fleet;
import dev.flock.support.JarProcess;
import dev.flock.support.SentinelSet;
import dev.flock.support.TestServers;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.userIds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sentinel mode (issue 23) against a real deployment of redis-server processes: a primary, a replica and three
 * sentinels. A failover, whether the primary is killed or an operator asks for one, keeps the promises of a Redis
 * restart: no presence lost, nobody shown leaving, fan-out back (here within 10 s of the kill).
 */
class SentinelFailoverTest {

    private final List<Vertx> vertxes = new ArrayList<>();
    private final List<FlockServer> servers = new ArrayList<>();
    private final List<WsClient> clients = new ArrayList<>();
    private SentinelSet sentinels;
    private Vertx clientVertx;

    @BeforeEach
    void setUp() {
        clientVertx = Vertx.vertx();
    }

    @AfterEach
    void tearDown() {
        clients.forEach(WsClient::close);
        for (FlockServer s : servers) {
            try {
                WsClient.await(s.stop(true));
            } catch (RuntimeException ignored) {
                // stopped by the test already
            }
        }
        vertxes.forEach(v -> WsClient.await(v.close()));
        WsClient.await(clientVertx.close());
        if (sentinels != null) {
            sentinels.close();
        }
    }

    private FlockServer instance(String url) {
        Vertx v = Vertx.vertx();
        vertxes.add(v);
        FlockServer s = TestServers.startOnRedis(v, url, "FLOCK_MAX_MESSAGES_PER_SECOND", "100000");
        servers.add(s);
        return s;
    }

    private WsClient client(FlockServer server) {
        WsClient c = WsClient.connect(clientVertx, server.port());
        clients.add(c);
        return c;
    }

    private static JsonObject meta(String name) {
        return new JsonObject().put("name", name);
    }


    private static HttpResponse<String> get(int port, String path) {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Alice and Carol on instance a, Bob on b, all in room {@code m}, each seeing the others. */
    private record Room(FlockServer a, FlockServer b, WsClient alice, WsClient carol, WsClient bob) {
    }

    private Room threeUsers() {
        FlockServer a = instance(sentinels.url());
        FlockServer b = instance(sentinels.url());
        WsClient alice = client(a);
        WsClient carol = client(a);
        WsClient bob = client(b);
        alice.joinAndAck("m", "alice", meta("A"));
        carol.joinAndAck("m", "carol", meta("C"));
        JsonObject ack = bob.joinAndAck("m", "bob", meta("B"));
        assertThat(userIds(ack)).containsExactlyInAnyOrder("alice", "carol");
        alice.await(is("user:joined", "m", "bob"));
        return new Room(a, b, alice, carol, bob);
    }

    /** Stops the background mover and waits for it, so that only the test's thread uses the client afterwards. */
    private record Mover(AtomicBoolean stop, Thread thread) {
        void end() {
            stop.set(true);
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Bob keeps moving while Redis fails over (a bounded loop: at most 600 moves, 50 ms apart, and it stops with
     * the test).
     */
    private Mover keepMoving(WsClient bob) {
        AtomicBoolean stop = new AtomicBoolean();
        Thread mover = new Thread(() -> {
            for (int i = 0; i < 600 && !stop.get() && !bob.isClosed(); i++) {
                try {
                    bob.move("m", 0.1, (i % 100) / 100.0);
                    Thread.sleep(50); // the traffic's pace, not a wait for the system under test
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    return; // closed meanwhile
                }
            }
        }, "bob-moves");
        mover.setDaemon(true);
        mover.start();
        return new Mover(stop, mover);
    }

    private static double reconnects(FlockServer s) {
        io.micrometer.core.instrument.Counter c = s.metrics().registry().find("flock.redis.reconnects").counter();
        return c == null ? 0 : c.count();
    }

    /** After a failover: both bridges back, presence on the new primary, fan-out both ways, nobody shown leaving. */
    private void assertRecovered(Room r, long sinceNanos, Duration fanOutWithin) {
        Fleet.awaitTrue("both bridges reconnected to the new primary", Duration.ofSeconds(20),
                () -> r.a().redis().connected() && r.b().redis().connected());
        // Bob's moves cross instances again: the first one that reaches Alice after the failover
        double marker = 0.987;
        Fleet.awaitTrue("fan-out from b to a is back", Duration.ofSeconds(20), () -> {
            r.bob().move("m", marker, marker);
            return r.alice().count(m -> is("cursor:updated", "m", "bob").test(m)
                    && m.getJsonObject("position").getDouble("x") == marker) > 0;
        });
        Duration back = Duration.ofNanos(System.nanoTime() - sinceNanos);
        assertThat(back).as("fan-out back after the failover").isLessThan(fanOutWithin);
        r.carol().move("m", 0.55, 0.55);
        r.bob().await(m -> is("cursor:updated", "m", "carol").test(m) && m.getJsonObject("position").getDouble("x") == 0.55);
        Fleet.awaitTrue("presence re-written on the new primary", Duration.ofSeconds(10),
                () -> ((Long) sentinels.primary("EXISTS", "flock:presence:m:alice", "flock:presence:m:bob",
                        "flock:presence:m:carol")) == 3);
        assertThat(get(r.a().port(), "/ready").statusCode()).isEqualTo(200);
        // CONFIG SET is not replicated: the promoted node has expired-key events only if the instances re-applied them
        assertThat(String.valueOf(sentinels.primary("CONFIG", "GET", "notify-keyspace-events")))
                .as("keyspace events on the new primary").contains("E").contains("x");
        JsonObject ack = client(instance(sentinels.url())).joinAndAck("m", "dave", meta("D"));
        assertThat(userIds(ack)).containsExactlyInAnyOrder("alice", "bob", "carol");
        r.alice().await(is("user:joined", "m", "dave"));
        r.bob().await(is("user:joined", "m", "dave"));
        for (WsClient c : List.of(r.alice(), r.carol(), r.bob())) {
            assertThat(c.count(is("user:left", "m", null))).as("nobody is shown leaving").isZero();
        }
    }

    @Test
    void primaryKilledMidTraffic_replicaPromoted_noPresenceLost_nobodyLeft_fanOutBackWithin10s() {
        sentinels = SentinelSet.start();
        Room r = threeUsers();
        // the replica misses what the primary had not yet sent it: here, every presence hash (a replica normally
        // refuses writes; this one is told not to, to lose them on purpose). Only the instances can write them back.
        int replica = sentinels.replicaPort();
        sentinels.command(replica, "CONFIG", "SET", "replica-read-only", "no");
        sentinels.command(replica, "DEL", "flock:presence:m:alice", "flock:presence:m:bob", "flock:presence:m:carol");
        assertThat((Long) sentinels.command(replica, "EXISTS", "flock:presence:m:alice", "flock:presence:m:bob",
                "flock:presence:m:carol")).isZero();
        Mover mover = keepMoving(r.bob());
        long killedAt = System.nanoTime();
        int old = sentinels.killPrimary();
        try {
            Fleet.awaitTrue("the bridges see the primary gone", Duration.ofSeconds(10),
                    () -> !r.a().redis().connected() && !r.b().redis().connected());
            r.carol().move("m", 0.3, 0.3); // local delivery never stops
            r.alice().await(m -> is("cursor:updated", "m", "carol").test(m) && m.getJsonObject("position").getDouble("x") == 0.3);
            assertThat(sentinels.awaitPromotion(old, Duration.ofSeconds(20))).isEqualTo(replica);
        } finally {
            mover.end();
        }
        assertRecovered(r, killedAt, Duration.ofSeconds(10));
    }

    @Test
    void operatorFailover_oldPrimaryDemoted_everyInstanceFollowsThePromotedOne() {
        sentinels = SentinelSet.start();
        operatorFailoverKeepsThePromises();
    }

    /**
     * An operator's failover: the old primary runs on as a primary for some seconds, so the instances must leave it
     * when the sentinels announce the switch (+switch-master), not when it is demoted.
     */
    private void operatorFailoverKeepsThePromises() {
        Room r = threeUsers();
        Mover mover = keepMoving(r.bob());
        int old = sentinels.primaryPort();
        long askedAt = System.nanoTime();
        try {
            sentinels.failover();
            sentinels.awaitPromotion(old, Duration.ofSeconds(20));
            // the sentinels demote the old primary some seconds later (they first wait for it to report itself): both
            // instances must have left it before that, told by +switch-master, not by the demotion
            Fleet.awaitTrue("both instances reconnected", Duration.ofSeconds(5),
                    () -> reconnects(r.a()) >= 1 && reconnects(r.b()) >= 1);
            assertThat(((List<?>) sentinels.command(old, "ROLE")).get(0)).as("the old primary, when both had left it")
                    .isEqualTo("master");
        } finally {
            mover.end();
        }
        // the old primary still runs, and the sentinels make it a replica only seconds later: the instances must not
        // wait for that (they follow the sentinels' +switch-master)
        assertRecovered(r, askedAt, Duration.ofSeconds(10));
        Fleet.awaitTrue("the old primary became a replica", Duration.ofSeconds(30),
                () -> "slave".equals(((List<?>) sentinels.command(old, "ROLE")).get(0)));
        r.bob().move("m", 0.77, 0.77);
        r.alice().await(m -> is("cursor:updated", "m", "bob").test(m) && m.getJsonObject("position").getDouble("x") == 0.77);
    }

    @Test
    void rediss_sentinel_tlsToSentinelsAndPrimary_withTheJvmTrustStore_andTheWatchFollowsAFailoverOnTls() {
        sentinels = SentinelSet.startTls();
        assertThat(sentinels.url()).startsWith("rediss-sentinel://");
        // every port Flock is given, or told of by the sentinels, speaks TLS only; the failover is an operator's, so
        // the instances can only have left the old primary in time through the watch, also on TLS
        sentinels.certificates().trusted(this::operatorFailoverKeepsThePromises);
    }

    @Test
    void passwordOnEveryNode_theUrlsPasswordAuthenticatesToSentinelsAndPrimary() {
        sentinels = SentinelSet.start("s3ntinel-Pw");
        Room r = threeUsers(); // the cross-instance join proves both instances reached the primary
        r.bob().move("m", 0.4, 0.4);
        r.alice().await(m -> is("cursor:updated", "m", "bob").test(m) && m.getJsonObject("position").getDouble("x") == 0.4);
        assertThat((Long) sentinels.primary("EXISTS", "flock:presence:m:alice", "flock:presence:m:bob")).isEqualTo(2);
    }

    @Test
    void aSentinelThatAcceptsButNeverAnswers_listedFirst_delaysTheFirstConnectOnly() throws Exception {
        sentinels = SentinelSet.start();
        try (java.net.ServerSocket blackHole = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            List<java.net.Socket> held = new java.util.concurrent.CopyOnWriteArrayList<>();
            Thread acceptor = new Thread(() -> {
                while (!blackHole.isClosed()) {
                    try {
                        held.add(blackHole.accept()); // accepted, never answered
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            }, "black-hole");
            acceptor.setDaemon(true);
            acceptor.start();
            String url = sentinels.url().replace("redis-sentinel://", "redis-sentinel://127.0.0.1:" + blackHole.getLocalPort() + ",");
            FlockServer a = instance(url);
            // the first attempt waits for the silent sentinel (3 x 2 s + 3 s at most); the next starts at another one
            Fleet.awaitTrue("connected through the other sentinels", Duration.ofSeconds(20), () -> a.redis().connected());
            client(a).joinAndAck("bh", "alice", meta("A"));
            assertThat((Long) sentinels.primary("EXISTS", "flock:presence:bh:alice")).isEqualTo(1);
            for (java.net.Socket socket : held) {
                socket.close();
            }
        }
    }

    @Test
    void noSentinelReachable_startsDegraded_readyNamesTheCause_localRoomsWork() {
        String url = "redis-sentinel://127.0.0.1:" + JarProcess.freePort() + ",127.0.0.1:" + JarProcess.freePort() + "/mymaster";
        FlockServer a = instance(url);
        HttpResponse<String> ready = get(a.port(), "/ready");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.body()).contains("redis: unavailable");
        WsClient alice = client(a);
        WsClient bob = client(a);
        alice.joinAndAck("solo", "alice", meta("A"));
        bob.joinAndAck("solo", "bob", meta("B"));
        alice.await(is("user:joined", "solo", "bob"));
    }
}
