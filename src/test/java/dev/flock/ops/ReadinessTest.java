package dev.flock.ops;

import ch.qos.logback.classic.Level;
import dev.flock.support.HttpCalls;
import dev.flock.support.LogCapture;

import dev.flock.FlockServer;
import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class ReadinessTest {

    private FlockServer server;

    @BeforeEach
    void start(Vertx vertx) throws Exception {
        server = FlockServer.start(vertx, FlockConfig.builder().port(0).host("127.0.0.1").build(), FlockMetrics.inMemory())
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        server.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private JsonObject ready(Vertx vertx, int expectedStatus) {
        HttpCalls.Response r = HttpCalls.get(vertx, server.port(), "/ready");
        assertThat(r.status()).isEqualTo(expectedStatus);
        assertThat(r.header("content-type")).isEqualTo("application/json");
        return new JsonObject(r.body());
    }

    @Test
    void ready_is200_whenEveryCheckPasses(Vertx vertx) throws Exception {
        server.readiness().addCheck("always", () -> null);
        assertThat(ready(vertx, 200)).isEqualTo(new JsonObject().put("status", "ready"));
    }

    @Test
    void ready_is503WithAGenericReason_whileACheckFails_theDetailIsLoggedOncePerChange_andRecovers(Vertx vertx) {
        AtomicReference<String> redis = new AtomicReference<>("Redis connection lost: Connection refused: /127.0.0.1:6380");
        server.readiness().addCheck("redis", redis::get);
        try (LogCapture log = LogCapture.of(Readiness.class.getName())) {
            for (int probe = 0; probe < 5; probe++) {
                assertThat(ready(vertx, 503)).isEqualTo(new JsonObject().put("status", "unavailable")
                        .put("reason", "redis: unavailable"));
            }
            assertThat(log.messages(Level.WARN))
                    .containsExactly("not ready: redis: Redis connection lost: Connection refused: /127.0.0.1:6380");
            // a detail that moves while the same check keeps failing ("heap 91%", "92%") is no new state: no new line
            redis.set("Redis unavailable: Connection refused: /127.0.0.1:6381");
            assertThat(ready(vertx, 503).getString("reason")).isEqualTo("redis: unavailable");
            redis.set(null);
            assertThat(ready(vertx, 200).getString("status")).isEqualTo("ready");
            assertThat(ready(vertx, 200).getString("status")).isEqualTo("ready");
            redis.set("Redis connection lost: Connection reset");
            assertThat(ready(vertx, 503).getString("reason")).isEqualTo("redis: unavailable");
            assertThat(log.messages(Level.INFO)).containsExactly(
                    "not ready: redis: Redis connection lost: Connection refused: /127.0.0.1:6380",
                    "ready again",
                    "not ready: redis: Redis connection lost: Connection reset");
            redis.set(null);
        }
        assertThat(server.readiness().reason()).isNull();
    }

    @Test
    void anExpectedCheck_is503WithItsReason_andLogsAtInfoNotWarn(Vertx vertx) {
        AtomicReference<String> warming = new AtomicReference<>("warming up");
        server.readiness().addExpectedCheck("warm-up", "warming up", warming::get);
        try (LogCapture log = LogCapture.of(Readiness.class.getName())) {
            assertThat(ready(vertx, 503).getString("reason")).isEqualTo("warm-up: warming up");
            warming.set(null);
            assertThat(ready(vertx, 200).getString("status")).isEqualTo("ready");
            assertThat(log.messages(Level.WARN)).isEmpty();
            assertThat(log.messages(Level.INFO)).containsExactly("not ready: warm-up: warming up", "ready again");
        }
    }

    @Test
    void aCheckWithItsOwnGenericReason_isAnsweredWithIt_theDetailStaysInReason(Vertx vertx) {
        server.readiness().addCheck("memory", "above the high-water mark", () -> "heap 95% used after GC (high water 90%)");
        assertThat(ready(vertx, 503).getString("reason")).isEqualTo("memory: above the high-water mark");
        assertThat(server.readiness().reason()).isEqualTo("memory: heap 95% used after GC (high water 90%)");
        assertThat(server.readiness().publicReason()).isEqualTo("memory: above the high-water mark");
    }

    @Test
    void ready_is503_afterShutdownBegins_whileHealthStays200(Vertx vertx) throws Exception {
        server.readiness().markShuttingDown();
        assertThat(ready(vertx, 503).getString("reason")).isEqualTo("shutting down");
        assertThat(HttpCalls.get(vertx, server.port(), "/health").status()).isEqualTo(200);
    }

    @Test
    void aThrowingCheck_countsAsNotReady() {
        Readiness r = new Readiness().addCheck("broken", () -> {
            throw new IllegalStateException("boom");
        });
        assertThat(r.reason()).startsWith("broken: check failed");
        r.removeCheck("broken");
        assertThat(r.ready()).isTrue();
    }

    @Test
    void stop_marksNotReadyFirst(VertxTestContext ctx) {
        server.stop().onComplete(ctx.succeeding(v -> ctx.verify(() -> {
            assertThat(server.readiness().reason()).isEqualTo("shutting down");
            ctx.completeNow();
        })));
    }
}
