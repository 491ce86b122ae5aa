package dev.flock.metrics;

import dev.flock.FlockServer;
import dev.flock.config.ConfigException;
import dev.flock.config.FlockConfig;
import dev.flock.config.OtlpSettings;
import dev.flock.ops.Await;
import dev.flock.support.VirtualClock;
import dev.flock.support.WsClient;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

import static dev.flock.support.WsClient.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * FLOCK_OTLP_ENDPOINT against a local OTLP/HTTP receiver (a Vert.x server on a loopback port) that decodes what
 * arrives as the collector would ({@code ExportMetricsServiceRequest}). The pushes are driven by a
 * {@link VirtualClock}: Flock schedules them on its clock, and the OTLP registry reads the same clock through
 * {@link OtlpPush#micrometerClock}, so no test waits for a step of real time.
 */
class OtlpPushTest {

    private record Received(String path, String contentType, ExportMetricsServiceRequest body) {
    }

    private static final int STEP_SECONDS = 10;

    private Vertx vertx;
    private HttpServer receiver;
    private final List<Received> received = new CopyOnWriteArrayList<>();
    /** While set, the receiver holds its answers: a collector that is slow to answer. */
    private volatile Promise<Void> hold;

    @BeforeEach
    void setUp() {
        vertx = Vertx.vertx();
        receiver = await(vertx.createHttpServer().requestHandler(this::receive).listen(0, "127.0.0.1"));
    }

    @AfterEach
    void tearDown() {
        await(vertx.close());
    }

    private void receive(HttpServerRequest req) {
        req.body().onSuccess(body -> {
            try {
                received.add(new Received(req.path(), req.getHeader("Content-Type"),
                        ExportMetricsServiceRequest.parseFrom(body.getBytes())));
            } catch (Exception e) {
                req.response().setStatusCode(400).end();
                return;
            }
            Promise<Void> wait = hold;
            (wait == null ? io.vertx.core.Future.<Void>succeededFuture() : wait.future()).onComplete(v ->
                    req.response().putHeader("Content-Type", "application/x-protobuf").end(Buffer.buffer()));
        });
    }

    private FlockConfig config(String endpoint) {
        return FlockConfig.builder().port(0).host("127.0.0.1")
                .set("otlpEndpoint", endpoint).set("otlpServiceName", "flock-test")
                .set("otlpStepSeconds", STEP_SECONDS).build();
    }

    @Test
    void pushesTheSameMeters_everyStepOfTheClock_toV1Metrics_withServiceName() throws Exception {
        VirtualClock clock = new VirtualClock();
        FlockConfig config = config("http://127.0.0.1:" + receiver.actualPort() + "/");
        MeterRegistries meters = new MeterRegistries(config, "1.2.3", "abc1234", OtlpPush.micrometerClock(clock));
        assertThat(meters.otlp().url()).isEqualTo("http://127.0.0.1:" + receiver.actualPort() + "/v1/metrics");
        Vertx flock = Vertx.builder().with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions()
                .setEnabled(true).setJvmMetricsEnabled(false))).withMetrics(meters.vertxMeters()).build();
        FlockServer server = await(FlockServer.start(flock, config, new FlockMetrics(meters.registry()), clock, r -> { }));
        // the push timer is set from an event loop, as Main's is: a push that blocked it would stall the clock's advance
        Promise<Void> started = Promise.promise();
        flock.runOnContext(v -> {
            meters.startPush(clock);
            started.complete();
        });
        await(started.future());
        WsClient alice = WsClient.connect(flock, server.port());
        try {
            alice.joinAndAck("room-1", "alice", new JsonObject());
            assertThat(received).isEmpty();

            clock.advance(STEP_SECONDS * 1000L);
            Await.until("the first push, answered", () -> received.size() == 1 && !meters.otlp().pushing());
            Received first = received.get(0);
            assertThat(first.path()).isEqualTo("/v1/metrics");
            assertThat(first.contentType()).isEqualTo("application/x-protobuf");
            ResourceMetrics rm = first.body().getResourceMetrics(0);
            Map<String, String> resource = rm.getResource().getAttributesList().stream()
                    .collect(Collectors.toMap(KeyValue::getKey, kv -> kv.getValue().getStringValue()));
            assertThat(resource).containsEntry("service.name", "flock-test").containsEntry("service.version", "1.2.3");
            NumberDataPoint open = gauge(first.body(), "flock.connections.open").orElseThrow();
            assertThat(open.getAsDouble()).isEqualTo(1.0);
            assertThat(metric(first.body(), "flock.delivery.duration")).isPresent();
            assertThat(metric(first.body(), "flock.build.info")).isPresent();
            assertThat(metric(first.body(), "jvm.memory.used")).isPresent();

            // a collector that holds its answer: the next step's push is skipped, not queued, and the loop is not held
            hold = Promise.promise();
            clock.advance(STEP_SECONDS * 1000L);
            Await.until("the second push", () -> received.size() == 2);
            clock.advance(STEP_SECONDS * 1000L); // while the second is unanswered
            assertThat(meters.otlp().pushing()).isTrue();
            Promise<Void> release = hold;
            hold = null;
            release.complete();
            Await.until("the second push answered", () -> !meters.otlp().pushing());
            clock.advance(STEP_SECONDS * 1000L);
            Await.until("the fourth step's push", () -> received.size() == 3);
            NumberDataPoint second = gauge(received.get(1).body(), "flock.connections.open").orElseThrow();
            NumberDataPoint third = gauge(received.get(2).body(), "flock.connections.open").orElseThrow();
            // the registry's time is the test's: one step between the first and second push, two more to the next
            assertThat(second.getTimeUnixNano() - open.getTimeUnixNano()).isEqualTo(STEP_SECONDS * 1_000_000_000L);
            assertThat(third.getTimeUnixNano() - second.getTimeUnixNano()).isEqualTo(2 * STEP_SECONDS * 1_000_000_000L);
            assertThat(received).hasSize(3);
        } finally {
            alice.close();
            await(server.stop());
            await(flock.close());
        }
        meters.close(); // the last push, at shutdown
        assertThat(received).hasSize(4);
    }

    @Test
    void endpoint_isABaseUrl_andAnUnusableOneIsAConfigError() {
        assertThat(new OtlpSettings("http://collector:4318", "flock", 10).metricsUrl())
                .isEqualTo("http://collector:4318/v1/metrics");
        assertThat(new OtlpSettings("https://gw.example/otlp/", "flock", 10).metricsUrl())
                .isEqualTo("https://gw.example/otlp/v1/metrics");
        assertThat(new OtlpSettings(null, "flock", 10).enabled()).isFalse();
        // a Compose service name with '_', which java.net.URI gives no host for, is a host all the same
        assertThat(new OtlpSettings("http://otel_collector:4318", "flock", 10).metricsUrl())
                .isEqualTo("http://otel_collector:4318/v1/metrics");
        assertThat(new OtlpSettings("http://otel_collector:4318", "flock", 10).shownUrl())
                .isEqualTo("http://otel_collector:4318/v1/metrics");
        assertThat(new OtlpSettings("http://[::1]:4318", "flock", 10).metricsUrl()).isEqualTo("http://[::1]:4318/v1/metrics");
        assertThatThrownBy(() -> new OtlpSettings("http://collector:abc", "flock", 10)).hasMessageContaining("bad port");
        assertThatThrownBy(() -> new OtlpSettings("user:s3cret@collector:4318", "flock", 10))
                .hasMessageContaining("must start with http").hasMessageNotContaining("user");
        // credentials in the URL are refused: Micrometer logs the URL with every failed push
        for (String withKey : List.of("http://c:4318/otlp/?api-key=s3cret", "https://user:s3cret@gw.example/x")) {
            assertThatThrownBy(() -> FlockConfig.fromEnv(Map.of("FLOCK_OTLP_ENDPOINT", withKey))).as(withKey)
                    .hasMessageContaining("OTEL_EXPORTER_OTLP_HEADERS").hasMessageNotContaining("s3cret");
        }
        for (String bad : List.of("collector:4318", "grpc://collector:4317", "http://", "http://c:4318/#x", "http://a b",
                "grpc://user:s3cret@collector:4317/s3cret", "http://collector:4318/s3cret?token=s3cret#s3cret", "http:///s3cret")) {
            assertThatThrownBy(() -> FlockConfig.fromEnv(Map.of("FLOCK_OTLP_ENDPOINT", bad))).as(bad)
                    .isInstanceOf(ConfigException.class).hasMessageContaining("FLOCK_OTLP_ENDPOINT")
                    .hasMessageNotContaining("s3cret"); // a collector's token may sit in the user info, path or query
        }
        assertThat(new OtlpSettings("https://gw.example/s3cret/", "flock", 10).shownUrl())
                .isEqualTo("https://gw.example/***/v1/metrics");
    }

    private static Optional<Metric> metric(ExportMetricsServiceRequest request, String name) {
        return request.getResourceMetricsList().stream().flatMap(rm -> rm.getScopeMetricsList().stream())
                .flatMap(sm -> sm.getMetricsList().stream()).filter(m -> m.getName().equals(name)).findFirst();
    }

    private static Optional<NumberDataPoint> gauge(ExportMetricsServiceRequest request, String name) {
        return metric(request, name).map(m -> m.getGauge().getDataPoints(0));
    }
}
