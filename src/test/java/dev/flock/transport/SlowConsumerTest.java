package dev.flock.transport;

import dev.flock.FlockServer;
import dev.flock.support.StalledReader;
import dev.flock.support.TestServers;
import dev.flock.support.WsClient;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static dev.flock.support.WsClient.is;
import static org.assertj.core.api.Assertions.assertThat;

/** A client that stops reading never slows the room: its cursors are coalesced, and past the hard limit it is closed. */
@ExtendWith(VertxExtension.class)
class SlowConsumerTest {

    @Test
    void cursorsToAStalledReader_areCoalesced_andItGetsTheLatestPositionWhenItReadsAgain(Vertx vertx) throws Exception {
        FlockServer server = TestServers.start(vertx, "FLOCK_MAX_MESSAGES_PER_SECOND", "100000");
        try (WsClient sender = WsClient.connect(vertx, server.port()); WsClient fast = WsClient.connect(vertx, server.port());
             StalledReader stalled = new StalledReader(server.port())) {
            stalled.send("{\"type\":\"join\",\"roomId\":\"r\",\"userId\":\"frozen\",\"metadata\":{}}");
            fast.joinAndAck("r", "fast", new JsonObject());
            sender.joinAndAck("r", "sender", new JsonObject());
            String pad = "p".repeat(120);
            int moves = 40_000; // ~6 MB of cursor frames, far more than the kernel buffers hold
            for (int i = 1; i <= moves; i++) {
                sender.send("{\"type\":\"cursor:move\",\"roomId\":\"r\",\"position\":{\"x\":" + i + ",\"y\":0},\"pad\":\"" + pad + "\"}");
            }
            int last = moves;
            fast.await(m -> is("cursor:updated", "r", "sender").test(m) && m.getJsonObject("position").getInteger("x") == last);
            double coalesced = server.metrics().registry().find("flock.cursor.coalesced").counter().count();
            assertThat(coalesced).isPositive();
            String later = stalled.readFor(3000);
            assertThat(later).contains("\"x\":" + last + ".0");
        }
    }

    @Test
    void aReaderStuckAboveTheHardLimit_isClosedAsSlowConsumer_andLeavesTheRoom(Vertx vertx) throws Exception {
        FlockServer server = TestServers.start(vertx, "FLOCK_MAX_MESSAGES_PER_SECOND", "100000",
                "FLOCK_SLOW_CONSUMER_MAX_BYTES", "65536", "FLOCK_SLOW_CONSUMER_GRACE_MS", "500");
        try (WsClient sender = WsClient.connect(vertx, server.port()); StalledReader stalled = new StalledReader(server.port())) {
            sender.joinAndAck("r", "sender", new JsonObject());
            stalled.send("{\"type\":\"join\",\"roomId\":\"r\",\"userId\":\"frozen\",\"metadata\":{}}");
            sender.await(is("user:joined", "r", "frozen"));
            String blob = "b".repeat(3000);
            long deadline = System.currentTimeMillis() + 30_000;
            int i = 0;
            // presence events are never dropped, so they pile up until the server gives up on the reader
            while (slowConsumerCloses(server) == 0 && System.currentTimeMillis() < deadline) {
                sender.send(new JsonObject().put("type", "presence:update").put("roomId", "r")
                        .put("metadata", new JsonObject().put("blob", blob).put("i", i++)));
            }
            assertThat(slowConsumerCloses(server)).isEqualTo(1.0);
            sender.await(is("user:left", "r", "frozen"));
            try (WsClient fresh = WsClient.connect(vertx, server.port())) {
                JsonObject ack = fresh.joinAndAck("r", "fresh", new JsonObject());
                assertThat(ack.getJsonArray("users").stream().map(u -> ((JsonObject) u).getString("userId"))).containsExactly("sender");
            }
        }
    }

    private static double slowConsumerCloses(FlockServer server) {
        Counter closed = server.metrics().registry().find("flock.connections.closed").tag("reason", "slow_consumer").counter();
        return closed == null ? 0 : closed.count();
    }
}
