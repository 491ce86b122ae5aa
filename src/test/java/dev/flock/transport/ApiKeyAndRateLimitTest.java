package dev.flock.transport;

import dev.flock.FlockServer;
import dev.flock.support.TestServers;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static dev.flock.support.WsClient.type;
import static org.assertj.core.api.Assertions.assertThat;

/** PROTOCOL.md's API key rules, and the per-connection rate limit. */
@ExtendWith(VertxExtension.class)
class ApiKeyAndRateLimitTest {

    private static WebSocketConnectOptions at(FlockServer server, String uri) {
        return new WebSocketConnectOptions().setHost("127.0.0.1").setPort(server.port()).setURI(uri);
    }

    @Test
    void wrongKeyAtTheUpgrade_isRefusedWith401(Vertx vertx) {
        FlockServer server = TestServers.start(vertx, "FLOCK_API_KEYS", "k1,k2");
        Throwable failure = WsClient.connectFailure(vertx, at(server, "/?apiKey=nope"));
        assertThat(failure).isInstanceOf(UpgradeRejectedException.class);
        assertThat(((UpgradeRejectedException) failure).getStatus()).isEqualTo(401);
        Throwable header = WsClient.connectFailure(vertx, at(server, "/").addHeader("X-Flock-Api-Key", "nope"));
        assertThat(((UpgradeRejectedException) header).getStatus()).isEqualTo(401);
    }

    @Test
    void validUpgradeKey_admitsEveryJoin_whateverTheJoinFieldSays(Vertx vertx) {
        FlockServer server = TestServers.start(vertx, "FLOCK_API_KEYS", "k1,k2");
        try (WsClient c = WsClient.connect(vertx, at(server, "/flock/ws?apiKey=k2"))) {
            c.joinAndAck("a", "u", new JsonObject());
            c.send(new JsonObject().put("type", "join").put("roomId", "b").put("userId", "u")
                    .put("metadata", new JsonObject()).put("apiKey", "wrong"));
            c.await(m -> type(m, "join:ack") && "b".equals(m.getString("roomId")));
        }
        try (WsClient c = WsClient.connect(vertx, at(server, "/").addHeader("X-Flock-Api-Key", "k1"))) {
            c.joinAndAck("a", "v", new JsonObject());
        }
    }

    @Test
    void noUpgradeKey_socketOpens_eachJoinNeedsAValidKey_elseInvalidApiKeyAndClose(Vertx vertx) {
        FlockServer server = TestServers.start(vertx, "FLOCK_API_KEYS", "k1");
        try (WsClient c = WsClient.connect(vertx, server.port())) {
            c.send(new JsonObject().put("type", "join").put("roomId", "a").put("userId", "u")
                    .put("metadata", new JsonObject()).put("apiKey", "k1"));
            c.await(m -> type(m, "join:ack"));
            c.join("b", "u", new JsonObject());
            JsonObject error = c.await(m -> type(m, "error"));
            assertThat(error.getString("code")).isEqualTo("INVALID_API_KEY");
            assertThat(c.awaitClose()).isEqualTo(1008);
        }
    }

    @Test
    void openMode_acceptsAnyKeyOrNone(Vertx vertx) {
        FlockServer server = TestServers.start(vertx);
        try (WsClient c = WsClient.connect(vertx, at(server, "/?apiKey=whatever"))) {
            c.joinAndAck("a", "u", new JsonObject());
        }
    }

    @Test
    void moreMessagesThanTheLimitInOneSecond_getRateLimitedAndClose(Vertx vertx) {
        FlockServer server = TestServers.start(vertx, "FLOCK_MAX_MESSAGES_PER_SECOND", "20");
        try (WsClient c = WsClient.connect(vertx, server.port())) {
            c.joinAndAck("a", "u", new JsonObject());
            for (int i = 0; i < 25 && !c.isClosed(); i++) {
                try {
                    c.heartbeat("a"); // heartbeats count
                } catch (RuntimeException closedMeanwhile) {
                    break; // the server may close the socket before the loop sees it
                }
            }
            JsonObject error = c.await(m -> type(m, "error"));
            assertThat(error.getString("code")).isEqualTo("RATE_LIMITED");
            assertThat(c.awaitClose()).isEqualTo(1008);
            assertThat(c.count(m -> type(m, "heartbeat:ack"))).isEqualTo(19); // join + 19 heartbeats = 20
        }
    }
}
