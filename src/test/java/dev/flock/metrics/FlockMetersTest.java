package dev.flock.metrics;

import dev.flock.FlockServer;
import dev.flock.ops.Await;
import dev.flock.support.RedisExtension;
import dev.flock.support.TestServers;
import dev.flock.support.VirtualClock;
import dev.flock.support.WsClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static dev.flock.support.WsClient.await;
import static org.assertj.core.api.Assertions.assertThat;

/** What Flock's meters count, driven by real clients over real sockets: delivery time, drops, Redis trouble. */
@ExtendWith(VertxExtension.class)
class FlockMetersTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();

    private static double dropped(MeterRegistry r, String reason) {
        Counter c = r.find("flock.messages.dropped").tag("reason", reason).counter();
        return c == null ? -1 : c.count();
    }

    private static long deliveries(MeterRegistry r, String kind) {
        Timer t = r.find("flock.delivery.duration").tag("kind", kind).timer();
        return t == null ? -1 : t.count();
    }

    @Test
    void deliveryTime_oneSamplePerFanOut_notPerRecipient_forCursorAndPresence(Vertx vertx) {
        FlockServer server = TestServers.start(vertx, "FLOCK_FLUSH_INTERVAL_MS", "0");
        MeterRegistry r = server.metrics().registry();
        List<WsClient> clients = List.of(WsClient.connect(vertx, server.port()), WsClient.connect(vertx, server.port()),
                WsClient.connect(vertx, server.port()), WsClient.connect(vertx, server.port()));
        try {
            String[] users = {"alice", "bob", "carol", "dave"};
            for (int i = 0; i < users.length; i++) {
                clients.get(i).joinAndAck("room-1", users[i], new JsonObject());
            }
            assertThat(deliveries(r, "cursor")).isZero();
            assertThat(deliveries(r, "presence")).isZero();

            clients.get(0).move("room-1", 0.25, 0.75);
            for (WsClient c : clients.subList(1, 4)) {
                c.await(WsClient.is("cursor:updated", "room-1", "alice"));
            }
            Await.until("one cursor sample", () -> deliveries(r, "cursor") == 1);

            clients.get(1).send(new JsonObject().put("type", "presence:update").put("roomId", "room-1")
                    .put("metadata", new JsonObject().put("status", "away")));
            for (WsClient c : List.of(clients.get(0), clients.get(2), clients.get(3))) {
                c.await(WsClient.is("presence:updated", "room-1", "bob"));
            }
            Await.until("one presence sample", () -> deliveries(r, "presence") == 1);
            // three recipients each time, yet one sample per fan-out; heartbeats are not timed
            clients.get(2).heartbeat("room-1");
            clients.get(3).move("room-1", 0.5, 0.5);
            clients.get(0).await(WsClient.is("cursor:updated", "room-1", "dave"));
            Await.until("the second cursor sample", () -> deliveries(r, "cursor") == 2);
            assertThat(deliveries(r, "presence")).isEqualTo(1);
            assertThat(r.find("flock.delivery.duration").tag("kind", "cursor").timer().max(java.util.concurrent.TimeUnit.SECONDS))
                    .isGreaterThan(0).isLessThan(10);
        } finally {
            clients.forEach(WsClient::close);
            await(server.stop());
        }
    }

    @Test
    void cursorMovesBeforeAJoin_thatAreNeverRelayed_areCountedAsDroppedBeforeJoin(Vertx vertx) {
        VirtualClock clock = new VirtualClock();
        FlockServer server = TestServers.start(vertx, clock);
        MeterRegistry r = server.metrics().registry();
        WsClient alice = WsClient.connect(vertx, server.port());
        WsClient bob = WsClient.connect(vertx, server.port());
        try {
            bob.joinAndAck("room-1", "bob", new JsonObject());
            assertThat(dropped(r, "before_join")).isZero();
            // five moves before alice's join: the latest three are held, the two oldest pushed out
            for (int i = 0; i < 5; i++) {
                alice.move("room-1", i / 10.0, 0.5);
            }
            Await.until("two moves pushed out of the pre-join hold", () -> dropped(r, "before_join") == 2);
            // the join comes 600 ms later: the three held moves are older than the 500 ms hold, none is relayed
            clock.advance(600);
            alice.joinAndAck("room-1", "alice", new JsonObject());
            Await.until("the three stale moves dropped at the join", () -> dropped(r, "before_join") == 5);
            assertThat(bob.count(WsClient.is("cursor:updated", "room-1", "alice"))).isZero();

            // moves for a room whose join never comes are dropped when the scan finds them stale
            alice.move("room-2", 0.1, 0.1);
            alice.move("room-2", 0.2, 0.2);
            alice.heartbeat("room-1"); // processed after the moves: the moves are held by now
            Await.until("the heartbeat counted", () -> r.find("flock.messages.received").tag("type", "heartbeat")
                    .counter().count() == 1);
            clock.advance(2_000); // two scans: the moves are stale (over 500 ms) at the second
            Await.until("the two moves of room-2 dropped", () -> dropped(r, "before_join") == 7);

            // a leave before the join takes the moves held for it along
            alice.move("room-4", 0.3, 0.3);
            alice.leave("room-4");
            Await.until("the move held for room-4 dropped", () -> dropped(r, "before_join") == 8);

            // a presence update for a room never joined is not_joined
            alice.send(new JsonObject().put("type", "presence:update").put("roomId", "room-3")
                    .put("metadata", new JsonObject().put("k", 1)));
            Await.until("a not_joined drop", () -> dropped(r, "not_joined") == 1);
        } finally {
            alice.close();
            bob.close();
            await(server.stop());
        }
    }

    @Test
    void redis_aLostConnection_countsAnErrorAndAReconnect(Vertx vertx) {
        FlockServer server = TestServers.startOnRedis(vertx, REDIS.server().url());
        MeterRegistry r = server.metrics().registry();
        try {
            Await.until("Redis connected", () -> server.redis().connected());
            // a fresh Redis has no scripts cached: the first EVALSHA of each answers NOSCRIPT, the EVAL fallback runs,
            // and none of that is an error
            REDIS.server().command("SCRIPT", "FLUSH");
            WsClient alice = WsClient.connect(vertx, server.port());
            alice.joinAndAck("room-1", "alice", new JsonObject());
            alice.close();
            assertThat(r.find("flock.redis.errors").tag("kind", "command").counter().count()).isZero();
            assertThat(r.find("flock.redis.errors").tag("kind", "connection_lost").counter().count()).isZero();
            assertThat(r.find("flock.redis.reconnects").counter().count()).isZero();

            REDIS.server().command("CLIENT", "KILL", "TYPE", "normal");
            REDIS.server().command("CLIENT", "KILL", "TYPE", "pubsub");

            Await.until("a reconnect counted", () -> r.find("flock.redis.reconnects").counter().count() == 1
                    && server.redis().connected());
            assertThat(r.find("flock.redis.errors").tag("kind", "connection_lost").counter().count()).isEqualTo(1);
            assertThat(r.find("flock.redis.connected").gauge().value()).isEqualTo(1);
        } finally {
            await(server.stop());
        }
    }
}
