package dev.flock.redis;

import dev.flock.FlockServer;
import dev.flock.support.RedisExtension;
import dev.flock.support.RedisServer;
import dev.flock.support.TestServers;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static dev.flock.support.Fleet.awaitTrue;
import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.userIds;
import static dev.flock.support.WsClient.type;
import static org.assertj.core.api.Assertions.assertThat;


/**
 * {@link FleetBehaviourTest} on one real Redis, and what only a single Redis can show: it restarts empty, stops
 * answering, starts after the instances.
 */
@SuppressWarnings("unchecked")
class MultiInstanceTest extends FleetBehaviourTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();
    private RedisServer redis;

    @Override
    protected String url() {
        redis = REDIS.server();
        return redis.url();
    }

    @Override
    protected Object command(String... args) {
        redis = REDIS.server();
        return redis.command(args);
    }

    @Test
    void redisRestartMidTraffic_localDeliveryGoesOn_presenceIsRestored_crossInstanceResumes() {
        FlockServer a = instance();
        FlockServer b = instance();
        WsClient alice = client(a);
        WsClient alice2 = client(a);
        WsClient bob = client(b);
        alice.joinAndAck("m", "alice", meta("A"));
        alice2.joinAndAck("m", "carol", meta("C"));
        bob.joinAndAck("m", "bob", meta("B"));
        alice.await(is("user:joined", "m", "bob"));

        redis.stop();
        awaitTrue("both bridges see Redis gone", Duration.ofSeconds(10),
                () -> !a.redis().connected() && !b.redis().connected());
        assertThat(httpStatus(a.port(), "/ready")).isEqualTo(503);
        alice.move("m", 0.7, 0.7); // local delivery never stops
        alice2.await(is("cursor:updated", "m", "alice"));

        redis.start(); // empty: no persistence
        awaitTrue("both bridges reconnected", Duration.ofSeconds(15), () -> a.redis().connected() && b.redis().connected());
        awaitTrue("presence re-written", Duration.ofSeconds(10),
                () -> ((Long) redis.command("EXISTS", "flock:presence:m:alice", "flock:presence:m:bob", "flock:presence:m:carol")) == 3);
        assertThat(httpStatus(a.port(), "/ready")).isEqualTo(200);
        bob.move("m", 0.2, 0.2);
        alice.await(m -> is("cursor:updated", "m", "bob").test(m) && m.getJsonObject("position").getDouble("x") == 0.2);
        FlockServer c = instance();
        JsonObject ack = client(c).joinAndAck("m", "dave", meta("D"));
        assertThat(userIds(ack)).containsExactlyInAnyOrder("alice", "bob", "carol");
        // nobody whose socket stayed open was shown leaving, whichever instance reconnected first
        alice.await(is("user:joined", "m", "dave"));
        bob.await(is("user:joined", "m", "dave"));
        assertThat(alice.count(is("user:left", "m", null))).isZero();
        assertThat(bob.count(is("user:left", "m", null))).isZero();
    }

    @Test
    void aRedisThatStopsAnswering_isTreatedAsLost_andReconnectedOnceItAnswersAgain() {
        RedisServer hung = RedisServer.builder().build();
        extraRedis.add(hung);
        hung.start();
        FlockServer a = instanceOn(hung.url());
        FlockServer b = instanceOn(hung.url());
        WsClient alice = client(a);
        WsClient carol = client(a);
        WsClient bob = client(b);
        alice.joinAndAck("h", "alice", meta("A"));
        carol.joinAndAck("h", "carol", meta("C"));
        bob.joinAndAck("h", "bob", meta("B"));
        alice.await(is("user:joined", "h", "bob"));

        // every client's commands now wait, yet no socket closes: only the PING probe can tell
        hung.command("CLIENT", "PAUSE", "8000", "ALL");
        awaitTrue("the bridge gives up on a Redis that does not answer", Duration.ofSeconds(7),
                () -> !a.redis().connected() && !b.redis().connected());
        assertThat(httpStatus(a.port(), "/ready")).isEqualTo(503);
        carol.move("h", 0.3, 0.3); // local delivery goes on
        alice.await(is("cursor:updated", "h", "carol"));

        awaitTrue("reconnected once Redis answers again", Duration.ofSeconds(20),
                () -> a.redis().connected() && b.redis().connected());
        assertThat(httpStatus(a.port(), "/ready")).isEqualTo(200);
        bob.move("h", 0.6, 0.6);
        alice.await(m -> is("cursor:updated", "h", "bob").test(m) && m.getJsonObject("position").getDouble("x") == 0.6);
        assertThat(alice.count(is("user:left", "h", null))).isZero();
        assertThat(bob.count(is("user:left", "h", null))).isZero();
    }

    @Test
    void aUserWhoLeftWhileRedisWasDown_isShownGone_onceTheOthersHadTheirChanceToRewrite() {
        FlockServer a = instance();
        FlockServer b = instance();
        WsClient alice = client(a);
        WsClient bob = client(b);
        alice.joinAndAck("w", "alice", meta("A"));
        bob.joinAndAck("w", "bob", meta("B"));
        alice.await(is("user:joined", "w", "bob"));

        redis.stop();
        awaitTrue("both bridges see Redis gone", Duration.ofSeconds(10),
                () -> !a.redis().connected() && !b.redis().connected());
        bob.close(); // its leave cannot cross instances now

        redis.start();
        awaitTrue("both bridges reconnected", Duration.ofSeconds(15), () -> a.redis().connected() && b.redis().connected());
        // announced after the reconcile's grace period (10 s), not at once and not never
        JsonObject left = alice.await(is("user:left", "w", "bob"), Duration.ofSeconds(20));
        assertThat(left).isNotNull();
        assertThat(alice.count(is("user:left", "w", "bob"))).isEqualTo(1);
    }

    @Test
    void degradedStart_localRoomsWork_readyIs503_thenRecoversWhenRedisArrives() {
        RedisServer late = RedisServer.builder().build();
        extraRedis.add(late);
        FlockServer a = instanceOn(late.url());
        assertThat(httpStatus(a.port(), "/ready")).isEqualTo(503);
        assertThat(httpStatus(a.port(), "/health")).isEqualTo(200);
        WsClient alice = client(a);
        WsClient bob = client(a);
        alice.joinAndAck("d", "alice", meta("A"));
        bob.joinAndAck("d", "bob", meta("B"));
        alice.await(is("user:joined", "d", "bob"));
        bob.move("d", 0.1, 0.1);
        alice.await(is("cursor:updated", "d", "bob"));

        late.start();
        awaitTrue("ready once Redis is up", Duration.ofSeconds(15), () -> httpStatus(a.port(), "/ready") == 200);
        awaitTrue("presence written after connecting", Duration.ofSeconds(10),
                () -> ((Long) late.command("EXISTS", "flock:presence:d:alice", "flock:presence:d:bob")) == 2);
        FlockServer b = instanceOn(late.url());
        JsonObject ack = client(b).joinAndAck("d", "carol", meta("C"));
        assertThat(userIds(ack)).containsExactlyInAnyOrder("alice", "bob");
        alice.await(is("user:joined", "d", "carol"));
    }

}
