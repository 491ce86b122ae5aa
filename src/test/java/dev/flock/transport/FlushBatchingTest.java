package dev.flock.transport;

import dev.flock.FlockServer;
import dev.flock.support.TestServers;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Cursor frames to one socket leave together at most once per flush interval, unless batching saves nothing: a lone
 * frame after a quiet interval, to a socket whose last flush carried a single frame, goes out at once. The frames
 * right behind it wait for the next tick, and a socket whose flushes carry several frames stays batched. A long
 * interval makes each case visible.
 */
@ExtendWith(VertxExtension.class)
class FlushBatchingTest {

    private static final long INTERVAL_MS = 1000; // the largest the setting allows

    private static Predicate<JsonObject> cursorAt(double x) {
        return m -> "cursor:updated".equals(m.getString("type")) && m.getJsonObject("position").getDouble("x") == x;
    }

    @Test
    void aLoneCursorLeavesAtOnce_theFramesRightBehindItWaitForTheTick_aBusySocketStaysBatched(Vertx vertx)
            throws InterruptedException {
        FlockServer server = TestServers.start(vertx, "FLOCK_FLUSH_INTERVAL_MS", String.valueOf(INTERVAL_MS));
        try (WsClient sender = WsClient.connect(vertx, server.port()); WsClient receiver = WsClient.connect(vertx, server.port())) {
            receiver.joinAndAck("r", "receiver", new JsonObject());
            sender.joinAndAck("r", "sender", new JsonObject());
            receiver.await(m -> "user:joined".equals(m.getString("type"))); // flushed at once, like every event

            // the condition under test is time itself: once the interval has passed since the receiver's last flush
            // (the user:joined above), a cursor move is not held back
            Thread.sleep(INTERVAL_MS + 100);
            long sent = System.nanoTime();
            sender.move("r", 1, 1);
            receiver.await(cursorAt(1), Duration.ofMillis(INTERVAL_MS / 2));
            long first = System.nanoTime();
            assertThat(Duration.ofNanos(first - sent)).isLessThan(Duration.ofMillis(INTERVAL_MS / 2));

            // right behind it: batched into the next tick, and still in order
            sender.move("r", 2, 2);
            sender.move("r", 3, 3);
            receiver.await(cursorAt(3));
            long batched = System.nanoTime();
            assertThat(Duration.ofNanos(batched - first)).isGreaterThan(Duration.ofMillis(INTERVAL_MS / 2));
            assertThat(receiver.indexOf(cursorAt(2))).isLessThan(receiver.indexOf(cursorAt(3)));

            // that flush carried two frames: even after a quiet interval, the next move waits for a tick
            Thread.sleep(INTERVAL_MS + 100);
            long again = System.nanoTime();
            sender.move("r", 4, 4);
            receiver.await(cursorAt(4));
            assertThat(Duration.ofNanos(System.nanoTime() - again)).isGreaterThan(Duration.ofMillis(INTERVAL_MS / 2));
        }
    }
}
