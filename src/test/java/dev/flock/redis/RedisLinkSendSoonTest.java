package dev.flock.redis;

import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import dev.flock.support.RedisExtension;
import dev.flock.support.RedisMonitor;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.flock.support.WsClient.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 23: a command that may wait ({@link RedisLink#sendSoon}, a room's refresh) leaves with the next publish batch
 * or command, in call order, or on its own once {@link RedisLink#SOON_MS} have passed. A real Redis; the test holds
 * the bridge's loop while it looks, so the time limit cannot fire under it.
 */
class RedisLinkSendSoonTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();

    private Vertx vertx;
    private RedisLink link;
    private RedisMonitor monitor;
    private Context bridge;

    @BeforeEach
    void setUp() throws Exception {
        REDIS.server().command("FLUSHALL");
        vertx = Vertx.vertx();
        FlockConfig config = RedisPresenceStoreTest.config(REDIS.server());
        link = new RedisLink(config, FlockMetrics.inMemory());
        bridge = vertx.getOrCreateContext();
        CompletableFuture<Future<Void>> started = new CompletableFuture<>();
        bridge.runOnContext(v -> started.complete(link.start(vertx))); // on the bridge's loop, as the bridge does
        await(started.get(10, TimeUnit.SECONDS));
        monitor = new RedisMonitor(REDIS.server());
    }

    @AfterEach
    void tearDown() throws Exception {
        monitor.close();
        await(link.stop());
        await(vertx.close());
    }

    private static Request set(String key, String value) {
        return Request.cmd(Command.SET).arg(key).arg(value);
    }

    @Test
    void aWaitingCommand_leavesWithTheNextPublishBatch_beforeIt() throws Exception {
        String key = "soon-" + System.nanoTime();
        String channel = KeyLayout.ORIGINAL.channel(key);
        CompletableFuture<Object> seenBefore = new CompletableFuture<>();
        CompletableFuture<Future<Response>> waited = new CompletableFuture<>();
        bridge.runOnContext(v -> {
            Future<Response> f = link.sendSoon(key, set(key, "refreshed"));
            seenBefore.complete(String.valueOf(REDIS.server().command("GET", key))); // the loop is ours: still queued
            link.publish(List.of(channel), List.of(Request.cmd(Command.PUBLISH).arg(channel).arg("batch")));
            waited.complete(f);
        });
        assertThat(seenBefore.get(10, TimeUnit.SECONDS)).as("not sent while nothing else left").isEqualTo("null");
        assertThat(await(waited.get(10, TimeUnit.SECONDS)).toString()).isEqualTo("OK");
        assertThat(REDIS.server().command("GET", key)).isEqualTo("refreshed");
        assertThat(monitor.commandsUntilMarker(key)).as("the test's own GETs around them")
                .containsExactly("GET", "SET", "PUBLISH", "GET");
    }

    @Test
    void aWaitingCommandThatFailsInTheBatch_comesBackToItsCaller_andThePublishesStillSucceed() throws Exception {
        String key = "noscript-" + System.nanoTime();
        String channel = KeyLayout.ORIGINAL.channel(key);
        // a script Redis does not know: NOSCRIPT, as after a restart, and Vert.x then fails the batch it was in
        Request unknown = Request.cmd(Command.EVALSHA).arg("0".repeat(40)).arg(1).arg(key);
        CompletableFuture<List<Future<?>>> asked = new CompletableFuture<>();
        bridge.runOnContext(v -> asked.complete(List.of(link.sendSoon(key, unknown),
                link.publish(List.of(channel), List.of(Request.cmd(Command.PUBLISH).arg(channel).arg("batch"))))));
        List<Future<?>> futures = asked.get(10, TimeUnit.SECONDS);
        await(Future.join(futures).otherwiseEmpty());
        assertThat(futures.get(0).cause()).as("the refresh's own error reaches its caller").isNotNull()
                .hasMessageStartingWith("NOSCRIPT");
        assertThat(futures.get(1).succeeded()).as("the publish beside it succeeded: " + futures.get(1).cause()).isTrue();
        assertThat(monitor.commandsUntilMarker(key)).as("in the batch, then once more on its own")
                .containsExactly("EVALSHA", "PUBLISH", "EVALSHA");
    }

    @Test
    void aCommandSentAfterIt_leavesAfterIt_callOrderKept() throws Exception {
        String key = "order-" + System.nanoTime();
        CompletableFuture<List<Future<Response>>> asked = new CompletableFuture<>();
        bridge.runOnContext(v -> asked.complete(List.of(link.sendSoon(key, set(key, "first")), link.send(set(key, "second")))));
        await(Future.all(asked.get(10, TimeUnit.SECONDS)));
        assertThat(REDIS.server().command("GET", key)).isEqualTo("second");
        assertThat(monitor.callsUntilMarker(key)).filteredOn(c -> c.get(0).equalsIgnoreCase("SET"))
                .extracting(c -> c.get(2)).containsExactly("first", "second");
    }

    @Test
    void withNothingElseToLeaveWith_itLeavesOnItsOwn_andCompletesOnTheCallersContext() throws Exception {
        String key = "alone-" + System.nanoTime();
        Context room = vertx.getOrCreateContext(); // a room verticle's, not the bridge's
        CompletableFuture<Boolean> onCaller = new CompletableFuture<>();
        room.runOnContext(v -> link.sendSoon(key, set(key, "alone"))
                .onComplete(ar -> onCaller.complete(ar.succeeded() && Vertx.currentContext() == room)));
        assertThat(onCaller.get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(REDIS.server().command("GET", key)).isEqualTo("alone");
    }
}
