package dev.flock.transport;

import dev.flock.FlockServer;
import dev.flock.support.Fleet;
import dev.flock.support.HttpCalls;
import dev.flock.support.TestServers;
import dev.flock.support.VirtualClock;
import dev.flock.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Shutdown (issue 20): sockets are closed with 4001 "server restarting" spread evenly over FLOCK_SHUTDOWN_SPREAD_MS
 * of the server's clock, /ready answers 503 from the start, and /health answers until the last socket is closed.
 */
@ExtendWith(VertxExtension.class)
class ShutdownSpreadTest {

    @Test
    void socketsCloseSpreadOverTheWindow_with4001_whileHealthStillAnswers(Vertx vertx) {
        VirtualClock clock = new VirtualClock();
        FlockServer server = TestServers.start(vertx, clock, "FLOCK_SHUTDOWN_SPREAD_MS", "2000",
                "FLOCK_SHUTDOWN_TIMEOUT_MS", "10000");
        List<WsClient> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            WsClient c = WsClient.connect(vertx, server.port());
            c.joinAndAck("doc", "u" + i, new JsonObject());
            clients.add(c);
        }
        Future<Void> stopped = server.stop();
        assertThat(HttpCalls.get(vertx, server.port(), "/ready").status()).isEqualTo(503);
        // 2000 ms over 4 sockets: one at once, then one every 500 ms of the server's clock
        for (int step = 1; step <= 4; step++) {
            int expected = step;
            Fleet.awaitTrue(expected + " closed", WsClient.TIMEOUT, () -> closed(clients) >= expected);
            assertThat(closed(clients)).as("closed after %d ms", (step - 1) * 500).isEqualTo(expected);
            if (step < 4) {
                assertThat(HttpCalls.get(vertx, server.port(), "/health").status()).isEqualTo(200);
                clock.advance(500);
            }
        }
        for (WsClient c : clients) {
            assertThat(c.awaitClose()).isEqualTo(4001);
            assertThat(c.closeReason()).isEqualTo("server restarting");
        }
        WsClient.await(stopped);
    }

    private static long closed(List<WsClient> clients) {
        return clients.stream().filter(WsClient::isClosed).count();
    }
}
