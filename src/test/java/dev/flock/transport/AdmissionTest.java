package dev.flock.transport;

import dev.flock.FlockServer;
import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import dev.flock.metrics.MetricsEndpoint;
import dev.flock.support.Fleet;
import dev.flock.support.RawHttp;
import dev.flock.support.RawWebSocket;
import dev.flock.support.TestServers;
import dev.flock.support.VirtualClock;
import dev.flock.support.WsClient;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Admission control at the upgrade: beyond {@code FLOCK_MAX_CONNECTIONS}, beyond {@code FLOCK_MAX_CONNECTIONS_PER_IP}
 * from one client address (X-Forwarded-For's right-most entry only with {@code FLOCK_TRUST_PROXY}), and while memory
 * is above {@code FLOCK_MEMORY_HIGH_WATER_PERCENT}, an upgrade gets HTTP 503 with {@code Retry-After} before a socket
 * exists; open sockets are never dropped for it.
 */
@ExtendWith(VertxExtension.class)
class AdmissionTest {

    private final VirtualClock clock = new VirtualClock();
    private final List<RawWebSocket> sockets = new ArrayList<>();
    private FlockServer server;

    @AfterEach
    void stop() {
        sockets.forEach(RawWebSocket::close);
    }

    private void start(Vertx vertx, String... env) {
        server = TestServers.start(vertx, clock, env);
    }

    private RawWebSocket.Handshake upgrade(String localAddress, Map<String, String> headers) {
        RawWebSocket.Handshake h = RawWebSocket.handshake(localAddress, server.port(), "/", headers);
        if (h.socket() != null) {
            sockets.add(h.socket());
        }
        return h;
    }

    /** An admitted socket from {@code localAddress} that has joined a room. */
    private RawWebSocket admitted(String localAddress, Map<String, String> headers, String userId) {
        RawWebSocket.Handshake h = upgrade(localAddress, headers);
        assertThat(h.socket()).as("admitted: %s", h.response()).isNotNull();
        h.socket().joinAndAck("r", userId);
        return h.socket();
    }

    private RawWebSocket admitted(String userId) {
        return admitted(null, Map.of(), userId);
    }

    /** 503 with a Retry-After of whole seconds, and no socket. */
    private static void assertRefused(RawWebSocket.Handshake h) {
        assertThat(h.socket()).as("refused, but the upgrade was admitted: %s", h.response()).isNull();
        assertThat(h.response().status()).as("%s", h.response()).isEqualTo(503);
        String retryAfter = h.response().header("retry-after");
        assertThat(retryAfter).as("Retry-After").isNotNull().matches("[0-9]+");
        assertThat(Long.parseLong(retryAfter)).isPositive();
    }

    private static Map<String, String> forwardedFor(String value) {
        return Map.of("X-Forwarded-For", value);
    }

    private void assertHealth() {
        assertThat(RawHttp.get(server.port(), "/health").status()).isEqualTo(200);
    }

    /** Polls upgrades until one is admitted: the server learns of a close asynchronously. */
    private RawWebSocket admittedOnceFreed(String localAddress, String userId) {
        RawWebSocket[] got = new RawWebSocket[1];
        Fleet.awaitTrue("an upgrade admitted again", WsClient.TIMEOUT, () -> {
            RawWebSocket.Handshake h = upgrade(localAddress, Map.of());
            if (h.socket() == null) {
                assertRefused(h);
                return false;
            }
            got[0] = h.socket();
            return true;
        });
        got[0].joinAndAck("r", userId);
        return got[0];
    }

    // ---- FLOCK_MAX_CONNECTIONS --------------------------------------------------------------------------------

    @Test
    void beyondMaxConnections_anUpgradeGets503WithRetryAfter_theOpenOnesStay_andAClosedOneFreesASeat(Vertx vertx) {
        start(vertx, "FLOCK_MAX_CONNECTIONS", "3");
        RawWebSocket a = admitted("a");
        RawWebSocket b = admitted("b");
        RawWebSocket c = admitted("c");
        for (int i = 0; i < 5; i++) {
            assertRefused(upgrade(null, Map.of()));
        }
        assertRefused(upgrade("127.0.0.2", Map.of())); // the limit is the server's, whatever the address
        assertHealth();
        for (RawWebSocket s : List.of(a, b, c)) {
            s.heartbeatAndAck("r");
        }
        assertThat(a.received()).noneMatch(f -> f.text().contains("user:left"));

        c.close(1000, "bye");
        c.awaitCloseWithoutReplyAndTcpClose();
        RawWebSocket d = admittedOnceFreed(null, "d");
        assertRefused(upgrade(null, Map.of())); // exactly one seat was freed
        a.heartbeatAndAck("r");
        d.heartbeatAndAck("r");
    }

    // ---- FLOCK_MAX_CONNECTIONS_PER_IP -------------------------------------------------------------------------

    @Test
    void beyondThePerIpLimit_anUpgradeGets503_whileAnotherAddressIsAdmitted(Vertx vertx) {
        start(vertx, "FLOCK_MAX_CONNECTIONS_PER_IP", "2");
        RawWebSocket a = admitted("127.0.0.1", Map.of(), "a");
        admitted("127.0.0.1", Map.of(), "b");
        assertRefused(upgrade("127.0.0.1", Map.of()));
        RawWebSocket other = admitted("127.0.0.2", Map.of(), "other-address");
        admitted("127.0.0.2", Map.of(), "other-address-2");
        assertRefused(upgrade("127.0.0.2", Map.of()));
        assertHealth();
        a.heartbeatAndAck("r");
        other.heartbeatAndAck("r");

        a.close(1000, "bye");
        a.awaitCloseWithoutReplyAndTcpClose();
        admittedOnceFreed("127.0.0.1", "c");
        assertRefused(upgrade("127.0.0.1", Map.of()));
    }

    @Test
    void withTrustProxy_theClientAddressIsTheRightMostXForwardedForEntry(Vertx vertx) {
        start(vertx, "FLOCK_MAX_CONNECTIONS_PER_IP", "1", "FLOCK_TRUST_PROXY", "true");
        admitted(null, forwardedFor("203.0.113.7, 10.0.0.1"), "a");
        // same right-most entry, another left-most (which a client can forge): the same address
        assertRefused(upgrade(null, forwardedFor("203.0.113.8, 10.0.0.1")));
        assertRefused(upgrade(null, forwardedFor("10.0.0.1")));
        // the left-most is a's address but the right-most differs: another address
        admitted(null, forwardedFor("10.0.0.1, 10.0.0.2"), "b");
        // without the header the socket's own address counts
        admitted(null, Map.of(), "c");
        assertRefused(upgrade(null, Map.of()));
        assertHealth();
    }

    @Test
    void withoutTrustProxy_XForwardedForIsIgnored(Vertx vertx) {
        start(vertx, "FLOCK_MAX_CONNECTIONS_PER_IP", "1");
        admitted(null, forwardedFor("10.0.0.1"), "a");
        assertRefused(upgrade(null, forwardedFor("10.0.0.2")));
        assertRefused(upgrade(null, forwardedFor("10.0.0.3, 10.0.0.4")));
        admitted("127.0.0.2", forwardedFor("10.0.0.1"), "b");
        assertHealth();
    }

    @Test
    void perIpLimitZero_meansNoLimit(Vertx vertx) {
        start(vertx, "FLOCK_MAX_CONNECTIONS_PER_IP", "0", "FLOCK_MAX_CONNECTIONS", "1000", "FLOCK_MAX_ROOM_SIZE", "0");
        for (int i = 0; i < 20; i++) {
            admitted("u" + i);
        }
        assertHealth();
    }

    // ---- FLOCK_MEMORY_HIGH_WATER_PERCENT ----------------------------------------------------------------------

    private record Running(FlockServer server, PrometheusMeterRegistry prometheus) {
    }

    private Running startWithMetrics(Vertx vertx, String... envPairs) {
        Map<String, String> env = new HashMap<>(Map.of("FLOCK_PORT", "0", "FLOCK_HOST", "127.0.0.1"));
        for (int i = 0; i + 1 < envPairs.length; i += 2) {
            env.put(envPairs[i], envPairs[i + 1]);
        }
        FlockConfig config = FlockConfig.fromEnv(env);
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        MetricsEndpoint endpoint = new MetricsEndpoint(config, prometheus);
        server = WsClient.await(FlockServer.start(vertx, config, new FlockMetrics(prometheus), clock, endpoint::mount));
        return new Running(server, prometheus);
    }

    /** The value of an unlabelled gauge in the server's own /metrics, or null when absent. */
    private Double metric(String name) {
        RawHttp.Response scrape = RawHttp.get(server.port(), "/metrics");
        assertThat(scrape.status()).isEqualTo(200);
        for (String line : scrape.bodyText().split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return null;
    }

    @Test
    void aboveTheMemoryHighWater_upgradesGet503_readyIs503NamingMemory_andTheGaugeIs1(Vertx vertx) {
        // 1 % of a large default heap (a quarter of the box's RAM, 6 GB on 24 GB) can exceed what a fresh server keeps
        // live (about 45 MB): live ballast of 2 % of the heap, collected once, makes "used after GC" above 1 % anywhere
        byte[] ballast = new byte[(int) Math.min(Integer.MAX_VALUE - 16, Runtime.getRuntime().maxMemory() / 50 + (16 << 20))];
        System.gc();
        startWithMetrics(vertx, "FLOCK_MEMORY_HIGH_WATER_PERCENT", "1");
        clock.advance(2_000); // a sampling on the server's clock, if it samples on its scan
        Fleet.awaitTrue("/ready turns 503", WsClient.TIMEOUT, () -> RawHttp.get(server.port(), "/ready").status() == 503);
        RawHttp.Response ready = RawHttp.get(server.port(), "/ready");
        assertThat(ready.status()).isEqualTo(503);
        assertThat(ready.bodyText()).containsIgnoringCase("memory");
        assertRefused(upgrade(null, Map.of()));
        assertThat(metric("flock_memory_high_water")).as("flock_memory_high_water").isEqualTo(1.0);
        assertHealth();
        java.lang.ref.Reference.reachabilityFence(ballast);
    }

    @Test
    void belowTheMemoryHighWater_upgradesAreAdmitted_readyIs200_andTheGaugeIs0(Vertx vertx) {
        startWithMetrics(vertx);
        clock.advance(2_000);
        RawHttp.Response ready = RawHttp.get(server.port(), "/ready");
        assertThat(ready.status()).as("%s", ready).isEqualTo(200);
        RawWebSocket s = admitted("u");
        s.heartbeatAndAck("r");
        assertThat(metric("flock_memory_high_water")).as("flock_memory_high_water").isEqualTo(0.0);
        JsonObject body = new JsonObject(ready.bodyText());
        assertThat(body.getString("status")).isEqualTo("ready");
    }
}
