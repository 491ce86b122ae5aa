package dev.flock.redis;

import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import dev.flock.support.RedisExtension;
import dev.flock.support.RedisMonitor;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 22: rooms that open together (a storm) share one SUBSCRIBE, and each room's subscription still completes only
 * once Redis confirmed its channel. A real Redis, watched through its MONITOR feed.
 */
class RedisBrokerSubscribeTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();

    private Vertx vertx;
    private RedisLink link;
    private RedisBroker broker;
    private RedisMonitor monitor;
    /** The bridge's loop: the test asks from it, so its tasks queue in a known order (no race between two loops). */
    private Context bridge;

    @BeforeEach
    void setUp() throws Exception {
        REDIS.server().command("FLUSHALL");
        vertx = Vertx.vertx();
        FlockConfig config = RedisPresenceStoreTest.config(REDIS.server());
        link = new RedisLink(config, FlockMetrics.inMemory());
        broker = new RedisBroker(link, config, FlockMetrics.inMemory(), "test-instance");
        bridge = vertx.getOrCreateContext();
        broker.attach(vertx, bridge);
        get(link.start(vertx));
        monitor = new RedisMonitor(REDIS.server());
    }

    @AfterEach
    void tearDown() throws Exception {
        monitor.close();
        get(link.stop());
        get(vertx.close());
    }

    @Test
    void fiftyRoomsOpenedTogether_shareOneSubscribe_andEachIsConfirmed() throws Exception {
        String prefix = "batch-" + System.nanoTime() + "-";
        CompletableFuture<List<Future<Void>>> asked = new CompletableFuture<>();
        // all fifty from one task, as a storm's room verticles ask within one turn of the bridge's loop
        bridge.runOnContext(v -> {
            List<Future<Void>> all = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                all.add(broker.subscribe(prefix + i));
            }
            asked.complete(all);
        });
        get(Future.all(asked.get(10, TimeUnit.SECONDS)));

        List<List<String>> subscribes = monitor.callsUntilMarker(prefix);
        assertThat(subscribes).as("SUBSCRIBE commands for the fifty rooms").hasSize(1);
        assertThat(subscribes.get(0).subList(1, 51)).containsExactlyElementsOf(
                java.util.stream.IntStream.range(0, 50).mapToObj(i -> Keys.channel(prefix + i)).toList());
        assertThat((Long) REDIS.server().command("PUBLISH", Keys.channel(prefix + 49), "x"))
                .as("the last room's channel has this instance as its subscriber").isEqualTo(1L);
    }

    @Test
    void aRoomClosedBeforeItsSubscribeLeft_isNotSubscribed_andItsOpenStillCompletes() throws Exception {
        String room = "closed-" + System.nanoTime();
        String kept = room + "-kept";
        CompletableFuture<List<Future<Void>>> asked = new CompletableFuture<>();
        bridge.runOnContext(v -> {
            Future<Void> closed = broker.subscribe(room);
            broker.unsubscribe(room);
            asked.complete(List.of(closed, broker.subscribe(kept)));
        });
        get(Future.all(asked.get(10, TimeUnit.SECONDS)));

        List<List<String>> calls = monitor.callsUntilMarker(room);
        assertThat(calls).as("one SUBSCRIBE, of the room still open, and no UNSUBSCRIBE").singleElement()
                .satisfies(c -> assertThat(c.subList(1, c.size())).containsExactly(Keys.channel(kept)));
        assertThat((Long) REDIS.server().command("PUBLISH", Keys.channel(room), "x")).isZero();
    }

    @Test
    void aRoomOpenedWhileRedisIsUnreachable_isSubscribedOnceTheLinkIsBack() throws Exception {
        dev.flock.support.RedisServer own = dev.flock.support.RedisServer.builder().build();
        own.start();
        Vertx v2 = Vertx.vertx();
        try {
            FlockConfig config = RedisPresenceStoreTest.config(own);
            RedisLink ownLink = new RedisLink(config, FlockMetrics.inMemory());
            RedisBroker ownBroker = new RedisBroker(ownLink, config, FlockMetrics.inMemory(), "test-instance-2");
            Context ownBridge = v2.getOrCreateContext();
            ownBroker.attach(v2, ownBridge);
            get(ownLink.start(v2));
            own.stop();
            dev.flock.support.Fleet.awaitTrue("the link sees Redis gone", java.time.Duration.ofSeconds(10),
                    () -> !ownLink.connected());
            String room = "while-down-" + System.nanoTime();
            CompletableFuture<Future<Void>> asked = new CompletableFuture<>();
            ownBridge.runOnContext(x -> asked.complete(ownBroker.subscribe(room)));
            get(asked.get(10, TimeUnit.SECONDS)); // completes at once: nothing to wait for while down

            own.start();
            dev.flock.support.Fleet.awaitTrue("the room's channel has a subscriber again", java.time.Duration.ofSeconds(15),
                    () -> ((Long) own.command("PUBLISH", Keys.channel(room), "x")) == 1L);
            get(ownLink.stop());
        } finally {
            get(v2.close());
            own.close();
        }
    }

    private static <T> T get(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
