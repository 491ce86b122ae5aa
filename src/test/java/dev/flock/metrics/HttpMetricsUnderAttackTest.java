package dev.flock.metrics;

import dev.flock.FlockServer;
import dev.flock.config.FlockConfig;
import dev.flock.ops.Await;
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
 * What a client can do to {@code /metrics} with HTTP alone: made-up methods must not add series, and requests it
 * abandons must not stay "active" for ever. Vert.x and its meters are built as {@code Main} builds them.
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

    @Test
    void abandonedRequests_leaveNoActiveRequest() {
        for (int i = 0; i < N; i++) {
            boolean reset = i % 2 == 0;
            // answered (405: only GET is routed there) before its body came; the client leaves without the rest
            abandonAfterTheAnswer("POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc", "", false);
            abandonAfterTheAnswer("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", "", reset);
            // a header Netty cannot parse: Vert.x answers 400 and closes
            abandonAfterTheAnswer("GET /health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", "", false);
            // a route that reads the body: the client gives up after the 100 Continue, mid-body or before it
            abandonAfterTheAnswer("POST /admin HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100\r\n"
                    + "Content-Type: application/x-www-form-urlencoded\r\n\r\n", "password=", reset);
        }

        // the server sees each close a moment after the client made it: wait for the count to settle
        Await.until("no request counted as active (besides the scrape itself)", () -> activeRequests() == 1.0);
        assertThat(scrape()).contains("vertx_http_server_requests_total{code=\"405\",method=\"POST\"} " + (double) N,
                "vertx_http_server_requests_total{code=\"400\",method=\"GET\"} " + (double) N);
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

    /**
     * Writes {@code head}, waits for the server's answer (so it has seen the request: an early response, or the
     * {@code 100 Continue} of a route that reads the body), writes {@code tail} and leaves, with a FIN or an RST.
     */
    private void abandonAfterTheAnswer(String head, String tail, boolean reset) {
        try (RawHttp c = RawHttp.open(server.port())) {
            c.write(head).readResponse();
            c.write(tail);
            if (reset) {
                c.reset();
            }
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

    /** The sum of {@code vertx_http_server_active_requests} over its labels, as a scrape shows it. */
    private double activeRequests() {
        return scrape().lines().filter(l -> l.startsWith("vertx_http_server_active_requests{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }
}
