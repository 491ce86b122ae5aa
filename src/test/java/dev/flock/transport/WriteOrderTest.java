package dev.flock.transport;

import dev.flock.FlockServer;
import dev.flock.support.TestServers;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Batched cursor frames and immediately flushed events reach a connection in the order the room sent them. */
@ExtendWith(VertxExtension.class)
class WriteOrderTest {

    @ParameterizedTest(name = "flush interval {0} ms")
    @ValueSource(strings = {"16", "0", "200"})
    void batchedAndImmediateWrites_neverReorder(String interval, Vertx vertx) {
        FlockServer server = TestServers.start(vertx, "FLOCK_FLUSH_INTERVAL_MS", interval,
                "FLOCK_MAX_MESSAGES_PER_SECOND", "1000");
        try (WsClient sender = WsClient.connect(vertx, server.port()); WsClient receiver = WsClient.connect(vertx, server.port())) {
            receiver.joinAndAck("r", "receiver", new JsonObject());
            sender.joinAndAck("r", "sender", new JsonObject());
            int rounds = 100;
            for (int i = 0; i < rounds; i++) {
                sender.move("r", i, i); // batched
                sender.send(new JsonObject().put("type", "presence:update").put("roomId", "r")
                        .put("metadata", new JsonObject().put("seq", i))); // flushed at once
            }
            receiver.await(m -> "presence:updated".equals(m.getString("type"))
                    && m.getJsonObject("metadata").getInteger("seq") == rounds - 1);
            List<JsonObject> seen = receiver.messages().stream()
                    .filter(m -> "sender".equals(m.getString("userId")))
                    .filter(m -> m.getString("type").startsWith("cursor") || m.getString("type").startsWith("presence"))
                    .toList();
            assertThat(seen).hasSize(2 * rounds);
            for (int i = 0; i < rounds; i++) {
                assertThat(seen.get(2 * i).getJsonObject("position").getDouble("x")).isEqualTo(i);
                assertThat(seen.get(2 * i + 1).getJsonObject("metadata").getInteger("seq")).isEqualTo(i);
            }
        }
    }
}
