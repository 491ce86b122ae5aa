package dev.flock.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.flock.FlockServer;
import dev.flock.support.HttpCalls;
import dev.flock.support.LogCapture;
import dev.flock.support.TestServers;
import dev.flock.support.VirtualClock;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.flock.support.WsClient.type;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The audit trail over real HTTP and WebSockets: each refusal or admin action writes one line on {@value
 * AuditLog#LOGGER} with its event and the client's address, never a secret; a flood writes a bounded number of lines,
 * counted per window on the server's clock (which the test moves).
 */
@ExtendWith(VertxExtension.class)
class AuditTrailTest {

    private static final String PASSWORD = "pw-s3cret-admin";
    private static final String ADMIN_TOKEN = "tok-s3cret-admin";
    private static final String API_KEY = "key-s3cret-server";
    private static final String WS_KEY = "key-s3cret-ws";

    private final VirtualClock clock = new VirtualClock();
    private final LogCapture audit = LogCapture.of(AuditLog.LOGGER);
    private HttpClient http;

    @AfterEach
    void close() {
        audit.close();
        if (http != null) {
            http.close();
        }
    }

    private FlockServer start(Vertx vertx, String... env) {
        http = vertx.createHttpClient();
        return TestServers.start(vertx, clock, env);
    }

    private HttpCalls.Response call(Vertx vertx, FlockServer server, HttpMethod method, String path, String body,
                                    Map<String, String> headers) {
        return HttpCalls.send(vertx, http, new RequestOptions().setMethod(method).setHost("127.0.0.1")
                .setPort(server.port()).setURI(path), body, headers);
    }

    /** The formatted lines so far, each with its arguments (the JSON fields) after it. */
    private List<String> lines() {
        return audit.atLeast(Level.INFO).stream().map(AuditTrailTest::line).toList();
    }

    private static String line(ILoggingEvent e) {
        return e.getLevel() + " " + e.getFormattedMessage() + " " + Arrays.toString(e.getArgumentArray());
    }

    private List<String> linesOf(String event) {
        return lines().stream().filter(l -> l.contains("event=" + event + " ")).toList();
    }

    private void assertNoSecretLogged() {
        assertThat(lines()).noneMatch(l -> l.contains(PASSWORD) || l.contains(ADMIN_TOKEN) || l.contains(API_KEY)
                || l.contains(WS_KEY) || l.contains("wrong-guess"));
    }

    @Test
    void adminLogins_failedAtWarn_successfulAtInfo_withTheAddress(Vertx vertx) {
        FlockServer server = start(vertx, "FLOCK_ADMIN_PASSWORD", PASSWORD);
        assertThat(call(vertx, server, HttpMethod.POST, "/admin/login", "password=wrong-guess", Map.of()).status())
                .isEqualTo(401);
        assertThat(linesOf("admin_login_failed")).singleElement().asString()
                .startsWith("WARN admin login failed: wrong password event=admin_login_failed remote=127.0.0.1 via=password");

        assertThat(call(vertx, server, HttpMethod.POST, "/admin/login", "password=" + PASSWORD, Map.of()).status())
                .isEqualTo(303);
        assertThat(linesOf("admin_login")).singleElement().asString()
                .startsWith("INFO admin login event=admin_login remote=127.0.0.1 via=password");
        assertNoSecretLogged();
    }

    @Test
    void adminCloseRoomAndCloseAll_sayWhoWhichRoomAndHowMany_aWrongTokenIsRefused(Vertx vertx) {
        FlockServer server = start(vertx, "FLOCK_ADMIN_PASSWORD", PASSWORD, "FLOCK_ADMIN_TOKEN", ADMIN_TOKEN);
        Map<String, String> bearer = Map.of("Authorization", "Bearer " + ADMIN_TOKEN, "Content-Type", "application/json");
        try (WsClient a = WsClient.connect(vertx, server.port()); WsClient b = WsClient.connect(vertx, server.port());
             WsClient c = WsClient.connect(vertx, server.port())) {
            a.joinAndAck("board", "ann", new JsonObject());
            b.joinAndAck("board", "bob", new JsonObject());
            c.joinAndAck("other", "cy", new JsonObject());

            assertThat(call(vertx, server, HttpMethod.POST, "/api/admin/close-room", "{\"roomId\":\"board\"}",
                    Map.of("Authorization", "Bearer wrong-guess", "Content-Type", "application/json")).status()).isEqualTo(401);
            assertThat(linesOf("admin_login_failed")).singleElement().asString().startsWith(
                    "WARN admin request refused: wrong or unconfigured admin token event=admin_login_failed remote=127.0.0.1 via=token");

            assertThat(call(vertx, server, HttpMethod.POST, "/api/admin/close-room", "{\"roomId\":\"board\"}", bearer)
                    .status()).isEqualTo(200);
            a.await(m -> type(m, "error") && "ROOM_CLOSED".equals(m.getString("code")));
            assertThat(linesOf("admin_close_room")).singleElement().asString().startsWith(
                    "INFO admin closed a room event=admin_close_room remote=127.0.0.1 via=token roomId=board users=2");

            assertThat(call(vertx, server, HttpMethod.POST, "/api/admin/close-all", "{}", bearer).status()).isEqualTo(200);
            assertThat(linesOf("admin_close_all")).singleElement().asString().startsWith(
                    "INFO admin closed every room event=admin_close_all remote=127.0.0.1 via=token rooms=1 users=1");
        }
        assertNoSecretLogged();
    }

    @Test
    void serverApiKeyRefusals_areLogged_andAFloodOf1000WritesABoundedNumberOfLines(Vertx vertx) {
        FlockServer server = start(vertx, "FLOCK_SERVER_API_KEY", API_KEY);
        Map<String, String> wrong = Map.of("Authorization", "Bearer wrong-guess");
        assertThat(call(vertx, server, HttpMethod.GET, "/api/v1/rooms", null, wrong).status()).isEqualTo(401);
        assertThat(linesOf("api_key_refused")).singleElement().asString()
                .startsWith("WARN server API request refused event=api_key_refused remote=127.0.0.1 key=wrong");

        for (int i = 1; i < 1000; i++) { // the throttle locks after a few: the rest are 429s, audited as throttled
            int status = call(vertx, server, HttpMethod.GET, "/api/v1/rooms", null, wrong).status();
            assertThat(status).isIn(401, 429);
        }
        assertThat(lines()).as("one line per event at once").hasSize(2);
        assertThat(linesOf("api_key_throttled")).singleElement().asString().startsWith(
                "WARN server API request throttled after repeated wrong keys event=api_key_throttled remote=127.0.0.1");

        clock.advance(AuditLog.WINDOW_SECONDS * 1000L); // the window ends: one line each with its count
        List<String> all = lines();
        assertThat(all).hasSize(4);
        List<String> summaries = all.subList(2, 4);
        assertThat(summaries).allMatch(l -> l.contains("more like it in the last 60 s"), "summaries");
        assertThat(summaries).anyMatch(l -> l.contains("event=api_key_refused")).anyMatch(l -> l.contains("event=api_key_throttled"));
        // every one of the 1000 refusals is accounted for: two first lines, the rest in the counts
        assertThat(summaries.stream().mapToInt(AuditTrailTest::count).sum() + 2).as("%s", all).isEqualTo(1000);

        clock.advance(AuditLog.WINDOW_SECONDS * 1000L); // a quiet window: nothing more, and the series ends
        assertThat(lines()).hasSize(4);
        assertNoSecretLogged();
    }

    /** The count in a summary line ("... (and 995 more like it in the last 60 s)"). */
    private static int count(String line) {
        int at = line.indexOf("(and ") + 5;
        return Integer.parseInt(line.substring(at, line.indexOf(' ', at)));
    }

    @Test
    void webSocketUpgradesWithABadKeyOrToken_areLoggedWithTheForwardedAddress_behindATrustedProxy(Vertx vertx) {
        FlockServer server = start(vertx, "FLOCK_API_KEYS", WS_KEY, "FLOCK_TRUST_PROXY", "true");
        WebSocketConnectOptions bad = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(server.port())
                .setURI("/?apiKey=wrong-guess").addHeader("X-Forwarded-For", "198.51.100.1, 203.0.113.7");
        for (int i = 0; i < 5; i++) {
            Throwable refused = WsClient.connectFailure(vertx, bad);
            assertThat(refused).isInstanceOf(UpgradeRejectedException.class);
        }
        assertThat(linesOf("ws_upgrade_refused")).singleElement().asString()
                .startsWith("WARN WebSocket upgrade refused event=ws_upgrade_refused remote=203.0.113.7 error=INVALID_API_KEY");
        assertNoSecretLogged();
    }

    @Test
    void aTokenRefusal_namesItsReason(Vertx vertx) {
        FlockServer server = start(vertx, "FLOCK_AUTH", "required", "FLOCK_JWT_SECRET", "0123456789abcdef0123456789abcdef");
        Throwable refused = WsClient.connectFailure(vertx, new WebSocketConnectOptions().setHost("127.0.0.1")
                .setPort(server.port()).setURI("/"));
        assertThat(((UpgradeRejectedException) refused).getStatus()).isEqualTo(401);
        assertThat(linesOf("ws_upgrade_refused")).singleElement().asString().startsWith(
                "WARN WebSocket upgrade refused event=ws_upgrade_refused remote=127.0.0.1 error=UNAUTHORIZED reason=missing");
    }

    @Test
    void aRateLimitClose_isLoggedOnce_withTheAddress(Vertx vertx) {
        FlockServer server = start(vertx, "FLOCK_MAX_MESSAGES_PER_SECOND", "20");
        try (WsClient c = WsClient.connect(vertx, server.port())) {
            c.joinAndAck("a", "u", new JsonObject());
            for (int i = 0; i < 40 && !c.isClosed(); i++) {
                try {
                    c.heartbeat("a");
                } catch (RuntimeException closedMeanwhile) {
                    break;
                }
            }
            assertThat(c.awaitClose()).isEqualTo(1008);
        }
        assertThat(linesOf("rate_limited")).singleElement().asString().startsWith(
                "WARN socket closed for its message rate event=rate_limited remote=127.0.0.1 maxMessagesPerSecond=20");
    }

    @Test
    void aJoinWithAWrongApiKey_isLogged_withoutTheKey(Vertx vertx) {
        FlockServer server = start(vertx, "FLOCK_API_KEYS", WS_KEY);
        try (WsClient c = WsClient.connect(vertx, server.port())) {
            c.send(new JsonObject().put("type", "join").put("roomId", "a").put("userId", "u")
                    .put("metadata", new JsonObject()).put("apiKey", "wrong-guess"));
            assertThat(c.await(m -> type(m, "error")).getString("code")).isEqualTo("INVALID_API_KEY");
            assertThat(c.awaitClose()).isEqualTo(1008);
        }
        assertThat(linesOf("join_refused")).singleElement().asString()
                .startsWith("WARN join refused: API key event=join_refused remote=127.0.0.1 key=wrong");
        assertNoSecretLogged();
    }
}
