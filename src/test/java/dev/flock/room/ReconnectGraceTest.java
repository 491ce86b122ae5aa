package dev.flock.room;

import dev.flock.support.RawWebSocket;
import dev.flock.support.SdkLikeClient;
import dev.flock.support.TcpProxy;
import dev.flock.support.TestCluster;
import dev.flock.support.VirtualClock;
import dev.flock.support.WsClient;
import dev.flock.time.Clock;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.function.Predicate;

import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.type;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reconnect grace (issue 20): a connection that ends without a clean goodbye keeps its user present for
 * {@code FLOCK_RECONNECT_GRACE_MS} (5 s here, on the server's {@link VirtualClock}); a return within it shows the room
 * nothing. The blip is a {@link TcpProxy} that cuts the TCP connection without a close frame. In memory mode here;
 * {@link ReconnectGraceRedisTest} runs the same on two instances, the return on the other one.
 */
@ExtendWith(VertxExtension.class)
class ReconnectGraceTest {

    protected final VirtualClock clock = new VirtualClock();

    protected TestCluster startCluster(Vertx vertx, Clock clock, String... env) {
        return TestCluster.memory(vertx, clock, env);
    }

    private static Predicate<JsonObject> presenceOf(String userId) {
        return m -> userId.equals(m.getString("userId")) && (type(m, "user:joined") || type(m, "user:left")
                || type(m, "presence:updated"));
    }

    /** Alice, through a proxy to the cluster's first port, joined and seen by the watcher, with a cursor. */
    private WsClient aliceBehind(Vertx vertx, TcpProxy proxy, WsClient watcher) {
        WsClient alice = WsClient.connect(vertx, proxy.port());
        alice.joinAndAck("doc", "alice", new JsonObject().put("name", "A"));
        watcher.await(is("user:joined", "doc", "alice"));
        alice.move("doc", 0.5, 0.5);
        watcher.await(is("cursor:updated", "doc", "alice"));
        return alice;
    }

    /** Alice joins behind the proxy, then her network blips: the watcher sees her cursor go, which shows it was handled. */
    private void blip(Vertx vertx, TcpProxy proxy, WsClient watcher) {
        aliceBehind(vertx, proxy, watcher);
        proxy.cut();
        watcher.await(is("cursor:removed", "doc", "alice"));
    }

    @Test
    void aBlipAndARejoinWithinTheGrace_showTheRoomNothing_butTheCursorGoesAtOnce(Vertx vertx) {
        try (TestCluster cluster = startCluster(vertx, clock);
             WsClient watcher = WsClient.connect(vertx, cluster.port(1));
             TcpProxy proxy = TcpProxy.to(vertx, cluster.port(0))) {
            watcher.joinAndAck("doc", "watcher", new JsonObject());
            WsClient alice = aliceBehind(vertx, proxy, watcher);
            long presence = watcher.count(presenceOf("alice"));

            proxy.cut();
            watcher.await(is("cursor:removed", "doc", "alice")); // the disconnect was handled: cursor gone at once
            assertThat(alice.awaitClose()).isEqualTo(1006);
            clock.advance(Duration.ofSeconds(1)); // the SDK is back after 1 s, here on the other instance
            try (WsClient back = WsClient.connect(vertx, cluster.port(1))) {
                back.joinAndAck("doc", "alice", new JsonObject().put("name", "A"));
                clock.advance(Duration.ofSeconds(10)); // past the grace
                back.move("doc", 0.1, 0.1); // a marker: everything the room said before it has arrived
                watcher.await(m -> is("cursor:updated", "doc", "alice").test(m) && m.getJsonObject("position").getDouble("x") == 0.1);
                assertThat(watcher.count(presenceOf("alice"))).as("presence events for alice").isEqualTo(presence);
                try (WsClient late = WsClient.connect(vertx, cluster.port(0))) {
                    assertThat(late.joinAndAck("doc", "late", new JsonObject()).getJsonArray("users").stream()
                            .map(u -> ((JsonObject) u).getString("userId"))).contains("alice", "watcher");
                }
            }
        }
    }

    @Test
    void aReturnWithOtherMetadata_isAPresenceUpdate_notALeaveAndJoin(Vertx vertx) {
        try (TestCluster cluster = startCluster(vertx, clock);
             WsClient watcher = WsClient.connect(vertx, cluster.port(1));
             TcpProxy proxy = TcpProxy.to(vertx, cluster.port(0))) {
            watcher.joinAndAck("doc", "watcher", new JsonObject());
            blip(vertx, proxy, watcher);
            try (WsClient back = WsClient.connect(vertx, cluster.port(1))) {
                back.joinAndAck("doc", "alice", new JsonObject().put("name", "A2"));
                JsonObject update = watcher.await(is("presence:updated", "doc", "alice"));
                assertThat(update.getJsonObject("metadata").getMap()).containsEntry("name", "A2");
                assertThat(watcher.count(is("user:left", "doc", "alice"))).isZero();
                assertThat(watcher.count(is("user:joined", "doc", "alice"))).isEqualTo(1);
            }
        }
    }

    @Test
    void nobodyBack_userLeftOnceWhenTheGraceEnds(Vertx vertx) {
        try (TestCluster cluster = startCluster(vertx, clock);
             WsClient watcher = WsClient.connect(vertx, cluster.port(1));
             TcpProxy proxy = TcpProxy.to(vertx, cluster.port(0))) {
            watcher.joinAndAck("doc", "watcher", new JsonObject());
            blip(vertx, proxy, watcher);
            clock.advance(Duration.ofMillis(4900));
            watcher.heartbeat("doc");
            watcher.await(m -> type(m, "heartbeat:ack"));
            assertThat(watcher.count(is("user:left", "doc", "alice"))).as("within the grace").isZero();
            clock.advance(Duration.ofMillis(200));
            watcher.await(is("user:left", "doc", "alice"));
            clock.advance(Duration.ofSeconds(10));
            watcher.heartbeat("doc");
            watcher.await(m -> watcher.count(x -> type(x, "heartbeat:ack")) >= 2);
            assertThat(watcher.count(is("user:left", "doc", "alice"))).isEqualTo(1);
        }
    }

    @Test
    void theAdminShowsAGracedUserAsPresentAndReconnecting(Vertx vertx) {
        try (TestCluster cluster = startCluster(vertx, clock, "FLOCK_ADMIN_PASSWORD", "pw", "FLOCK_ADMIN_TOKEN", "t0ken");
             WsClient watcher = WsClient.connect(vertx, cluster.port(1));
             TcpProxy proxy = TcpProxy.to(vertx, cluster.port(0))) {
            watcher.joinAndAck("doc", "watcher", new JsonObject());
            blip(vertx, proxy, watcher);
            dev.flock.support.HttpCalls.Response r = dev.flock.support.HttpCalls.get(vertx, cluster.port(0), "/api/admin/rooms",
                    java.util.Map.of("Authorization", "Bearer t0ken"));
            JsonObject alice = new JsonObject(r.body()).getJsonArray("rooms").getJsonObject(0).getJsonArray("members").stream()
                    .map(JsonObject.class::cast).filter(m -> "alice".equals(m.getString("userId"))).findFirst().orElseThrow();
            assertThat(alice.getBoolean("reconnecting")).isTrue();
        }
    }

    @Test
    void cleanGoodbyes_1000_1001_andNoCode_announceTheLeaveAtOnce(Vertx vertx) {
        try (TestCluster cluster = startCluster(vertx, clock);
             WsClient watcher = WsClient.connect(vertx, cluster.port(1))) {
            watcher.joinAndAck("doc", "watcher", new JsonObject());
            int n = 0;
            for (int code : new int[]{1000, 1001, -1}) {
                String user = "u" + (n++);
                RawWebSocket raw = RawWebSocket.connect(cluster.port(0));
                raw.send(RawWebSocket.joinMessage("doc", user));
                watcher.await(is("user:joined", "doc", user));
                if (code < 0) {
                    raw.send(true, RawWebSocket.CLOSE, new byte[0]); // a close frame without a code (1005)
                } else {
                    raw.close(code, "bye");
                }
                watcher.await(is("user:left", "doc", user)); // no clock moved: at once
                raw.close();
            }
        }
    }

    @Test
    void aGracedUserKeepsTheirSeatInAFullRoom(Vertx vertx) {
        try (TestCluster cluster = startCluster(vertx, clock, "FLOCK_MAX_ROOM_SIZE", "2");
             WsClient watcher = WsClient.connect(vertx, cluster.port(1));
             TcpProxy proxy = TcpProxy.to(vertx, cluster.port(0));
             WsClient carol = WsClient.connect(vertx, cluster.port(1))) {
            watcher.joinAndAck("doc", "watcher", new JsonObject());
            blip(vertx, proxy, watcher);
            carol.join("doc", "carol", new JsonObject());
            assertThat(carol.await(m -> type(m, "error")).getString("code")).isEqualTo("ROOM_FULL");
            clock.advance(Duration.ofSeconds(6)); // nobody came back: the seat is free
            watcher.await(is("user:left", "doc", "alice"));
            int from = carol.size();
            carol.heartbeat("doc"); // the refused join is retried by a heartbeat
            carol.awaitFrom(from, m -> type(m, "join:ack"));
        }
    }

    @Test
    void anSdkLikeClient_aNetworkDropOf1500ms_causesNoPresenceEventForItsPeers(Vertx vertx) throws InterruptedException {
        try (TestCluster cluster = startCluster(vertx, clock);
             WsClient watcher = WsClient.connect(vertx, cluster.port(1));
             TcpProxy proxy = TcpProxy.to(vertx, cluster.port(0))) {
            watcher.joinAndAck("doc", "watcher", new JsonObject());
            SdkLikeClient sdk = new SdkLikeClient(vertx, proxy.port(), "/").reconnectDelayMs(1000)
                    .room("doc", "alice", new JsonObject().put("name", "A")).connect();
            watcher.await(is("user:joined", "doc", "alice"));
            long presence = watcher.count(presenceOf("alice"));
            proxy.down(true);
            proxy.cut();
            Thread.sleep(1500); // real time: the SDK-like client's own reconnect timer (1 s) fails once while down
            proxy.down(false);
            for (int i = 0; i < 50 && sdk.opens() < 2; i++) {
                Thread.sleep(100); // bounded: its next try is 1 s after the failed one
            }
            assertThat(sdk.opens()).isEqualTo(2);
            watcher.heartbeat("doc");
            watcher.await(m -> type(m, "heartbeat:ack"));
            try (WsClient late = WsClient.connect(vertx, cluster.port(1))) { // the server's clock never moved
                assertThat(late.joinAndAck("doc", "late", new JsonObject()).getJsonArray("users").stream()
                        .map(u -> ((JsonObject) u).getString("userId"))).contains("alice");
            }
            assertThat(watcher.count(presenceOf("alice"))).isEqualTo(presence);
            sdk.close();
        }
    }
}
