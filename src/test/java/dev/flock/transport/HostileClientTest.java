package dev.flock.transport;

import dev.flock.FlockServer;
import dev.flock.support.RawWebSocket;
import dev.flock.support.RawWebSocket.Frame;
import dev.flock.support.TestServers;
import dev.flock.support.VirtualClock;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.flock.support.RawWebSocket.CONTINUATION;
import static dev.flock.support.RawWebSocket.PING;
import static dev.flock.support.RawWebSocket.PONG;
import static dev.flock.support.RawWebSocket.TEXT;
import static dev.flock.support.RawWebSocket.frame;
import static dev.flock.support.RawWebSocket.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Clients that attack the frame layer: ping and pong floods (control frames count against
 * {@code FLOCK_MAX_MESSAGES_PER_SECOND}), messages that stall half-way ({@code FLOCK_FRAME_TIMEOUT_MS}), and
 * messages over {@code FLOCK_MAX_FRAME_BYTES} announced by a header or by fragments. The server runs on a
 * {@link VirtualClock}: time stands still until the test moves it, so "within one second" holds for any burst, and
 * the timeout is reached by advancing the clock (each advance returns after the scans it fired have run). After
 * each attack another client is served normally.
 */
@ExtendWith(VertxExtension.class)
class HostileClientTest {

    /** The defaults under test. */
    private static final int LIMIT = 100;
    private static final long FRAME_TIMEOUT_MS = 10_000;
    private static final int MAX_FRAME_BYTES = 65_536;
    /** The per-loop scan runs once a second of the clock. */
    private static final long SCAN_MS = 1_000;
    /** A real-time wait for "nothing comes": the clock was advanced and its scans have run before it starts. */
    private static final Duration QUIET = Duration.ofMillis(300);

    private static final byte[] HEARTBEAT = utf8("{\"type\":\"heartbeat\",\"roomId\":\"r\"}");

    private final VirtualClock clock = new VirtualClock();
    private final List<RawWebSocket> sockets = new ArrayList<>();
    private FlockServer server;

    @BeforeEach
    void start(Vertx vertx) {
        server = TestServers.start(vertx, clock);
    }

    @AfterEach
    void stop() {
        sockets.forEach(RawWebSocket::close);
    }

    private RawWebSocket connect() {
        RawWebSocket c = RawWebSocket.connect(server.port());
        sockets.add(c);
        return c;
    }

    private RawWebSocket joined(String userId) {
        RawWebSocket c = connect();
        c.joinAndAck("r", userId);
        return c;
    }

    private void assertServesOthers() {
        RawWebSocket.assertServesOthers(server.port(), "other");
    }

    private static List<Frame> framesFrom(RawWebSocket c, int from, int opcode) {
        return c.received().subList(from, c.size()).stream().filter(f -> f.opcode() == opcode).toList();
    }

