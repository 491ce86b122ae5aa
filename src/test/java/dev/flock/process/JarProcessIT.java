package dev.flock.process;

import dev.flock.support.Fleet;
import dev.flock.support.HttpCalls;
import dev.flock.support.JarProcess;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
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
            assertThat(out).contains("\"message\":\"flock started port=" + flock.port + " host=127.0.0.1 mode=memory auth=false");
            assertThat(out.lines().filter(l -> !l.isBlank()).allMatch(l -> l.startsWith("{") && l.endsWith("}")))
                    .as("every log line is one JSON object: %s", out).isTrue();
        }
    }

    @Test
    void theStartUpWarmup_runsItsLifecycles_thenReadyTurns200_andNoneOfItIsInTheServingMeters(Vertx vertx) throws Exception {
        try (JarProcess flock = JarProcess.start(Map.of("FLOCK_LOG_LEVEL", "info", "FLOCK_WARMUP_CONNECTIONS", "300"))) {
            Fleet.awaitTrue("/ready 200 once warm", Duration.ofSeconds(30), () -> {
                try {
                    return HttpCalls.get(vertx, flock.port, "/ready").status() == 200;
                } catch (RuntimeException notYet) {
                    return false;
                }
            });
            String out = flock.output();
            JsonObject done = out.lines().filter(l -> l.contains("warm-up done")).map(JsonObject::new)
                    .findFirst().orElseThrow(() -> new AssertionError("no warm-up line in " + out));
            assertThat(done.getInteger("connections")).isEqualTo(300);
            assertThat(done.getInteger("failed")).isZero();
            String metrics = HttpCalls.get(vertx, flock.port, "/metrics").body();
            assertThat(metrics).contains("flock_connections_opened_total 0.0");
            assertThat(metrics.lines().filter(l -> l.startsWith("flock_messages_received_total")))
                    .isNotEmpty().allMatch(l -> l.endsWith(" 0.0"));
            assertThat(flock.output()).doesNotContain("\"level\":\"ERROR\"");
            assertThat(flock.terminate(10_000)).isTrue();
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

    @Test
    void theStartUpLine_givesEveryFieldItsJsonType_andTheBuild() throws Exception {
        try (JarProcess flock = JarProcess.start(Map.of("FLOCK_MAX_ROOM_SIZE", "0", "FLOCK_ADMIN_PASSWORD", "pw"))) {
            JsonObject started = flock.output().lines().filter(l -> l.contains("flock started")).map(JsonObject::new)
                    .findFirst().orElseThrow();
            assertThat(started.getValue("port")).isEqualTo(flock.port);
            assertThat(started.getValue("host")).isEqualTo("127.0.0.1");
            assertThat(started.getValue("mode")).isEqualTo("memory");
            assertThat(started.getValue("auth")).isEqualTo(false);
            assertThat(started.getValue("maxRoomSize")).as("0 = unlimited, a number").isEqualTo(0);
            assertThat(started.getValue("ttlSeconds")).isInstanceOf(Integer.class);
            assertThat(started.getValue("maxMessagesPerSecond")).isInstanceOf(Integer.class);
            assertThat(started.getValue("flushIntervalMs")).isInstanceOf(Integer.class);
            assertThat(started.getValue("admin")).isEqualTo(true);
            assertThat(started.getValue("metrics")).isEqualTo(true);
            assertThat(started.getValue("metricsPort")).as("0 = on the main port").isEqualTo(0);
            assertThat(started.getString("version")).isNotBlank();
            assertThat(started.getString("commit")).isNotBlank();
            assertThat(started.encode()).doesNotContain("\"pw\"");
        }
    }

    @Test
    void aPortInUse_isNamedWithHostAndPort_inTheLogAndOnStderr_exit1() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            Process p = JarProcess.launch(Map.of(), port);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isEqualTo(1);
            String out = Files.readString(JarProcess.logFile(p));
            String why = "cannot listen on 127.0.0.1:" + port + ": Address already in use";
            assertThat(out.lines()).as(out).contains("flock: start-up failed: " + why);
            JsonObject logged = out.lines().filter(l -> l.startsWith("{") && l.contains("start-up failed"))
                    .map(JsonObject::new).findFirst().orElseThrow();
            assertThat(logged.getString("message")).isEqualTo("start-up failed: " + why);
            assertThat(logged.getString("level")).isEqualTo("ERROR");
        }
    }

    @Test
    void aMetricsPortInUse_isNamedToo() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            Process p = JarProcess.launch(Map.of("FLOCK_METRICS_PORT", String.valueOf(port)), JarProcess.freePort());
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isEqualTo(1);
            assertThat(Files.readString(JarProcess.logFile(p)).lines())
                    .contains("flock: start-up failed: cannot listen on 127.0.0.1:" + port + ": Address already in use");
        }
    }

    @Test
    void pinoFormat_writesPinoShapedLines_numericLevel_epochMsTime_msg_pidHostname_andTopLevelFields() throws Exception {
        long before = System.currentTimeMillis();
        try (JarProcess flock = JarProcess.start(Map.of("FLOCK_LOG_FORMAT", "pino", "FLOCK_PRESENCE_TTL_SECONDS", "1",
                "FLOCK_HEARTBEAT_INTERVAL_MS", "10000"))) {
            assertThat(flock.terminate(10_000)).isTrue();
            long after = System.currentTimeMillis();
            List<JsonObject> lines = flock.output().lines().filter(l -> !l.isBlank()).map(JsonObject::new).toList();
            assertThat(lines).isNotEmpty().allSatisfy(line -> {
                assertThat(line.getValue("level")).isIn(10, 20, 30, 40, 50, 60);
                assertThat(line.getValue("time")).isInstanceOf(Long.class);
                assertThat(line.getLong("time")).isBetween(before - 1000, after + 1000);
                assertThat(line.getString("msg")).isNotBlank();
                assertThat(line.getValue("pid")).isEqualTo((int) flock.process().pid());
                assertThat(line.getString("hostname")).isNotBlank();
                assertThat(line.fieldNames()).doesNotContain("message", "level_value", "logger_name", "@timestamp");
            });
            JsonObject started = lines.stream().filter(l -> l.getString("msg").startsWith("flock started")).findFirst().orElseThrow();
            assertThat(started.getInteger("level")).isEqualTo(30);
            assertThat(started.getValue("port")).isEqualTo(flock.port);
            assertThat(started.getValue("maxRoomSize")).isEqualTo(10);
            JsonObject ttlWarning = lines.stream().filter(l -> l.getString("msg").startsWith("presence TTL")).findFirst().orElseThrow();
            assertThat(ttlWarning.getInteger("level")).isEqualTo(40);
        }
    }

    @Test
    void defaultFormat_isUnchanged_logstashFields() throws Exception {
        try (JarProcess flock = JarProcess.start(Map.of())) {
            assertThat(flock.terminate(10_000)).isTrue();
            JsonObject started = flock.output().lines().filter(l -> l.contains("flock started")).map(JsonObject::new)
                    .findFirst().orElseThrow();
            assertThat(started.getString("level")).isEqualTo("INFO");
            assertThat(started.getString("time")).matches("\\d{4}-\\d\\d-\\d\\dT.*");
            assertThat(started.getString("message")).startsWith("flock started");
            assertThat(started.getString("logger_name")).isEqualTo("dev.flock.Main");
            assertThat(started.fieldNames()).doesNotContain("msg", "pid", "hostname", "@version", "level_value", "@timestamp");
        }
    }

    /** An operator's own logback file (-Dlogback.configurationFile) replaces the built-in JSON set-up entirely. */
    @Test
    void anOperatorsLogbackFile_replacesTheJsonLines() throws Exception {
        java.nio.file.Path xml = Files.createTempFile("flock-logback", ".xml");
        Files.writeString(xml, """
                <configuration>
                  <appender name="PLAIN" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>PLAIN %level %logger - %msg%n</pattern></encoder>
                  </appender>
                  <root level="INFO"><appender-ref ref="PLAIN"/></root>
                </configuration>
                """);
        try (JarProcess flock = JarProcess.start(Map.of("JAVA_TOOL_OPTIONS", "-Dlogback.configurationFile=" + xml))) {
            assertThat(flock.terminate(10_000)).isTrue();
            assertThat(flock.output().lines().filter(l -> l.startsWith("PLAIN INFO dev.flock.Main - flock started")))
                    .hasSize(1);
            assertThat(flock.output()).doesNotContain("\"logger_name\"");
        } finally {
            Files.deleteIfExists(xml);
        }
    }

    /** Runs the jar to its end (no server expected) and gives its exit code and its whole output. */
    private static Object[] runToExit(Map<String, String> env, String... args) throws Exception {
        Process p = JarProcess.launch(env, JarProcess.freePort(), args);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("exits: %s", String.join(" ", args)).isTrue();
        return new Object[]{p.exitValue(), Files.readString(JarProcess.logFile(p))};
    }

    @Test
    void help_version_andUnknownArguments_neverStartAServer() throws Exception {
        Object[] help = runToExit(Map.of(), "--help");
        assertThat(help[0]).isEqualTo(0);
        assertThat((String) help[1]).contains("--check-config", "--conf=<file>", "-V, --version")
                .contains("FLOCK_MAX_ROOM_SIZE (maxRoomSize)  integer 0..1000000, default 10")
                .contains("FLOCK_REDIS_URL (redisUrl)  secret, default unset")
                .doesNotContain("flock started");

        Object[] version = runToExit(Map.of(), "-V");
        assertThat(version[0]).isEqualTo(0);
        assertThat(((String) version[1]).strip()).matches("flock-server \\S+ \\(commit \\S+\\)");

        Object[] typo = runToExit(Map.of(), "--config", "f.json");
        assertThat(typo[0]).isEqualTo(2);
        assertThat(((String) typo[1]).strip()).isEqualTo("flock: unknown option '--config' (see --help); did you mean --conf?");
    }

    @Test
    void checkConfig_validPrintsTheConfigWithSecretsMasked_invalidExits2WithOneLine() throws Exception {
        Object[] ok = runToExit(Map.of("FLOCK_REDIS_URL", "redis://:Redis-Pw-9@my_redis:6379/1",
                "FLOCK_ADMIN_PASSWORD", "Admin-Pw-9", "FLOCK_API_KEYS", "Key-One-9"), "--check-config", "--conf", "conf/flock.json");
        assertThat(ok[0]).isEqualTo(0);
        String out = (String) ok[1];
        assertThat(out).startsWith("flock: configuration is valid (defaults < --conf conf/flock.json < environment)")
                .contains("redis://:***@my_redis:6379/1").containsPattern("FLOCK_ADMIN_PASSWORD +adminPassword = \\*\\*\\*")
                .doesNotContain("Redis-Pw-9").doesNotContain("Admin-Pw-9").doesNotContain("Key-One-9").doesNotContain("flock started");

        Object[] bad = runToExit(Map.of("FLOCK_REDIS_URL", "redis://:Redis-Pw-9@my_redis:70000/1"), "--check-config");
        assertThat(bad[0]).isEqualTo(2);
        assertThat(((String) bad[1]).strip()).isEqualTo(
                "flock: invalid configuration: FLOCK_REDIS_URL has a bad port: the port must be 1..65535");
    }

    @Test
    void unknownFlockVariable_oneWarnLine_namingTheClosestSetting() throws Exception {
        try (JarProcess flock = JarProcess.start(Map.of("FLOCK_MAX_ROOMSIZE", "5"))) {
            assertThat(flock.terminate(10_000)).isTrue();
            List<String> warnings = flock.output().lines().filter(l -> l.contains("FLOCK_MAX_ROOMSIZE")).toList();
            assertThat(warnings).hasSize(1);
            JsonObject line = new JsonObject(warnings.get(0));
            assertThat(line.getString("level")).isEqualTo("WARN");
            assertThat(line.getString("message")).isEqualTo(
                    "environment variable FLOCK_MAX_ROOMSIZE is not a Flock setting and is ignored; did you mean FLOCK_MAX_ROOM_SIZE?");
        }
    }
}
