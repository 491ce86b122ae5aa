package dev.flock.transport;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.flock.FlockServer;
import dev.flock.ops.Await;
import dev.flock.support.HttpCalls;
import dev.flock.support.LogCapture;
import dev.flock.support.RawHttp;
import dev.flock.support.TestServers;
import dev.flock.support.VirtualClock;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.util.List;

import static dev.flock.support.WsClient.await;
import static org.assertj.core.api.Assertions.assertThat;

/** What a client can make the server log: aborted requests are no errors, and a repeated error is one line per window. */
@ExtendWith(VertxExtension.class)
class LogFloodTest {

    private static final int N = 40;
    private static final String FAILURES_LOGGER = "dev.flock.transport.RouteFailures";

    private final VirtualClock clock = new VirtualClock();
    private Vertx vertx;
    private FlockServer server;
    private LogCapture log;
    private Level failuresLevel;

    @BeforeEach
    void start(Vertx vertx) {
        this.vertx = vertx;
        // debug of the failure handler on, so the test sees when the server has handled each abort
        Logger failures = (Logger) LoggerFactory.getLogger(FAILURES_LOGGER);
        failuresLevel = failures.getLevel();
        failures.setLevel(Level.DEBUG);
        log = LogCapture.all();
        // an embedder's route that fails, on Flock's router
        server = TestServers.start(vertx, clock, router -> router.get("/boom").handler(rc -> {
            throw new IllegalStateException("boom");
        }), "FLOCK_ADMIN_PASSWORD", "pw");
    }

    @AfterEach
    void stop() {
        await(server.stop());
        log.close();
        ((Logger) LoggerFactory.getLogger(FAILURES_LOGGER)).setLevel(failuresLevel);
    }

    @Test
    void abortedBodiesAndOversizeBodies_logNoError() {
        String login = "POST /admin HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n";
        for (int i = 0; i < N; i++) {
            // the route reads the body (BodyHandler): after its 100 Continue the client leaves mid-body, FIN or RST
            try (RawHttp c = RawHttp.open(server.port())) {
                assertThat(c.write(login).readResponse().status()).isEqualTo(100);
                c.write("password=");
                if (i % 2 == 1) {
                    c.reset();
                }
            }
        }
        // over the admin's 16 KiB body limit: 413, the client's mistake
        try (RawHttp c = RawHttp.open(server.port())) {
            assertThat(c.write(tooBig()).readResponse().status()).isEqualTo(413);
        }

        // each abort is seen by the server a moment after the client made it: wait until all N were handled
        // (before the fix they were ERRORs of vertx-web's; now they are the failure handler's debug lines)
        Await.until(N + " aborts handled", () -> log.messages(Level.ERROR).size()
                + debugOfFailures().stream().filter(m -> m.startsWith("client went away")).count() >= N);
        assertThat(log.messages(Level.WARN)).isEmpty();
        assertThat(debugOfFailures()).anyMatch(m -> m.contains("failed with 413"));
    }

    @Test
    void aBodyRefusedBeforeItWasRead_isNotWaitedFor() {
        // 1 GB announced, over the admin's 16 KiB limit, none of it sent: Vert.x waited for all of it (to read and
        // drop it) before the connection could close or serve a next request
        try (RawHttp c = RawHttp.open(server.port())) {
            RawHttp.Response refused = c.write("POST /api/admin/close-all HTTP/1.1\r\nHost: x\r\n"
                    + "Content-Length: 1000000000\r\n\r\n").readResponse();
            assertThat(refused.statusLine()).isEqualTo("HTTP/1.1 413 Request Entity Too Large");
            assertThat(refused.header("connection")).isEqualToIgnoringCase("close");
            assertThat(c.awaitClosed()).as("what came after the 413").isEmpty();
        }
    }

    @Test
    void aRepeatedServerError_isLoggedOnce_thenCountedOncePerWindow() {
        for (int i = 0; i < N; i++) {
            assertThat(HttpCalls.get(vertx, server.port(), "/boom").status()).isEqualTo(500);
        }
        assertThat(log.messages(Level.ERROR)).containsExactly("GET /boom failed with 500");
        assertThat(log.atLeast(Level.ERROR).get(0).getThrowableProxy().getMessage()).isEqualTo("boom");

        clock.advance(RouteFailures.REPEAT_WINDOW_SECONDS * 1000L);
        assertThat(log.messages(Level.ERROR)).containsExactly("GET /boom failed with 500",
                "GET /boom failed with 500 (and " + (N - 1) + " more like it in the last 10 s)");

        clock.advance(RouteFailures.REPEAT_WINDOW_SECONDS * 1000L); // a window without it: nothing more
        assertThat(log.messages(Level.ERROR)).hasSize(2);
        assertThat(HttpCalls.get(vertx, server.port(), "/boom").status()).isEqualTo(500);
        assertThat(log.messages(Level.ERROR)).hasSize(3).last().isEqualTo("GET /boom failed with 500");
    }

    private static String tooBig() {
        return "POST /api/admin/close-all HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\nConnection: close\r\n\r\n"
                + "x".repeat(20000);
    }

    private List<String> debugOfFailures() {
        return log.atLeast(Level.DEBUG).stream().filter(e -> e.getLoggerName().equals(FAILURES_LOGGER))
                .map(e -> e.getFormattedMessage()).toList();
    }
}
