package dev.flock.process;

import dev.flock.support.JarProcess;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The shaded jar as operators run it: env-only configuration, fail-fast config errors, graceful SIGTERM. */
@ExtendWith(VertxExtension.class)
class JarProcessIT {

    @Test
    void sigterm_closesSocketsWith4001_andExitsWithinSeconds(Vertx vertx) throws Exception {
        try (JarProcess flock = JarProcess.start(Map.of("FLOCK_LOG_LEVEL", "info"));
             WsClient client = WsClient.connect(vertx, flock.port)) {
            client.joinAndAck("r", "u", new JsonObject());
            assertThat(flock.terminate(10_000)).isTrue();
            assertThat(client.awaitClose()).isEqualTo(4001);
            String out = flock.output();
            assertThat(out).contains("\"message\":\"flock started port=" + flock.port + " mode=memory auth=off");
            assertThat(out.lines().filter(l -> !l.isBlank()).allMatch(l -> l.startsWith("{") && l.endsWith("}")))
                    .as("every log line is one JSON object: %s", out).isTrue();
        }
    }

    @Test
    void badConfiguration_stopsStartUpWithOneClearLine_andANonZeroExit() throws Exception {
        Process p = JarProcess.launch(Map.of("FLOCK_PRESENCE_TTL_SECONDS", "-1"), JarProcess.freePort());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isNotZero();
        String out = Files.readString(JarProcess.logFile(p)).strip();
        assertThat(out.lines()).hasSize(1);
        assertThat(out).contains("FLOCK_PRESENCE_TTL_SECONDS");

        Process missing = JarProcess.launch(Map.of(), JarProcess.freePort(), "--conf", "/nonexistent/flock.json");
        assertThat(missing.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(missing.exitValue()).isNotZero();
        assertThat(Files.readString(JarProcess.logFile(missing))).contains("/nonexistent/flock.json");
    }

    @Test
    void silentLogLevel_printsNothing(Vertx vertx) throws Exception {
        try (JarProcess flock = JarProcess.start(Map.of("FLOCK_LOG_LEVEL", "silent"))) {
            assertThat(flock.terminate(10_000)).isTrue();
            assertThat(flock.output().strip()).isEmpty();
        }
    }
}
