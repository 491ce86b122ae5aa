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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.flock.support.RawWebSocket.BINARY;
import static dev.flock.support.RawWebSocket.CLOSE;
import static dev.flock.support.RawWebSocket.CONTINUATION;
import static dev.flock.support.RawWebSocket.PING;
import static dev.flock.support.RawWebSocket.PONG;
import static dev.flock.support.RawWebSocket.TEXT;
import static dev.flock.support.RawWebSocket.closePayload;
import static dev.flock.support.RawWebSocket.concat;
import static dev.flock.support.RawWebSocket.frame;
import static dev.flock.support.RawWebSocket.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * RFC 6455 as a server must keep it, Autobahn-style, over a raw socket: protocol errors close with 1002, invalid
 * UTF-8 with 1007, the close handshake and its codes, binary frames with 1003. Each client joins a room first, so
 * it is a real member when it misbehaves; after each case another client is served normally.
 */
@ExtendWith(VertxExtension.class)
class WebSocketConformanceTest {

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

    private RawWebSocket joined(String userId) {
        RawWebSocket c = RawWebSocket.connect(server.port());
        sockets.add(c);
        c.joinAndAck("r", userId);
        return c;
    }

    private void assertServesOthers() {
        RawWebSocket.assertServesOthers(server.port(), "other");
    }

    /**
     * Sends {@code bytes} and expects the server to fail the connection: its close frame with {@code code}, then
     * the TCP close without waiting for a close from this client (RFC 6455 7.1.7).
     */
    private void expectClose(byte[] bytes, int code) {
        RawWebSocket c = joined("u");
        c.write(bytes);
        Frame close = c.awaitCloseFrame();
        assertThat(close.closeCode()).as("close code; frames: %s", c.summary()).isEqualTo(code);
        c.awaitTcpClose();
        assertServesOthers();
    }

    // ---- protocol errors: 1002 ------------------------------------------------------------------------------