    private static byte[] pings(int from, int count) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = from; i < from + count; i++) {
            b.writeBytes(frame(true, PING, utf8("p" + i)));
        }
        return b.toByteArray();
    }

    // ---- control frames and the rate limit -----------------------------------------------------------------

    @Test
    void pingsBelowTheLimit_eachGetAPongWithTheSamePayload() {
        RawWebSocket c = connect();
        byte[][] payloads = {new byte[0], utf8("a"), utf8("hello"), new byte[125], {0, (byte) 0xff, 0x7f}};
        payloads[3][0] = 42;
        for (byte[] p : payloads) {
            c.ping(p);
        }
        c.heartbeatAndAck("r"); // the barrier: every ping was read before this
        List<Frame> pongs = framesFrom(c, 0, PONG);
        assertThat(pongs).hasSize(payloads.length);
        for (int i = 0; i < payloads.length; i++) {
            assertThat(pongs.get(i).payload()).as("pong %d", i).isEqualTo(payloads[i]);
        }
    }

    @Test
    void anUnsolicitedPong_isIgnored() {
        RawWebSocket c = joined("u");
        int from = c.size();
        c.pong(utf8("unasked"));
        c.heartbeatAndAck("r");
        assertThat(c.received().subList(from, c.size())).as("only the ack: no pong, no error")
                .singleElement().satisfies(f -> assertThat(f.text()).contains("heartbeat:ack"));
        assertThat(c.quietFor(Duration.ofMillis(100))).isTrue();
    }

    @Test
    void pingFlood_withoutReading_getsRateLimited_andClose1008() {
        RawWebSocket c = connect(); // no join: the first control frame is the first message of the second
        ByteArrayOutputStream flood = new ByteArrayOutputStream();
        int sent = 0;
        for (; sent < 3 * LIMIT; sent++) {
            flood.writeBytes(frame(true, PING, utf8("p" + sent)));
        }
        c.write(flood.toByteArray()); // one write, nothing read meanwhile
        assertThat(sent).as("pings sent").isGreaterThan(LIMIT);
        JsonObject error = c.awaitError("RATE_LIMITED");
        assertThat(error.containsKey("roomId")).isFalse();
        List<Frame> pongs = framesFrom(c, 0, PONG);
        assertThat(pongs).as("a pong for each ping within the limit, none beyond").hasSize(LIMIT);
        for (int i = 0; i < LIMIT; i++) {
            assertThat(pongs.get(i).text()).isEqualTo("p" + i);
        }
        assertThat(c.awaitCloseAndTcpClose()).isEqualTo(1008);
        assertThat(framesFrom(c, 0, PONG)).as("no pong after the error").hasSize(LIMIT);
        assertServesOthers();
    }

    @Test
    void theLimitPlusFirstControlFrame_isTheOneOver() {
        RawWebSocket c = connect();
        c.write(pings(0, LIMIT));
        c.await(f -> f.opcode() == PONG && f.text().equals("p" + (LIMIT - 1)));
        assertThat(c.quietFor(QUIET)).as("still open at exactly the limit").isTrue();
        c.ping(utf8("over"));
        c.awaitError("RATE_LIMITED");
        assertThat(framesFrom(c, 0, PONG)).noneMatch(f -> f.text().equals("over"));
        assertThat(c.awaitCloseAndTcpClose()).isEqualTo(1008);
        assertServesOthers();
    }

    @Test
    void pongFlood_getsRateLimited_andClose1008() {
        RawWebSocket c = connect();
        ByteArrayOutputStream flood = new ByteArrayOutputStream();
        int sent = LIMIT + 1;
        for (int i = 0; i < sent; i++) {
            flood.writeBytes(frame(true, PONG, utf8("q" + i)));
        }
        c.write(flood.toByteArray());
        c.awaitError("RATE_LIMITED");
        assertThat(sent).isGreaterThan(LIMIT);
        assertThat(c.awaitCloseAndTcpClose()).isEqualTo(1008);
        assertServesOthers();
    }

    @Test
    void textAndControlFrames_shareOneLimit() {
        RawWebSocket c = joined("u"); // 1 message
        int heartbeats = 59;
        ByteArrayOutputStream burst = new ByteArrayOutputStream();
        for (int i = 0; i < heartbeats; i++) {
            burst.writeBytes(frame(true, TEXT, HEARTBEAT));
        }
        burst.writeBytes(pings(0, LIMIT - 1 - heartbeats)); // 100 in all: none over
        c.write(burst.toByteArray());
        c.await(f -> f.opcode() == PONG && f.text().equals("p" + (LIMIT - 2 - heartbeats)));
        assertThat(c.received().stream().filter(f -> f.opcode() == TEXT && f.text().contains("heartbeat:ack")))
                .hasSize(heartbeats);
        assertThat(c.received()).noneMatch(f -> f.opcode() == TEXT && f.text().contains("RATE_LIMITED"));
        c.pong(utf8("the 101st")); // an unsolicited pong counts too
        c.awaitError("RATE_LIMITED");
        assertThat(c.awaitCloseAndTcpClose()).isEqualTo(1008);
        assertServesOthers();
    }

    @Test
    void pingingAtTheLimitEverySecond_isNeverRateLimited() {
        RawWebSocket c = connect();
        for (int round = 0; round < 3; round++) {
            c.write(pings(round * LIMIT, LIMIT));
            int last = round * LIMIT + LIMIT - 1;
            c.await(f -> f.opcode() == PONG && f.text().equals("p" + last));
            clock.advance(SCAN_MS + 1); // the window moves on: the last second's pings have left it
        }
        assertThat(framesFrom(c, 0, PONG)).hasSize(3 * LIMIT);
        assertThat(c.received()).noneMatch(f -> f.opcode() == TEXT && f.text().contains("RATE_LIMITED"));
        assertThat(c.quietFor(QUIET)).isTrue();
    }

    // ---- stalled messages: FLOCK_FRAME_TIMEOUT_MS ------------------------------------------------------------
    //
    // The clock may only move once the server has read the partial bytes (its deadline runs from the first byte
    // it read): an event loop still busy with tasks when they arrive would otherwise run the clock's scan first, and
    // see the bytes only at a later time of the clock. So the partial bytes go in the same write (one TCP segment,
    // read at once) as a complete message in front of them, and the test waits for that message's answer.

    /** A joined socket whose {@code partial} bytes the server has read (they followed the join in one write). */
    private RawWebSocket joinedThenPartial(byte[] partial) {
        RawWebSocket c = connect();
        c.write(RawWebSocket.concat(frame(true, TEXT, utf8(RawWebSocket.joinMessage("r", "u").encode())), partial));
        c.awaitJson(m -> "join:ack".equals(m.getString("type")));
        return c;
    }

    /** Writes a heartbeat and {@code partial} in one write and waits for the heartbeat's ack. */
    private static void heartbeatThenPartial(RawWebSocket c, byte[] partial) {
        int from = c.size();
        c.write(RawWebSocket.concat(frame(true, TEXT, HEARTBEAT), partial));
        c.awaitJsonFrom(from, m -> "heartbeat:ack".equals(m.getString("type")));
    }

    /** Just before the timeout nothing happens; past it (and a scan) the server closes with 1008, then TCP. */
    private void assertClosedForStalling(RawWebSocket c, long alreadyAdvancedMs) {
        clock.advance(FRAME_TIMEOUT_MS - 1 - alreadyAdvancedMs);
        assertThat(c.quietFor(QUIET)).as("open just before the timeout; %s", c.summary()).isTrue();
        clock.advance(1 + SCAN_MS);
        // the client is inside a message of its own: it cannot answer the close, the server must not wait for it
        assertThat(c.awaitCloseWithoutReplyAndTcpClose()).isEqualTo(1008);
        assertServesOthers();
    }

    @Test
    void allButTheLastByteOfAFrame_thenSilence_isClosedWith1008() {
        byte[] f = frame(true, TEXT, HEARTBEAT);
        RawWebSocket c = joinedThenPartial(Arrays.copyOf(f, f.length - 1));
        assertClosedForStalling(c, 0);
    }

    @Test
    void theFirstByteOfAHeader_thenSilence_isClosedWith1008() {
        RawWebSocket c = joinedThenPartial(Arrays.copyOf(frame(true, TEXT, HEARTBEAT), 1));
        assertClosedForStalling(c, 0);
    }

    @Test
    void aFragmentedMessageWhoseFinalFragmentNeverComes_isClosedWith1008() {
        RawWebSocket c = joinedThenPartial(RawWebSocket.concat(
                frame(false, TEXT, Arrays.copyOf(HEARTBEAT, 10)),
                frame(false, CONTINUATION, Arrays.copyOfRange(HEARTBEAT, 10, 20))));
        assertClosedForStalling(c, 0);
    }

    @Test
    void pingsBetweenFragments_doNotExtendTheMessagesDeadline() {
        RawWebSocket c = joinedThenPartial(frame(false, TEXT, Arrays.copyOf(HEARTBEAT, 10)));
        clock.advance(FRAME_TIMEOUT_MS / 2);
        c.ping(utf8("still here"));
        c.await(f -> f.opcode() == PONG);
        assertClosedForStalling(c, FRAME_TIMEOUT_MS / 2);
    }

    @Test
    void aCompleteMessageFollowedByAPartialOne_isClosedWith1008() {
        RawWebSocket c = joinedThenPartial(new byte[0]);
        byte[] second = frame(true, TEXT, HEARTBEAT);
        heartbeatThenPartial(c, Arrays.copyOf(second, second.length - 3)); // the complete one is served
        assertClosedForStalling(c, 0);
    }

    @Test
    void aMessageCompletedJustBeforeTheTimeout_isAccepted_andEachMessageHasItsOwnDeadline() {
        RawWebSocket c = joinedThenPartial(new byte[0]);
        for (int message = 0; message < 3; message++) {
            byte[] f = frame(true, TEXT, HEARTBEAT);
            heartbeatThenPartial(c, Arrays.copyOf(f, f.length - 1));
            clock.advance(FRAME_TIMEOUT_MS - 1); // the scans run; the message is 1 ms short of its timeout
            assertThat(c.quietFor(QUIET)).as("message %d; %s", message, c.summary()).isTrue();
            int from = c.size();
            c.write(f, f.length - 1, f.length);
            c.awaitJsonFrom(from, m -> "heartbeat:ack".equals(m.getString("type")));
        }
        // nothing in progress: silence is no stall (the presence TTL and the join timeout are other rules)
        clock.advance(FRAME_TIMEOUT_MS + SCAN_MS);
        assertThat(c.quietFor(QUIET)).isTrue();
        c.heartbeatAndAck("r");
    }

    @Test
    void aMessageSentByteByByte_completedBeforeTheTimeout_isAccepted() {
        RawWebSocket c = joined("u");
        byte[] f = frame(true, TEXT, HEARTBEAT);
        int from = c.size();
        long step = (FRAME_TIMEOUT_MS - 1) / f.length;
        for (int i = 0; i < f.length; i++) {
            c.write(f, i, i + 1);
            clock.advance(step); // a byte read late only makes its message look younger
        }
        assertThat(step * f.length).isLessThan(FRAME_TIMEOUT_MS);
        c.awaitJsonFrom(from, m -> "heartbeat:ack".equals(m.getString("type")));
        assertThat(c.received()).noneMatch(fr -> fr.opcode() == RawWebSocket.CLOSE);
    }

    // ---- oversize messages: FLOCK_MAX_FRAME_BYTES ------------------------------------------------------------

    /** INVALID_MESSAGE, then close 1009; the client is inside its frame, so it cannot answer the close. */
    private static void assertTooBig(RawWebSocket c) {
        c.awaitError("INVALID_MESSAGE");
        int errorAt = c.received().indexOf(c.await(f -> f.opcode() == TEXT && f.text().contains("INVALID_MESSAGE")));
        assertThat(c.awaitCloseWithoutReplyAndTcpClose()).isEqualTo(1009);
        assertThat(c.received().indexOf(c.awaitCloseFrame())).as("error before close").isGreaterThan(errorAt);
    }

    @Test
    void aHeaderDeclaringOneByteOverTheLimit_isAnsweredBeforeThePayload() {
        RawWebSocket c = joined("u");
        byte[] few = utf8("{\"type\":");
        byte[] header = frame(true, 0, TEXT, true, MAX_FRAME_BYTES + 1, few);
        c.write(header); // the header (64-bit length), the mask and 8 bytes of 65,537
        assertThat(header.length).as("bytes sent").isEqualTo(2 + 8 + 4 + few.length);
        assertTooBig(c);
        assertServesOthers();
    }

    @Test
    void aHeaderDeclaringAHugeLength_isAnsweredBeforeThePayload() {
        RawWebSocket c = joined("u");
        c.write(frame(true, 0, TEXT, true, 1L << 40, utf8("{")));
        assertTooBig(c);
        assertServesOthers();
    }

    @Test
    void aHeaderWithTheLengthsTopBitSet_isRefusedOnItsHeader() {
        // RFC 6455 5.2: the most significant bit of a 64-bit length MUST be 0; a protocol error (1002) or, read as
        // unsigned, too big (1009): either way refused on the header
        RawWebSocket c = joined("u");
        c.write(frame(true, 0, TEXT, true, 0x8000_0000_0000_0001L, utf8("{")));
        assertThat(c.awaitCloseWithoutReplyAndTcpClose()).isIn(1002, 1009);
        assertServesOthers();
    }

    @Test
    void aFragmentedMessageOverTheLimit_isAnsweredWithoutItsFinalFragment() {
        RawWebSocket c = joined("u");
        byte[] part = new byte[40_000];
        Arrays.fill(part, (byte) ' ');
        byte[] first = RawWebSocket.concat(utf8("{\"type\":\"heartbeat\",\"roomId\":\"r\""), part);
        c.write(RawWebSocket.concat(frame(false, TEXT, first), frame(false, CONTINUATION, part)));
        assertThat(first.length + part.length).as("sum of the fragments sent").isGreaterThan(MAX_FRAME_BYTES);
        assertTooBig(c);
        assertServesOthers();
    }

    @Test
    void aContinuationHeaderThatTakesTheMessageOverTheLimit_isAnsweredBeforeItsPayload() {
        RawWebSocket c = joined("u");
        byte[] part = new byte[40_000];
        Arrays.fill(part, (byte) ' ');
        byte[] first = RawWebSocket.concat(utf8("{\"type\":\"heartbeat\",\"roomId\":\"r\""), part);
        byte[] few = utf8("    ");
        c.write(RawWebSocket.concat(frame(false, TEXT, first), frame(true, 0, CONTINUATION, true, 40_000, few)));
        assertThat((long) first.length + 40_000).as("declared sum").isGreaterThan(MAX_FRAME_BYTES);
        assertTooBig(c);
        assertServesOthers();
    }

    @Test
    void aCompleteFragmentedMessageOverTheLimit_getsInvalidMessageAndClose1009() {
        RawWebSocket c = joined("u");
        byte[] part = new byte[30_000];
        Arrays.fill(part, (byte) ' ');
        c.write(RawWebSocket.concat(frame(false, TEXT, RawWebSocket.concat(utf8("{\"type\":\"heartbeat\""), part)),
                frame(false, CONTINUATION, part), frame(true, CONTINUATION, RawWebSocket.concat(part, utf8(",\"roomId\":\"r\"}")))));
        c.awaitError("INVALID_MESSAGE");
        assertThat(c.awaitCloseAndTcpClose()).isEqualTo(1009);
        assertServesOthers();
    }

    /** A join padded with spaces (before its closing brace) to exactly {@code size} bytes. */
    private static byte[] paddedJoin(String userId, int size) {
        byte[] head = utf8("{\"type\":\"join\",\"roomId\":\"r\",\"userId\":\"" + userId + "\",\"metadata\":{}");
        byte[] out = new byte[size];
        Arrays.fill(out, (byte) ' ');
        System.arraycopy(head, 0, out, 0, head.length);
        out[size - 1] = '}';
        return out;
    }

    @Test
    void aMessageOfExactlyTheLimit_inOneFrame_isAccepted() {
        RawWebSocket c = connect();
        c.write(frame(true, TEXT, paddedJoin("exact", MAX_FRAME_BYTES)));
        c.awaitJson(m -> "join:ack".equals(m.getString("type")));
        c.heartbeatAndAck("r");
    }

    @Test
    void aMessageOfExactlyTheLimit_inFragments_isAccepted() {
        RawWebSocket c = connect();
        byte[] join = paddedJoin("exact", MAX_FRAME_BYTES);
        int a = 20_000;
        int b = 50_000;
        c.write(RawWebSocket.concat(frame(false, TEXT, Arrays.copyOf(join, a)),
                frame(false, CONTINUATION, Arrays.copyOfRange(join, a, b)),
                frame(true, CONTINUATION, Arrays.copyOfRange(join, b, join.length))));
        c.awaitJson(m -> "join:ack".equals(m.getString("type")));
        c.heartbeatAndAck("r");
    }

    @Test
    void aMessageOfTheLimitPlusOne_getsInvalidMessageAndClose1009() {
        RawWebSocket c = connect();
        c.write(frame(true, TEXT, paddedJoin("over", MAX_FRAME_BYTES + 1)));
        c.awaitError("INVALID_MESSAGE");
        assertThat(c.received()).noneMatch(f -> f.opcode() == TEXT && f.text().contains("join:ack"));
        assertThat(c.awaitCloseAndTcpClose()).isEqualTo(1009);
        assertServesOthers();
    }
}
