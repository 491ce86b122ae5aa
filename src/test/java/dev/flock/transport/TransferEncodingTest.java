package dev.flock.transport;

import dev.flock.FlockServer;
import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import dev.flock.support.RawHttp;
import dev.flock.support.TestServers;
import dev.flock.time.SystemClock;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.flock.support.WsClient.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * RFC 9112 §6.3: a request whose Transfer-Encoding does not end in chunked gets 400 and its connection closed, over
 * a raw socket against the real server; WebSocket upgrades too, on Flock's port and through an embedder's server.
 */
@ExtendWith(VertxExtension.class)
class TransferEncodingTest {

    /** Header lines are separated by "|" here. */
    private static final String UPGRADE = "Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|"
            + "Sec-WebSocket-Version: 13";
    /** In the same write as the request before it, so the server has it in the bytes of that read. */
    private static final String SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

    private final AtomicInteger smuggledHandled = new AtomicInteger();
    private FlockServer server;

    @BeforeEach
    void start(Vertx vertx) {
        // a route of the test's own that counts the requests it handles: a smuggled request aims there
        server = TestServers.start(vertx, new SystemClock(vertx),
                router -> router.get("/smuggled").handler(rc -> rc.end(String.valueOf(smuggledHandled.incrementAndGet()))),
                "FLOCK_ADMIN_PASSWORD", "pw");
    }

    /** The first answer to what was sent in one write, and every byte that came after it until the server closed. */
    private record Outcome(RawHttp.Response answer, String after) {
    }

    private Outcome send(String head, String body) {
        return send(server.port(), head, body);
    }

    /** Header lines in {@code head} are separated by "|"; fails when the server keeps the connection open. */
    private static Outcome send(int port, String head, String body) {
        try (RawHttp c = RawHttp.open(port)) {
            RawHttp.Response answer = c.write(head.replace("|", "\r\n") + "\r\n\r\n" + body).readResponse();
            return new Outcome(answer, new String(c.awaitClosed(), StandardCharsets.ISO_8859_1));
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '$', value = {
            // ours: no chunked at all, which Netty frames by Content-Length or as no body
            "gzip with a Content-Length     $ POST /admin HTTP/1.1|Host: x|Transfer-Encoding: gzip|Content-Length: 3   $ abc $ 400",
            "identity                       $ POST /admin HTTP/1.1|Host: x|Transfer-Encoding: identity                 $ abc $ 400",
            "identity with a Content-Length $ POST /admin HTTP/1.1|Host: x|Transfer-Encoding: identity|Content-Length: 3 $ abc $ 400",
            "gzip on a GET without a body   $ GET /health HTTP/1.1|Host: x|Transfer-Encoding: gzip                     $     $ 400",
            "an empty Transfer-Encoding     $ GET /health HTTP/1.1|Host: x|Transfer-Encoding: ,                        $     $ 400",
            "chunked twice                  $ POST /admin HTTP/1.1|Host: x|Transfer-Encoding: chunked, chunked         $ 0|| $ 400",
            // chunked last over a coding we do not decode: framing is sound, the body is not ours to read (§6.1)
            "gzip then chunked              $ POST /admin HTTP/1.1|Host: x|Transfer-Encoding: gzip, chunked            $ 0|| $ 501",
            "gzip then chunked, two lines   $ POST /admin HTTP/1.1|Host: x|Transfer-Encoding: gzip|Transfer-Encoding: chunked $ 0|| $ 501",
            // Netty's own 400s, kept
            "chunked not last               $ POST /admin HTTP/1.1|Host: x|Transfer-Encoding: chunked, gzip            $ 0|| $ 400",
            "chunked beside Content-Length  $ POST /admin HTTP/1.1|Host: x|Transfer-Encoding: chunked|Content-Length: 5 $ 0|| $ 400",
            "Transfer-Encoding in HTTP/1.0  $ POST /admin HTTP/1.0|Host: x|Transfer-Encoding: chunked                  $ 0|| $ 400",
    })
    void framingTheServerMightReadUnlikeAProxy_isRefused_andTheConnectionClosed(String name, String head, String body,
                                                                                int status) {
        Outcome outcome = send(head, body == null ? "" : body.replace("|", "\r\n"));
        assertThat(outcome.answer().status()).isEqualTo(status);
        assertThat(outcome.after()).as("nothing after the refusal, then the close").isEmpty();
    }

    @Test
    void aRequestSmuggledBehindTheBody_isNeverAnswered() {
        // a proxy that takes "identity" for read-until-close would pass the second request as the first one's body
        Outcome outcome = send("POST /admin HTTP/1.1|Host: x|Transfer-Encoding: identity", SMUGGLED);
        assertThat(outcome.answer().statusLine()).isEqualTo("HTTP/1.1 400 Bad Request");
        assertThat(outcome.after()).as("a second answer").isEmpty();
        assertThat(smuggledHandled).as("smuggled requests handled").hasValue(0);
    }

    @Test
    void chunked_isServed() {
        Outcome outcome = send("POST /admin HTTP/1.1|Host: x|Transfer-Encoding: chunked|Connection: close"
                + "|Content-Type: application/x-www-form-urlencoded", "b\r\npassword=pw\r\n0\r\n\r\n");
        assertThat(outcome.answer().statusLine()).isEqualTo("HTTP/1.1 303 See Other"); // signed in
    }

    @Test
    void aWebSocketUpgradeWithGzip_isRefused_andTheConnectionClosed() {
        Outcome outcome = send("GET / HTTP/1.1|Host: x|Transfer-Encoding: gzip|" + UPGRADE, "");
        assertThat(outcome.answer().statusLine()).isEqualTo("HTTP/1.1 400 Bad Request");
        assertThat(outcome.after()).isEmpty();
    }

    /** An embedder's own HttpServer hands upgrades to Flock's handshake handler, which no router precedes. */
    @Test
    void throughAnEmbeddersHandshakeHandler_anUpgradeWithIdentity_isRefused_andWhatFollowsNeverAnswered(Vertx vertx) {
        FlockServer flock = FlockServer.attach(vertx, FlockConfig.builder().build(), FlockMetrics.inMemory());
        AtomicInteger appRequests = new AtomicInteger();
        HttpServer app = await(vertx.createHttpServer()
                .webSocketHandshakeHandler(flock.webSocketHandshakeHandler())
                .webSocketHandler(flock.webSocketHandler())
                .requestHandler(req -> req.response().end("app " + appRequests.incrementAndGet()))
                .listen(0, "127.0.0.1"));
        try {
            Outcome outcome = send(app.actualPort(), "GET / HTTP/1.1|Host: x|Transfer-Encoding: identity|" + UPGRADE, SMUGGLED);
            assertThat(outcome.answer().statusLine()).isEqualTo("HTTP/1.1 400 Bad Request");
            assertThat(outcome.after()).as("a second answer").isEmpty();
            assertThat(appRequests).as("smuggled requests the app handled").hasValue(0);
        } finally {
            await(flock.close());
            await(app.close());
        }
    }

    @Test
    void aRequestSmuggledBehindAnUpgrade_isNeverAnswered() {
        Outcome outcome = send("GET / HTTP/1.1|Host: x|Transfer-Encoding: identity|" + UPGRADE, SMUGGLED);
        assertThat(outcome.answer().statusLine()).isEqualTo("HTTP/1.1 400 Bad Request");
        assertThat(outcome.after()).as("a second answer").isEmpty();
        assertThat(smuggledHandled).as("smuggled requests handled").hasValue(0);
    }
}