    static Stream<Arguments> protocolErrors() {
        byte[] x = utf8("x");
        return Stream.of(
                Arguments.of("unmasked text frame", frame(true, 0, TEXT, false, HEARTBEAT.length, HEARTBEAT)),
                Arguments.of("unmasked ping", frame(true, 0, PING, false, 1, x)),
                Arguments.of("reserved opcode 3", frame(true, 0, 3, true, 0, new byte[0])),
                Arguments.of("reserved opcode 4", frame(true, 0, 4, true, 1, x)),
                Arguments.of("reserved opcode 5", frame(true, 0, 5, true, 0, new byte[0])),
                Arguments.of("reserved opcode 6", frame(true, 0, 6, true, 1, x)),
                Arguments.of("reserved opcode 7", frame(true, 0, 7, true, 0, new byte[0])),
                Arguments.of("reserved opcode 0xB", frame(true, 0, 0xB, true, 0, new byte[0])),
                Arguments.of("reserved opcode 0xC", frame(true, 0, 0xC, true, 1, x)),
                Arguments.of("reserved opcode 0xD", frame(true, 0, 0xD, true, 0, new byte[0])),
                Arguments.of("reserved opcode 0xE", frame(true, 0, 0xE, true, 1, x)),
                Arguments.of("reserved opcode 0xF", frame(true, 0, 0xF, true, 0, new byte[0])),
                Arguments.of("RSV1 on a text frame", frame(true, 4, TEXT, true, HEARTBEAT.length, HEARTBEAT)),
                Arguments.of("RSV2 on a text frame", frame(true, 2, TEXT, true, HEARTBEAT.length, HEARTBEAT)),
                Arguments.of("RSV3 on a text frame", frame(true, 1, TEXT, true, HEARTBEAT.length, HEARTBEAT)),
                Arguments.of("RSV1+2+3 on a ping", frame(true, 7, PING, true, 1, x)),
                Arguments.of("RSV2 on a continuation", concat(frame(false, TEXT, Arrays.copyOf(HEARTBEAT, 5)),
                        frame(true, 2, CONTINUATION, true, HEARTBEAT.length - 5,
                                Arrays.copyOfRange(HEARTBEAT, 5, HEARTBEAT.length)))),
                Arguments.of("ping with a 126-byte payload", frame(true, PING, new byte[126])),
                Arguments.of("close with a 126-byte payload", frame(true, CLOSE, closePayload(1000, new byte[124]))),
                Arguments.of("fragmented ping (FIN=0)", frame(false, PING, x)),
                Arguments.of("fragmented close (FIN=0)", frame(false, CLOSE, closePayload(1000, new byte[0]))),
                Arguments.of("continuation with no message started", frame(true, CONTINUATION, HEARTBEAT)),
                Arguments.of("non-final continuation with no message started", frame(false, CONTINUATION, x)),
                Arguments.of("new text frame inside a fragmented message", concat(
                        frame(false, TEXT, Arrays.copyOf(HEARTBEAT, 5)), frame(true, TEXT, HEARTBEAT))),
                Arguments.of("binary frame inside a fragmented text message", concat(
                        frame(false, TEXT, Arrays.copyOf(HEARTBEAT, 5)), frame(true, BINARY, x))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("protocolErrors")
    void protocolError_closesWith1002(String name, byte[] bytes) {
        expectClose(bytes, 1002);
    }

    @Test
    void rsv1_whenPermessageDeflateWasOfferedButNotNegotiated_closesWith1002() {
        RawWebSocket.Handshake h = RawWebSocket.handshake(null, server.port(), "/",
                Map.of("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"));
        assertThat(h.socket()).as("upgrade: %s", h.response()).isNotNull();
        assertThat(h.response().header("sec-websocket-extensions")).as("compression is off by default").isNull();
        RawWebSocket c = h.socket();
        sockets.add(c);
        c.joinAndAck("r", "u");
        c.write(frame(true, 4, TEXT, true, HEARTBEAT.length, HEARTBEAT));
        assertThat(c.awaitCloseWithoutReplyAndTcpClose()).isEqualTo(1002);
        assertServesOthers();
    }

    @Test
    void pingsBetweenFragments_areAnswered_andTheMessageIsDelivered() {
        RawWebSocket c = joined("u");
        int from = c.size();
        c.write(concat(
                frame(false, TEXT, Arrays.copyOfRange(HEARTBEAT, 0, 10)),
                frame(true, PING, utf8("p1")),
                frame(false, CONTINUATION, Arrays.copyOfRange(HEARTBEAT, 10, 20)),
                frame(true, PING, utf8("p2")),
                frame(true, CONTINUATION, Arrays.copyOfRange(HEARTBEAT, 20, HEARTBEAT.length))));
        c.awaitJsonFrom(from, m -> "heartbeat:ack".equals(m.getString("type")));
        List<String> pongs = c.received().subList(from, c.size()).stream().filter(f -> f.opcode() == PONG)
                .map(Frame::text).toList();
        assertThat(pongs).containsExactly("p1", "p2");
        assertThat(c.quietFor(java.time.Duration.ofMillis(100))).isTrue();
    }

    // ---- UTF-8: 1007 -----------------------------------------------------------------------------------------

    /** A join whose userId is {@code before + bytes + after}, as raw bytes. */
    private static byte[] joinWithUserIdBytes(byte[] bytes) {
        return concat(utf8("{\"type\":\"join\",\"roomId\":\"r\",\"userId\":\"a"), bytes, utf8("b\",\"metadata\":{}}"));
    }

    private static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = (byte) b[i];
        }
        return out;
    }

    static Stream<Arguments> invalidUtf8() {
        byte[] badByte = joinWithUserIdBytes(bytes(0xff));
        byte[] badContinuation = joinWithUserIdBytes(bytes(0xc3, 0x28));
        byte[] overlong = joinWithUserIdBytes(bytes(0xc0, 0xaf));
        byte[] surrogate = joinWithUserIdBytes(bytes(0xed, 0xa0, 0x80));
        byte[] aboveMax = joinWithUserIdBytes(bytes(0xf4, 0x90, 0x80, 0x80));
        byte[] truncatedAtEnd = concat(utf8("{\"type\":\"heartbeat\",\"roomId\":\"r\"}"), bytes(0xe2, 0x82));
        // € is E2 82 AC; the fragment boundary falls after E2 82 and the next fragment starts with '(' instead of AC
        byte[] head = concat(utf8("{\"type\":\"join\",\"roomId\":\"r\",\"userId\":\"a"), bytes(0xe2, 0x82));
        byte[] tail = utf8("(b\",\"metadata\":{}}");
        return Stream.of(
                Arguments.of("0xFF in a single frame", frame(true, TEXT, badByte)),
                Arguments.of("C3 28 in a single frame", frame(true, TEXT, badContinuation)),
                Arguments.of("overlong C0 AF in a single frame", frame(true, TEXT, overlong)),
                Arguments.of("encoded surrogate ED A0 80", frame(true, TEXT, surrogate)),
                Arguments.of("code point above U+10FFFF", frame(true, TEXT, aboveMax)),
                Arguments.of("truncated sequence at the end of a frame", frame(true, TEXT, truncatedAtEnd)),
                Arguments.of("invalid sequence split across fragments",
                        concat(frame(false, TEXT, head), frame(true, CONTINUATION, tail))),
                Arguments.of("truncated sequence at the end of a fragmented message",
                        concat(frame(false, TEXT, utf8("{\"type\":\"heartbeat\",")),
                                frame(true, CONTINUATION, concat(utf8("\"roomId\":\"r\"}"), bytes(0xf0, 0x9f, 0x98))))),
                Arguments.of("encoded surrogate split across fragments",
                        concat(frame(false, TEXT, concat(utf8("{\"type\":\"heartbeat\",\"roomId\":\"r"), bytes(0xed))),
                                frame(true, CONTINUATION, concat(bytes(0xa0, 0x80), utf8("\"}"))))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidUtf8")
    void invalidUtf8_closesWith1007(String name, byte[] bytes) {
        expectClose(bytes, 1007);
    }

    @Test
    void validMultiByteCharacters_splitAcrossFragments_areAccepted() {
        RawWebSocket watcher = joined("watcher");
        RawWebSocket c = RawWebSocket.connect(server.port());
        sockets.add(c);
        String userId = "κόσμε-€-😀";
        byte[] join = utf8("{\"type\":\"join\",\"roomId\":\"r\",\"userId\":\"" + userId + "\",\"metadata\":{}}");
        // a fragment per byte from the first non-ASCII character on: every boundary inside a sequence is tried
        int start = indexOf(join, (byte) 0xce);
        List<byte[]> frames = new ArrayList<>();
        frames.add(frame(false, TEXT, Arrays.copyOf(join, start)));
        for (int i = start; i < join.length - 1; i++) {
            frames.add(frame(false, CONTINUATION, new byte[]{join[i]}));
        }
        frames.add(frame(true, CONTINUATION, new byte[]{join[join.length - 1]}));
        c.write(concat(frames.toArray(new byte[0][])));
        c.awaitJson(m -> "join:ack".equals(m.getString("type")));
        JsonObject joinedEvent = watcher.awaitJson(m -> "user:joined".equals(m.getString("type")));
        assertThat(joinedEvent.getString("userId")).isEqualTo(userId);
    }

    private static int indexOf(byte[] a, byte b) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        throw new IllegalArgumentException();
    }

    // ---- the close handshake ---------------------------------------------------------------------------------

    @Test
    void clientClose1000_getsClose1000Back_thenTheTcpClose() {
        RawWebSocket watcher = joined("watcher");
        RawWebSocket c = joined("leaver");
        c.close(1000, "bye");
        assertThat(c.awaitCloseWithoutReplyAndTcpClose()).isEqualTo(1000);
        watcher.awaitJson(m -> "user:left".equals(m.getString("type")) && "leaver".equals(m.getString("userId")));
        assertServesOthers();
    }

    @Test
    void clientCloseWithoutACode_getsACloseBack_thenTheTcpClose() {
        RawWebSocket c = joined("u");
        c.send(true, CLOSE, new byte[0]);
        Frame close = c.awaitCloseFrame();
        assertThat(close.closeCode()).as("no code, or 1000").isIn(-1, 1000);
        c.awaitTcpClose();
        assertServesOthers();
    }

    @ParameterizedTest(name = "close code {0}")
    @ValueSource(ints = {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999})
    void closeWithAnInvalidCode_closesWith1002(int code) {
        expectClose(frame(true, CLOSE, closePayload(code, utf8("x"))), 1002);
    }

    @Test
    void closeWithAOneBytePayload_isAProtocolFailure() {
        RawWebSocket c = joined("u");
        c.send(true, CLOSE, new byte[]{0x03});
        assertThat(c.awaitCloseWithoutReplyAndTcpClose()).isIn(1002, 1007);
        assertServesOthers();
    }

    @Test
    void closeWithAnInvalidUtf8Reason_closesWith1007() {
        expectClose(frame(true, CLOSE, closePayload(1000, bytes(0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc,
                0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64))), 1007);
    }

    @ParameterizedTest(name = "close code {0}")
    @ValueSource(ints = {1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999})
    void closeWithAValidCode_getsACloseBack_thenTheTcpClose(int code) {
        RawWebSocket c = joined("u");
        c.close(code, "reason");
        Frame close = c.awaitCloseFrame();
        // RFC 6455 5.5.1: the endpoint typically echoes the code it received
        assertThat(close.closeCode()).as("close frame %s", close).isIn(code, 1000);
        c.awaitTcpClose();
        assertServesOthers();
    }

    // ---- binary frames: 1003 (regression) --------------------------------------------------------------------

    @Test
    void binaryFrame_getsInvalidMessage_thenClose1003() {
        RawWebSocket c = joined("u");
        c.send(true, BINARY, bytes(1, 2, 3));
        JsonObject error = c.awaitError("INVALID_MESSAGE");
        assertThat(error.containsKey("roomId")).isFalse();
        assertThat(c.awaitCloseAndTcpClose()).isEqualTo(1003);
        assertServesOthers();
    }
}
