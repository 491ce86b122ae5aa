package dev.flock.warmup;

import dev.flock.FlockServer;
import dev.flock.Main;
import dev.flock.config.AuthSettings;
import dev.flock.config.FlockConfig;
import dev.flock.support.Fleet;
import dev.flock.support.HttpCalls;
import dev.flock.support.RedisExtension;
import dev.flock.support.RedisMonitor;
import dev.flock.support.WebhookReceiver;
import dev.flock.support.WsClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.flock.support.Fleet.awaitTrue;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The start-up warm-up (issue 22): its lifecycles all complete on the private server, /ready holds 503 until then,
 * and the serving instance (here in Redis mode, with webhooks and the server API) sees none of it: no Redis command
 * names a warm-up room, no webhook event, no room in the API.
 */
class StartupWarmupTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();
    private static final String SECRET = "a-webhook-secret-of-32-bytes-ok!";
    private static final Duration WAIT = Duration.ofSeconds(10);
    private WebhookReceiver receiver;
    private Fleet fleet;

    @BeforeEach
    void setUp() {
        REDIS.server().command("FLUSHALL");
        receiver = WebhookReceiver.start(SECRET);
        fleet = new Fleet(REDIS.server().url());
    }

    @AfterEach
    void tearDown() {
        fleet.close();
        receiver.close();
    }

    private FlockServer serving(String connections) {
        return fleet.instance("FLOCK_WARMUP_CONNECTIONS", connections, "FLOCK_WEBHOOK_URL", receiver.url(),
                "FLOCK_WEBHOOK_SECRET", SECRET, "FLOCK_WEBHOOK_BATCH_MS", "0", "FLOCK_SERVER_API_KEY", "api-key");
    }

    @Test
    void everyLifecycleCompletes_readyWaitsForIt_andTheServingInstanceSeesNothing() throws Exception {
        FlockServer server = serving("300");
        try (RedisMonitor monitor = new RedisMonitor(REDIS.server())) {
            StartupWarmup warmup = StartupWarmup.start(server.config(), server.readiness(), Main::newVertx);
            HttpCalls.Response warming = HttpCalls.get(fleet.clientVertx(), server.port(), "/ready");
            assertThat(warming.status()).isEqualTo(503);
            assertThat(new JsonObject(warming.body()).getString("reason")).isEqualTo("warm-up: warming up");
            assertThat(HttpCalls.get(fleet.clientVertx(), server.port(), "/health").status()).isEqualTo(200);

            StartupWarmup.Result result = WsClient.await(warmup.done());
            assertThat(result).isEqualTo(new StartupWarmup.Result(300, 0, false));
            assertThat(HttpCalls.get(fleet.clientVertx(), server.port(), "/ready").status()).isEqualTo(200);

            // a real join afterwards: its commands and its webhook mark the point by which anything else would be in
            fleet.client(server).joinAndAck("real", "alice", new JsonObject().put("name", "A"));
            List<String> commands = monitor.callsUntilMarker("").stream().map(args -> String.join(" ", args)).toList();
            assertThat(commands).noneMatch(c -> c.contains("warm-up"));
            assertThat(commands).anyMatch(c -> c.contains("real")); // the monitor does see this instance's rooms
        }
        awaitTrue("the real join's webhook", WAIT,
                () -> receiver.acceptedEvents().stream().anyMatch(e -> "alice".equals(e.getString("userId"))));
        assertThat(receiver.acceptedEvents()).allSatisfy(e -> assertThat(e.getString("roomId")).isEqualTo("real"));
        HttpCalls.Response rooms = HttpCalls.get(fleet.clientVertx(), server.port(), "/api/v1/rooms",
                Map.of("Authorization", "Bearer api-key"));
        assertThat(rooms.status()).isEqualTo(200);
        assertThat(rooms.body()).contains("real").doesNotContain("warm-up");
    }

    @Test
    void aStopEndsItEarly_andTheTimeLimitCutsItShort() {
        FlockServer server = serving("20000");
        StartupWarmup stopped = StartupWarmup.start(server.config(), server.readiness(), Main::newVertx);
        stopped.stop();
        StartupWarmup.Result result = WsClient.await(stopped.done());
        assertThat(result.cutShort()).isTrue();
        assertThat(result.connections()).isLessThan(20000);

        StartupWarmup limited = StartupWarmup.start(server.config(), server.readiness(), Main::newVertx, 1);
        StartupWarmup.Result cut = WsClient.await(limited.done());
        assertThat(cut.cutShort()).isTrue();
        assertThat(cut.connections()).isLessThan(20000);
        assertThat(server.readiness().publicReason()).isNull(); // the check goes with the warm-up
    }

    @Test
    void zeroConnections_isOff() {
        FlockServer server = serving("0");
        StartupWarmup warmup = StartupWarmup.start(server.config(), server.readiness(), Main::newVertx);
        assertThat(warmup.done().result()).isEqualTo(new StartupWarmup.Result(0, 0, false));
        assertThat(server.readiness().publicReason()).isNull();
    }

    @Test
    void thePrivateServer_keepsTheCodePathSettings_andDropsEverythingThatReachesOthers() {
        FlockConfig serving = FlockConfig.fromEnv(Map.ofEntries(
                Map.entry("FLOCK_PORT", "8787"), Map.entry("FLOCK_REDIS_URL", REDIS.server().url()),
                Map.entry("FLOCK_API_KEYS", "k1"), Map.entry("FLOCK_ADMIN_PASSWORD", "a-long-admin-password"),
                Map.entry("FLOCK_SERVER_API_KEY", "s1"), Map.entry("FLOCK_WEBHOOK_URL", receiver.url()),
                Map.entry("FLOCK_WEBHOOK_SECRET", SECRET), Map.entry("FLOCK_AUTH", "required"),
                Map.entry("FLOCK_JWT_SECRET", "a-jwt-secret-that-is-at-least-32-bytes"), Map.entry("FLOCK_MAX_ROOM_SIZE", "2"),
                Map.entry("FLOCK_MAX_CONNECTIONS_PER_IP", "3"), Map.entry("FLOCK_FLUSH_INTERVAL_MS", "0"),
                Map.entry("FLOCK_DUPLICATE_JOIN", "evict"), Map.entry("FLOCK_METRICS_ENABLED", "false"),
                Map.entry("FLOCK_WEBSOCKET_COMPRESSION", "true"), Map.entry("FLOCK_MAX_METADATA_BYTES", "512")));
        FlockConfig own = StartupWarmup.privateConfig(serving);
        assertThat(own.port()).isZero();
        assertThat(own.host()).isEqualTo("127.0.0.1");
        assertThat(own.redisEnabled()).isFalse();
        assertThat(own.webhooks().enabled()).isFalse();
        assertThat(own.apiKeysRequired()).isFalse();
        assertThat(own.adminEnabled()).isFalse();
        assertThat(own.serverApiEnabled()).isFalse();
        assertThat(own.auth().mode()).isEqualTo(AuthSettings.Mode.OFF);
        assertThat(own.maxRoomSize()).isZero();
        assertThat(own.maxConnectionsPerIp()).isZero();
        assertThat(own.warmupConnections()).isZero();
        assertThat(own.flushIntervalMs()).isZero();
        assertThat(own.duplicateJoin()).isEqualTo(FlockConfig.DuplicateJoin.EVICT);
        assertThat(own.metricsEnabled()).isFalse();
        assertThat(own.websocketCompression()).isTrue();
        assertThat(own.maxMetadataBytes()).isEqualTo(512);
    }
}
