package dev.flock.metrics;

import dev.flock.support.HttpCalls;

import dev.flock.FlockServer;
import dev.flock.config.FlockConfig;
import dev.flock.ops.Await;
import dev.flock.ops.WsProbe;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.micrometer.MicrometerMetricsOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.ServerSocket;

import static dev.flock.support.WsClient.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Where {@code /metrics} is served, and that Flock's meters come out as {@code flock_*}. */
@ExtendWith(VertxExtension.class)
class MetricsEndpointTest {

    private record Response(int status, String body) {
    }

    private static Response get(Vertx vertx, int port, String path) {
        HttpCalls.Response r = HttpCalls.get(vertx, port, path);
        return new Response(r.status(), r.body());
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private record Running(FlockServer server, MetricsEndpoint endpoint, int metricsPort) {
        void stop() throws Exception {
            await(server.stop().eventually(endpoint::close));
        }
    }

    private static Running start(Vertx vertx, FlockConfig config) throws Exception {
        return start(vertx, config, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    private static Running start(Vertx vertx, FlockConfig config, PrometheusMeterRegistry prometheus) throws Exception {
        MetricsEndpoint endpoint = new MetricsEndpoint(config, prometheus);
        int metricsPort = await(endpoint.listen(vertx));
        FlockServer server = await(FlockServer.start(vertx, config, new FlockMetrics(prometheus), endpoint::mount));
        return new Running(server, endpoint, metricsPort);
    }

    @Test
    void metrics_onTheMainPort_showFlockMeters_countingWhatClientsDid() throws Exception {
        // as Main builds it: Vert.x meters into the same Prometheus registry
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Vertx vertx = Vertx.builder()
                .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)))
                .withMetrics(new VertxMeters(prometheus)).build();
        Running r = start(vertx, FlockConfig.builder().port(0).host("127.0.0.1").flushIntervalMs(0).build(), prometheus);
        try {
            WsProbe a = await(WsProbe.connect(vertx, r.server().port(), "/"));
            WsProbe b = await(WsProbe.connect(vertx, r.server().port(), "/"));
            a.join("room-1", "alice");
            Await.until("alice's join:ack", () -> a.has(WsProbe.type("join:ack")));
            b.join("room-1", "bob");
            Await.until("bob's join:ack", () -> b.has(WsProbe.type("join:ack")));
            a.send(new JsonObject().put("type", "cursor:move").put("roomId", "room-1")
                    .put("position", new JsonObject().put("x", 0.5).put("y", 0.5)));
            Await.until("bob sees the cursor", () -> b.has(WsProbe.type("cursor:updated")));

            Response scrape = get(vertx, r.server().port(), "/metrics");
            assertThat(scrape.status()).isEqualTo(200);
            String text = scrape.body();
            assertThat(text).contains("flock_connections_open 2.0", "flock_rooms_active 1.0", "flock_room_members 2.0",
                    "flock_messages_received_total{type=\"join\"} 2.0",
                    "flock_messages_received_total{type=\"cursor:move\"} 1.0",
                    "flock_connections_opened_total 2.0", "flock_errors_sent_total{code=\"ROOM_FULL\"} 0.0",
                    "flock_delivery_duration_seconds_bucket{kind=\"cursor\"", "vertx_http_server_active_ws_connections");
            assertThat(text).doesNotContain("room-1", "alice", "bob"); // no per-room or per-user labels
            assertThat(text).doesNotContain("flock_redis_"); // Redis meters appear only in Redis mode
        } finally {
            r.stop();
            await(vertx.close());
        }
    }

    @Test
    void metricsPort_servesMetricsThere_andNotOnTheMainPort(Vertx vertx) throws Exception {
        int port = freePort();
        Running r = start(vertx, FlockConfig.builder().port(0).host("127.0.0.1").metricsPort(port).build());
        try {
            assertThat(r.metricsPort()).isEqualTo(port);
            assertThat(get(vertx, r.server().port(), "/metrics").status()).isEqualTo(404);
            Response scrape = get(vertx, port, "/metrics");
            assertThat(scrape.status()).isEqualTo(200);
            assertThat(scrape.body()).contains("flock_connections_open");
            assertThat(get(vertx, port, "/health").status()).isEqualTo(404); // nothing else on the metrics port
        } finally {
            r.stop();
        }
    }

    @Test
    void metricsDisabled_is404(Vertx vertx) throws Exception {
        Running r = start(vertx, FlockConfig.builder().port(0).host("127.0.0.1").metricsEnabled(false).metricsPort(freePort())
                .build());
        try {
            assertThat(r.metricsPort()).isZero();
            assertThat(get(vertx, r.server().port(), "/metrics").status()).isEqualTo(404);
            assertThat(get(vertx, r.server().port(), "/health").status()).isEqualTo(200);
        } finally {
            r.stop();
        }
    }

    @Test
    void redisMeters_areNamedFlockRedis() {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        FlockMetrics m = new FlockMetrics(prometheus);
        m.redisPublished();
        m.redisPublished();
        m.redisReceived();
        m.redisDropped();
        m.redisCommand(2_000_000);
        m.redisConnected(true);
        m.redisConnected(false);
        m.redisConnected(true);
        m.redisChannels(() -> 7);
        m.eviction("sweep");
        String text = prometheus.scrape();
        assertThat(text).contains("flock_redis_published_total 2.0", "flock_redis_received_total 1.0",
                "flock_redis_dropped_total 1.0", "flock_redis_command_duration_seconds_count 1",
                "flock_redis_command_duration_seconds_bucket", "flock_redis_connected 1.0", "flock_redis_channels 7.0",
                "flock_evictions_total{cause=\"sweep\"} 1.0");
    }
}
