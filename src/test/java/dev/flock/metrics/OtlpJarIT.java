package dev.flock.metrics;

import dev.flock.ops.Await;
import dev.flock.support.HttpCalls;
import dev.flock.support.JarProcess;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static dev.flock.support.WsClient.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shaded jar as operators run it, with FLOCK_OTLP_ENDPOINT pointing at a local OTLP/HTTP receiver: the OTLP
 * registry and its protobuf classes are in the fat jar, Main pushes beside /metrics, and SIGTERM pushes once more.
 * A separate process takes no test clock, so this one uses the smallest step (1 s) with a bounded wait;
 * {@link OtlpPushTest} covers the step itself on a virtual clock.
 */
@ExtendWith(VertxExtension.class)
class OtlpJarIT {

    @Test
    void jar_pushesOverOtlp_besideMetrics_andOnceMoreAtShutdown(Vertx vertx) throws Exception {
        List<ExportMetricsServiceRequest> received = new CopyOnWriteArrayList<>();
        HttpServer receiver = await(vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
            try {
                if (req.path().equals("/v1/metrics")) {
                    received.add(ExportMetricsServiceRequest.parseFrom(body.getBytes()));
                }
                req.response().end(Buffer.buffer());
            } catch (Exception e) {
                req.response().setStatusCode(400).end();
            }
        })).listen(0, "127.0.0.1"));
        try (JarProcess flock = JarProcess.start(Map.of("FLOCK_OTLP_ENDPOINT", "http://127.0.0.1:" + receiver.actualPort(),
                "FLOCK_OTLP_SERVICE_NAME", "flock-jar", "FLOCK_OTLP_STEP_SECONDS", "1", "FLOCK_LOG_LEVEL", "info"))) {
            Await.until("a push from the jar", () -> !received.isEmpty());
            ExportMetricsServiceRequest first = received.get(0);
            assertThat(first.getResourceMetrics(0).getResource().getAttributesList()).extracting(KeyValue::getKey)
                    .contains("service.name", "service.version");
            assertThat(first.getResourceMetrics(0).getResource().getAttributesList().stream()
                    .filter(kv -> kv.getKey().equals("service.name")).findFirst().orElseThrow().getValue().getStringValue())
                    .isEqualTo("flock-jar");
            assertThat(first.getResourceMetrics(0).getScopeMetricsList().stream().flatMap(s -> s.getMetricsList().stream())
                    .map(io.opentelemetry.proto.metrics.v1.Metric::getName))
                    .contains("flock.connections.open", "flock.build.info", "flock.delivery.duration", "process.files.open");
            assertThat(HttpCalls.get(vertx, flock.port, "/metrics").body()).contains("flock_build_info{");

            // a socket open at SIGTERM is closed by the shutdown ("shutdown" close reason); only a push after that close,
            // i.e. the one at shutdown, can show it
            dev.flock.support.WsClient socket = dev.flock.support.WsClient.connect(vertx, flock.port);
            Await.until("the socket counted", () -> HttpCalls.get(vertx, flock.port, "/metrics").body()
                    .contains("flock_connections_open 1.0"));
            assertThat(flock.terminate(15_000)).isTrue();
            socket.close();
            ExportMetricsServiceRequest last = received.get(received.size() - 1);
            assertThat(last.getResourceMetrics(0).getScopeMetricsList().stream().flatMap(s -> s.getMetricsList().stream())
                    .filter(m -> m.getName().equals("flock.connections.closed"))
                    .flatMap(m -> m.getSum().getDataPointsList().stream())
                    .filter(d -> d.getAttributesList().stream().anyMatch(a -> a.getKey().equals("reason")
                            && a.getValue().getStringValue().equals("shutdown")))
                    .mapToDouble(io.opentelemetry.proto.metrics.v1.NumberDataPoint::getAsDouble).sum())
                    .as("the last push came after the shutdown closed the socket").isEqualTo(1.0);
            assertThat(flock.output()).contains("pushing metrics over OTLP to http://127.0.0.1:" + receiver.actualPort()
                    + "/v1/metrics every 1 s");
        }
    }

    @Test
    void unusableEndpoint_stopsStartUpWithOneLine_exit2() throws Exception {
        Process p = JarProcess.launch(Map.of("FLOCK_OTLP_ENDPOINT", "collector:4318"), JarProcess.freePort());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(2);
        String out = Files.readString(JarProcess.logFile(p)).strip();
        assertThat(out.lines()).hasSize(1);
        assertThat(out).contains("FLOCK_OTLP_ENDPOINT");
    }
}
