package dev.flock.room;

import dev.flock.FlockServer;
import dev.flock.support.Fleet;
import dev.flock.support.RedisExtension;
import dev.flock.support.TcpProxy;
import dev.flock.support.TestCluster;
import dev.flock.support.TestServers;
import dev.flock.support.VirtualClock;
import dev.flock.support.WsClient;
import dev.flock.time.Clock;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static dev.flock.support.WsClient.is;
import static org.assertj.core.api.Assertions.assertThat;

/** {@link ReconnectGraceTest} on two instances on one Redis: the cut is on one, the return on the other. */
class ReconnectGraceRedisTest extends ReconnectGraceTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();

    @Override
    protected TestCluster startCluster(Vertx vertx, Clock clock, String... env) {
        return TestCluster.redis(vertx, REDIS.server(), 2, clock, env);
    }

    /**
     * The instance holding a graced connection dies during the grace (here: its clock never moves again, so it never
     * ends the grace, as a killed one would not): the graced entry and the presence expire in Redis (real time: a
     * grace of 1 s and a TTL of 2 s), and the survivor's sweep announces the leave, within grace + TTL.
     */
    @Test
    void aGracedUserWhoseInstanceDies_isEvictedByTheSurvivor_withinGracePlusTtl(Vertx vertx) {
        REDIS.server().command("FLUSHALL");
        VirtualClock deadClock = new VirtualClock();
        VirtualClock survivorClock = new VirtualClock();
        Vertx dyingVertx = Vertx.vertx(); // its own: two servers on port 0 of one Vert.x would share a listener
        FlockServer dying = TestServers.startOnRedis(dyingVertx, REDIS.server().url(), deadClock,
                "FLOCK_RECONNECT_GRACE_MS", "1000", "FLOCK_PRESENCE_TTL_SECONDS", "2");
        FlockServer survivor = TestServers.startOnRedis(vertx, REDIS.server().url(), survivorClock,
                "FLOCK_PRESENCE_TTL_SECONDS", "300");
        try (WsClient watcher = WsClient.connect(vertx, survivor.port()); TcpProxy proxy = TcpProxy.to(vertx, dying.port())) {
            watcher.joinAndAck("doc", "watcher", new JsonObject());
            WsClient alice = WsClient.connect(vertx, proxy.port());
            alice.joinAndAck("doc", "alice", new JsonObject());
            watcher.await(is("user:joined", "doc", "alice"));
            long cutAt = System.nanoTime();
            proxy.cut();
            // Redis expires the graced entry (1 s) and the presence hash (2 s) on its own clock
            Fleet.awaitTrue("alice's presence expired in Redis", Duration.ofSeconds(15),
                    () -> ((Long) REDIS.server().command("EXISTS", "flock:presence:doc:alice")) == 0);
            survivorClock.advance(Duration.ofSeconds(2)); // one periodic sweep of the survivor (or its expired-key event)
            watcher.await(is("user:left", "doc", "alice"));
            assertThat(Duration.ofNanos(System.nanoTime() - cutAt)).isLessThan(Duration.ofSeconds(1 + 2 + 3)); // + a sweep or two
            assertThat(watcher.count(is("user:left", "doc", "alice"))).isEqualTo(1);
        } finally {
            WsClient.await(dying.stop());
            WsClient.await(survivor.stop());
            WsClient.await(dyingVertx.close());
        }
    }

    @Test
    void stopWithAnnouncedLeaves_closesWithoutAGrace(Vertx vertx) {
        try (TestCluster cluster = startCluster(vertx, clock);
             WsClient watcher = WsClient.connect(vertx, cluster.port(1));
             WsClient alice = WsClient.connect(vertx, cluster.port(0))) {
            watcher.joinAndAck("doc", "watcher", new JsonObject());
            alice.joinAndAck("doc", "alice", new JsonObject());
            watcher.await(is("user:joined", "doc", "alice"));
            WsClient.await(cluster.serverFor(0).stop(true));
            watcher.await(is("user:left", "doc", "alice")); // no clock moved: at once
        }
    }

    @Test
    void anOperatorClose_publishesTheLeaveOfAGracedUser(Vertx vertx) {
        try (TestCluster cluster = startCluster(vertx, clock, "FLOCK_ADMIN_PASSWORD", "pw", "FLOCK_ADMIN_TOKEN", "t0ken");
             WsClient watcher = WsClient.connect(vertx, cluster.port(1));
             dev.flock.support.TcpProxy proxy = dev.flock.support.TcpProxy.to(vertx, cluster.port(0));
             dev.flock.support.ChannelListener channel = dev.flock.support.ChannelListener.subscribe(vertx, REDIS.server().url(),
                     "flock:broadcast:doc")) {
            watcher.joinAndAck("doc", "watcher", new JsonObject());
            WsClient alice = WsClient.connect(vertx, proxy.port());
            alice.joinAndAck("doc", "alice", new JsonObject());
            watcher.await(is("user:joined", "doc", "alice"));
            proxy.cut();
            Fleet.awaitTrue("alice graced", WsClient.TIMEOUT, () -> ((java.util.List<?>) REDIS.server()
                    .command("ZRANGE", "flock:conns:doc:alice", "0", "-1")).stream().anyMatch(c -> String.valueOf(c).startsWith("~g:")));
            io.vertx.core.http.HttpClient http = vertx.createHttpClient();
            try {
                dev.flock.support.HttpCalls.send(vertx, http, new io.vertx.core.http.RequestOptions()
                        .setMethod(io.vertx.core.http.HttpMethod.POST).setHost("127.0.0.1").setPort(cluster.port(0))
                        .setURI("/api/admin/close-room"), "roomId=doc", java.util.Map.of("Authorization", "Bearer t0ken"));
            } finally {
                http.close();
            }
            // instances that did not hear the operator (an original's) learn it from the room's channel
            Fleet.awaitTrue("alice's leave published", WsClient.TIMEOUT,
                    () -> channel.countMessages(m -> "user:left".equals(m.getString("type")) && "alice".equals(m.getString("userId"))) > 0);
        }
    }
}
