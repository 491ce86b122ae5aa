package dev.flock.metrics;

import dev.flock.FlockServer;
import dev.flock.config.FlockConfig;
import dev.flock.support.HttpCalls;
import dev.flock.support.RawHttp;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.TreeSet;

import static dev.flock.support.WsClient.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a client can do to {@code /metrics} with HTTP alone: made-up methods must not add series. Vert.x and its
 * meters are built as {@code Main} builds them.
 */
class HttpMetricsUnderAttackTest {

    private static final int N = 50;

    private PrometheusMeterRegistry prometheus;
    private Vertx vertx;
    private FlockServer server;

    @BeforeEach
    void start() {
        prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        vertx = Vertx.builder()
                .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
                        .setJvmMetricsEnabled(false)))
                .withMetrics(new VertxMeters(prometheus))
                .build();
        // the admin's POST routes read their bodies (BodyHandler); the other routes answer without reading
        FlockConfig config = FlockConfig.builder().port(0).host("127.0.0.1").adminPassword("pw").build();
        server = await(FlockServer.start(vertx, config, new FlockMetrics(prometheus),
                new MetricsEndpoint(config, prometheus)::mount));
    }

    @AfterEach
    void stop() {
        await(server.stop());
        await(vertx.close());
    }

    @Test
    void madeUpMethods_addNoSeries() {
        scrape(); // the scrape's own GET series appear once it has ended
        madeUpMethod(0);
        Set<String> before = httpSeries();

        for (int i = 1; i <= N; i++) {
            madeUpMethod(i);
        }

        assertThat(httpSeries()).isEqualTo(before);
        assertThat(scrape()).contains("vertx_http_server_requests_total{code=\"405\",method=\"other\"} " + (N + 1.0));
    }

    @Test
    void knownMethods_keepTheirOwnValue() {
        assertThat(status("DELETE /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).isEqualTo(405);

        assertThat(scrape()).contains("vertx_http_server_requests_total{code=\"405\",method=\"DELETE\"} 1.0");
    }

    private void madeUpMethod(int i) {
        String method = "X" + i + "-" + "M".repeat(200);
        assertThat(status(method + " / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).isEqualTo(405);
    }

    private int status(String request) {
        try (RawHttp c = RawHttp.open(server.port())) {
            return c.write(request).readResponse().status();
        }
    }

    private String scrape() {
        HttpCalls.Response r = HttpCalls.get(vertx, server.port(), MetricsEndpoint.PATH);
        assertThat(r.status()).isEqualTo(200);
        return r.body();
    }

    /** The names and labels of every {@code vertx_http_server_*} series, without their values. */
    private Set<String> httpSeries() {
        Set<String> series = new TreeSet<>();
        scrape().lines().filter(l -> l.startsWith("vertx_http_server_"))
                .forEach(l -> series.add(l.substring(0, l.lastIndexOf(' '))));
        return series;
    }
}
