package dev.flock.transport;

import dev.flock.FlockServer;
import dev.flock.support.RawHttp;
import dev.flock.support.RawWebSocket;
import dev.flock.support.TestServers;
import dev.flock.support.VirtualClock;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code FLOCK_HTTP_REQUEST_TIMEOUT_MS}: a request (headers and body) or an upgrade must be complete within it from
 * the connection's start, or from the end of the previous response on a kept-alive connection; otherwise 408 (when
 * no response was started) and the connection is closed. Every byte arriving in time does not help: the deadline is
 * the request's, not an idle gap. The server runs on a {@link VirtualClock}; its per-loop scan runs every second of
 * it, and each advance returns after the scans it fired.
 */
@ExtendWith(VertxExtension.class)
class SlowlorisTest {

    private static final long TIMEOUT_MS = 10_000;
    private static final long SCAN_MS = 1_000;
    /** A real-time wait for "nothing comes", after the clock was advanced and its scans have run. */
    private static final Duration QUIET = Duration.ofMillis(300);

    private final VirtualClock clock = new VirtualClock();
    private final List<AutoCloseable> open = new ArrayList<>();
    private FlockServer server;

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    private void start(Vertx vertx, String... env) {
        server = TestServers.start(vertx, clock, env);
    }

    private RawHttp connect() {
        RawHttp c = RawHttp.open(server.port());
        open.add(c);
        return c;
    }

    /**
     * The server has taken (and started the clock of) every connection opened before this: connections are accepted
     * in order and handed to the loops in turn, and a complete request on a later connection was answered by each.
     */
    private void serverHasAccepted() {
        for (int i = 0; i < 2 * Runtime.getRuntime().availableProcessors() + 2; i++) {
            assertThat(RawHttp.get(server.port(), "/health").status()).isEqualTo(200);
        }
    }

    private void assertServesOthers() {
        RawWebSocket.assertServesOthers(server.port(), "other");
    }

    /** Open and quiet just before the deadline; past it (and a scan) closed, with a 408 when {@code expect408}. */
    private void assertTimesOut(RawHttp c, long alreadyAdvancedMs, boolean expect408) {
        clock.advance(TIMEOUT_MS - 1 - alreadyAdvancedMs);
        assertThat(c.quietFor(QUIET)).as("open and quiet just before the deadline").isTrue();
        clock.advance(1 + SCAN_MS);
        String after = new String(c.awaitClosed(), StandardCharsets.ISO_8859_1);
        if (expect408) {
            assertThat(after).as("what the server sent before closing").startsWith("HTTP/1.1 408");
        }
        assertServesOthers();
    }

    private static String head(String method, String path, String... headers) {
        StringBuilder b = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (String h : headers) {
            b.append(h).append("\r\n");
        }
        return b.toString(); // without the blank line that would end it
    }

    @Test
    void aConnectionThatSendsNothing_gets408AndIsClosed(Vertx vertx) {
        start(vertx);
        RawHttp c = connect();
        serverHasAccepted();
        assertTimesOut(c, 0, true);
    }

    @Test
    void headersOneByteAtATime_eachInTime_butTheWholeTooLate_get408AndAreClosed(Vertx vertx) {
        start(vertx);
        RawHttp c = connect();
        serverHasAccepted();
        byte[] slow = head("GET", "/health", "X-Slow: " + "a".repeat(60)).getBytes(StandardCharsets.US_ASCII);
        long step = 400; // far inside any idle gap a server might allow
        int i = 0;
        long advanced = 0;
        for (; advanced + step < TIMEOUT_MS; i++) {
            c.write(slow, i, i + 1);
            clock.advance(step);
            advanced += step;
        }
        assertThat(i).as("bytes sent one at a time").isGreaterThan(20);
        clock.advance(TIMEOUT_MS - 1 - advanced);
        assertThat(c.quietFor(QUIET)).as("open just before the deadline").isTrue();
        // keep trickling past the deadline: every byte in time, the request still incomplete
        int sentAfter = 0;
        for (; i < slow.length && sentAfter < 4; i++, sentAfter++) {
            try {
                c.write(slow, i, i + 1);
            } catch (UncheckedIOException closedAlready) {
                break;
            }
            clock.advance(step);
        }
        clock.advance(SCAN_MS);
        assertThat(new String(c.awaitClosed(), StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 408");
        assertServesOthers();
    }

    @Test
    void aPartialUpgradeRequest_gets408AndIsClosed(Vertx vertx) {
        start(vertx);
        RawHttp c = connect();
        c.write(head("GET", "/", "Upgrade: websocket", "Connection: Upgrade",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"));
        serverHasAccepted();
        assertTimesOut(c, 0, true);
    }

    @Test
    void anIdleKeptAliveConnection_isClosed_afterTheTimeoutFromItsLastResponse(Vertx vertx) {
        start(vertx);
        RawHttp c = connect();
        clock.advance(TIMEOUT_MS / 2); // the deadline runs from the end of the response, not the connection's start
        c.write(head("GET", "/health") + "\r\n");
        RawHttp.Response first = c.readResponse();
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.header("connection")).as("kept alive").isNotEqualToIgnoringCase("close");
        // closing silently or with a 408 are both fine here: no request was started
        assertTimesOut(c, 0, false);
    }

    @Test
    void aSecondRequestThatStalls_onAKeptAliveConnection_isClosed(Vertx vertx) {
        start(vertx);
        RawHttp c = connect();
        c.write(head("GET", "/health") + "\r\n");
        assertThat(c.readResponse().status()).isEqualTo(200);
        c.write(head("GET", "/health", "X-Half: a"));
        // incomplete headers on a kept-alive connection look like silence (the decoder holds them): closing silently
        // is what an idle one gets, and a 408 would be fine too (DECISIONS.md, "HTTP request deadline")
        assertTimesOut(c, 0, false);
    }

    @Test
    void aPostWhoseBodyStalls_gets408AndIsClosed(Vertx vertx) {
        // the admin API reads the whole body before it answers: no response is started while the body is missing
        start(vertx, "FLOCK_ADMIN_PASSWORD", "a-long-admin-password", "FLOCK_ADMIN_TOKEN", "a-long-admin-token");
        RawHttp c = connect();
        c.write(head("POST", "/api/admin/close-room", "Authorization: Bearer a-long-admin-token",
                "Content-Type: application/x-www-form-urlencoded", "Content-Length: 100") + "\r\nroomId=");
        serverHasAccepted();
        assertTimesOut(c, 0, true);
    }

    @Test
    void aPostWhoseBodyStalls_afterTheServerAnswered_isClosed(Vertx vertx) {
        // no route takes this POST: the refusal goes out at once; the connection still may not hang on the missing body
        start(vertx);
        RawHttp c = connect();
        c.write(head("POST", "/nothing-here", "Content-Length: 100") + "\r\nabc");
        RawHttp.Response answered = c.readResponse();
        assertThat(answered.status()).as("%s", answered).isBetween(400, 499);
        clock.advance(TIMEOUT_MS + SCAN_MS);
        c.awaitClosed();
        assertServesOthers();
    }

    @Test
    void aJoinedWebSocket_silentLongerThanTheHttpTimeout_isNotClosedByIt(Vertx vertx) {
        start(vertx);
        RawWebSocket joined = RawWebSocket.connect(server.port());
        open.add(joined);
        joined.joinAndAck("r", "quiet");
        RawWebSocket upgradedOnly = RawWebSocket.connect(server.port()); // the join timeout (30 s) is another rule
        open.add(upgradedOnly);
        upgradedOnly.heartbeatAndAck("r");
        clock.advance(TIMEOUT_MS + 5 * SCAN_MS);
        assertThat(joined.quietFor(QUIET)).isTrue();
        assertThat(upgradedOnly.quietFor(QUIET)).isTrue();
        joined.heartbeatAndAck("r");
        upgradedOnly.heartbeatAndAck("r");
    }

    @Test
    void healthKeepsAnswering_whileManySlowConnectionsAreOpen_andTheyAreAllTimedOut(Vertx vertx) {
        start(vertx);
        int slow = 200;
        List<RawHttp> attackers = new ArrayList<>();
        for (int i = 0; i < slow; i++) {
            RawHttp c = connect();
            c.write(head("GET", "/health", "X-Attacker: " + i)); // never finished
            attackers.add(c);
        }
        serverHasAccepted();
        assertThat(attackers).as("slow connections open").hasSize(slow);
        clock.advance(TIMEOUT_MS / 2);
        for (int i = 0; i < 5; i++) {
            RawHttp.Response health = RawHttp.get(server.port(), "/health");
            assertThat(health.status()).isEqualTo(200);
        }
        assertServesOthers();
        clock.advance(TIMEOUT_MS / 2 + SCAN_MS);
        int timedOut = 0;
        for (RawHttp c : attackers) {
            assertThat(new String(c.awaitClosed(), StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 408");
            timedOut++;
        }
        assertThat(timedOut).isEqualTo(slow);
        assertServesOthers();
    }
}
