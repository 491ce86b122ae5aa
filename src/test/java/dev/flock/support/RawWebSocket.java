package dev.flock.support;

import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A WebSocket client over a plain {@link Socket} that sends whatever bytes a test wants: any FIN/RSV/opcode, masked
 * or not, a declared length that differs from the bytes sent, one byte at a time. It reads the server's frames
 * (text, close code and reason, pong payload) and sees the TCP close; every read has a deadline.
 */
public final class RawWebSocket implements AutoCloseable {

    public static final int CONTINUATION = 0x0;
    public static final int TEXT = 0x1;
    public static final int BINARY = 0x2;
    public static final int CLOSE = 0x8;
    public static final int PING = 0x9;
    public static final int PONG = 0xA;

    public static final Duration TIMEOUT = WsClient.TIMEOUT;
    private static final byte[] MASK = {0x37, (byte) 0xfa, 0x21, 0x3d};
    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /** A frame from the server (payload unmasked). */
    public record Frame(boolean fin, int rsv, int opcode, boolean masked, byte[] payload) {
        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        /** The close code, or -1 for a close frame without one. */
        public int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : -1;
        }

        public String closeReason() {
            return payload.length > 2 ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8) : "";
        }

        @Override
        public String toString() {
            String body = opcode == CLOSE ? closeCode() + " \"" + closeReason() + "\""
                    : opcode == TEXT || printable(payload) ? text() : hex(payload);
            return "Frame[op=" + opcode + (fin ? "" : " fin=0") + (rsv != 0 ? " rsv=" + rsv : "") + " " + shorten(body) + "]";
        }
    }

    /** The answer to an upgrade: the response head, and the socket when it was a 101. */
    public record Handshake(RawHttp.Response response, RawWebSocket socket) {
    }

    private final RawHttp http;
    private final List<Frame> received = new ArrayList<>();
    private boolean tcpClosed;

    private RawWebSocket(RawHttp http) {
        this.http = http;
    }

    // ---- upgrade ------------------------------------------------------------------------------------------

    public static RawWebSocket connect(int port) {
        return connect(null, port, Map.of());
    }

    /** Upgrades from {@code localAddress} (null = any) with extra headers; fails unless the answer is 101. */
    public static RawWebSocket connect(String localAddress, int port, Map<String, String> headers) {
        Handshake h = handshake(localAddress, port, "/", headers);
        if (h.socket() == null) {
            throw new AssertionError("upgrade refused: " + h.response());
        }
        return h.socket();
    }

    /** Sends an upgrade request and reads the answer (a refusal's body too). */
    public static Handshake handshake(String localAddress, int port, String path, Map<String, String> headers) {
        RawHttp http = RawHttp.open(localAddress, port);
        byte[] nonce = new byte[16];
        new SecureRandom().nextBytes(nonce);
        String key = Base64.getEncoder().encodeToString(nonce);
        StringBuilder req = new StringBuilder("GET ").append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1:").append(port)
                .append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ").append(key)
                .append("\r\nSec-WebSocket-Version: 13\r\n");
        headers.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
        http.write(req.append("\r\n").toString());
        RawHttp.Response head = RawHttp.readHead(http.socket, http.in, System.nanoTime() + TIMEOUT.toNanos());
        if (head.status() != 101) {
            RawHttp.Response full = head;
            String length = head.header("content-length");
            if (length != null && Integer.parseInt(length.trim()) > 0) {
                long deadline = System.nanoTime() + TIMEOUT.toNanos();
                byte[] body = new byte[Integer.parseInt(length.trim())];
                for (int i = 0; i < body.length; i++) {
                    body[i] = (byte) RawHttp.read(http.socket, http.in, deadline);
                }
                full = new RawHttp.Response(head.statusLine(), head.status(), head.headers(), body);
            }
            http.close();
            return new Handshake(full, null);
        }
        assertThat(head.header("sec-websocket-accept")).as("Sec-WebSocket-Accept").isEqualTo(accept(key));
        return new Handshake(head, new RawWebSocket(http));
    }

    private static String accept(String key) {
        try {
            byte[] sha1 = MessageDigest.getInstance("SHA-1").digest((key + GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(sha1);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- writing ------------------------------------------------------------------------------------------

    /**
     * The bytes of one frame: {@code declaredLength} goes in the header whatever {@code payload} holds, and the
     * payload is masked with a fixed key when {@code masked}. {@code rsv} is the three RSV bits (0..7).
     */
    public static byte[] frame(boolean fin, int rsv, int opcode, boolean masked, long declaredLength, byte[] payload) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(payload.length + 14);
        b.write((fin ? 0x80 : 0) | (rsv & 7) << 4 | (opcode & 0xf));
        int maskBit = masked ? 0x80 : 0;
        // unsigned: a length with the top bit set (which RFC 6455 forbids) goes out as the 64-bit form
        if (declaredLength >= 0 && declaredLength < 126) {
            b.write(maskBit | (int) declaredLength);
        } else if (declaredLength >= 0 && declaredLength <= 0xffff) {
            b.write(maskBit | 126);
            b.write((int) (declaredLength >>> 8));
            b.write((int) declaredLength & 0xff);
        } else {
            b.write(maskBit | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                b.write((int) (declaredLength >>> shift) & 0xff);
            }
        }
        if (masked) {
            b.writeBytes(MASK);
        }
        for (int i = 0; i < payload.length; i++) {
            b.write(masked ? payload[i] ^ MASK[i & 3] : payload[i]);
        }
        return b.toByteArray();
    }

    /** A well-formed masked frame. */
    public static byte[] frame(boolean fin, int opcode, byte[] payload) {
        return frame(fin, 0, opcode, true, payload.length, payload);
    }

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] closePayload(int code, byte[] reason) {
        byte[] p = new byte[2 + reason.length];
        p[0] = (byte) (code >>> 8);
        p[1] = (byte) code;
        System.arraycopy(reason, 0, p, 2, reason.length);
        return p;
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    /** Writes raw bytes (one write and flush). */
    public RawWebSocket write(byte[] bytes) {
        http.write(bytes);
        return this;
    }

    public RawWebSocket write(byte[] bytes, int from, int to) {
        http.write(bytes, from, to);
        return this;
    }

    /** One write (and flush) per byte; TCP_NODELAY is on, so the server gets them as separate segments. */
    public RawWebSocket writeByteByByte(byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            http.write(bytes, i, i + 1);
        }
        return this;
    }

    public RawWebSocket send(boolean fin, int opcode, byte[] payload) {
        return write(frame(fin, opcode, payload));
    }

    public RawWebSocket text(String text) {
        return send(true, TEXT, utf8(text));
    }

    public RawWebSocket send(JsonObject message) {
        return text(message.encode());
    }

    public RawWebSocket ping(byte[] payload) {
        return send(true, PING, payload);
    }

    public RawWebSocket pong(byte[] payload) {
        return send(true, PONG, payload);
    }

    public RawWebSocket close(int code, String reason) {
        return send(true, CLOSE, closePayload(code, utf8(reason)));
    }

    public static JsonObject joinMessage(String roomId, String userId) {
        return new JsonObject().put("type", "join").put("roomId", roomId).put("userId", userId).put("metadata", new JsonObject());
    }

    public static JsonObject heartbeatMessage(String roomId) {
        return new JsonObject().put("type", "heartbeat").put("roomId", roomId);
    }

    /** Joins and reads up to this room's join:ack, which it returns. */
    public JsonObject joinAndAck(String roomId, String userId) {
        int from = received.size();
        send(joinMessage(roomId, userId));
        return awaitJsonFrom(from, m -> "join:ack".equals(m.getString("type")) && roomId.equals(m.getString("roomId")));
    }

    /** A heartbeat, read up to its ack. */
    public void heartbeatAndAck(String roomId) {
        int from = received.size();
        send(heartbeatMessage(roomId));
        awaitJsonFrom(from, m -> "heartbeat:ack".equals(m.getString("type")));
    }

    // ---- reading ------------------------------------------------------------------------------------------

    /** Every frame read so far, in order. */
    public List<Frame> received() {
        return List.copyOf(received);
    }

    public int size() {
        return received.size();
    }

    /** The next frame; fails when the TCP connection ends first or nothing comes within {@link #TIMEOUT}. */
    public Frame next() {
        Frame f = nextOrNull(System.nanoTime() + TIMEOUT.toNanos());
        if (f == null) {
            throw new AssertionError("TCP closed; frames so far: " + summary());
        }
        return f;
    }

    /** The next frame, or null at EOF or reset. */
    private Frame nextOrNull(long deadline) {
        if (tcpClosed) {
            return null;
        }
        int b0;
        try {
            b0 = RawHttp.readOrEof(http.socket, http.in, deadline);
        } catch (AssertionError timeout) {
            throw new AssertionError(timeout.getMessage() + "; frames so far: " + summary(), timeout);
        }
        if (b0 < 0) {
            tcpClosed = true;
            return null;
        }
        int b1 = mustRead(deadline);
        long len = b1 & 0x7f;
        if (len == 126) {
            len = (long) mustRead(deadline) << 8 | mustRead(deadline);
        } else if (len == 127) {
            len = 0;
            for (int i = 0; i < 8; i++) {
                len = len << 8 | mustRead(deadline);
            }
        }
        boolean masked = (b1 & 0x80) != 0;
        byte[] mask = new byte[4];
        if (masked) {
            for (int i = 0; i < 4; i++) {
                mask[i] = (byte) mustRead(deadline);
            }
        }
        if (len > 16 << 20) {
            throw new AssertionError("server frame of " + len + " bytes");
        }
        byte[] payload = new byte[(int) len];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (mustRead(deadline) ^ (masked ? mask[i & 3] : 0));
        }
        Frame f = new Frame((b0 & 0x80) != 0, (b0 >> 4) & 7, b0 & 0xf, masked, payload);
        received.add(f);
        return f;
    }

    private int mustRead(long deadline) {
        int b = RawHttp.readOrEof(http.socket, http.in, deadline);
        if (b < 0) {
            tcpClosed = true;
            throw new AssertionError("TCP closed inside a frame; frames so far: " + summary());
        }
        return b;
    }

    /** Reads until a frame matches (from the frames already read at {@code from} on). */
    public Frame awaitFrom(int from, Predicate<Frame> p) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        for (int i = from; i < received.size(); i++) {
            if (p.test(received.get(i))) {
                return received.get(i);
            }
        }
        while (true) {
            Frame f = nextOrNull(deadline);
            if (f == null) {
                throw new AssertionError("TCP closed before a matching frame; frames: " + summary());
            }
            if (p.test(f)) {
                return f;
            }
        }
    }

    public Frame await(Predicate<Frame> p) {
        return awaitFrom(0, p);
    }

    public JsonObject awaitJsonFrom(int from, Predicate<JsonObject> p) {
        return new JsonObject(awaitFrom(from, f -> f.opcode() == TEXT && p.test(new JsonObject(f.text()))).text());
    }

    public JsonObject awaitJson(Predicate<JsonObject> p) {
        return awaitJsonFrom(0, p);
    }

    /** The {@code error} message with this code (read up to it). */
    public JsonObject awaitError(String code) {
        return awaitJson(m -> "error".equals(m.getString("type")) && code.equals(m.getString("code")));
    }

    /** Reads up to the server's close frame and returns it. */
    public Frame awaitCloseFrame() {
        return await(f -> f.opcode() == CLOSE);
    }

    /** The server's close code (read up to its close frame). */
    public int awaitCloseCode() {
        return awaitCloseFrame().closeCode();
    }

    /** Reads (keeping frames) until the server ends the TCP connection (EOF or reset); fails after {@link #TIMEOUT}. */
    public void awaitTcpClose() {
        awaitTcpClose(TIMEOUT);
    }

    public void awaitTcpClose(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (nextOrNull(deadline) != null) {
            if (received.size() > 100_000) {
                throw new AssertionError("the server keeps sending");
            }
        }
    }

    /**
     * As a well-behaved client in the closing handshake: reads up to the server's close frame, answers it with a
     * close frame of the same code, then waits for the server to end the TCP connection. Returns the code.
     */
    public int awaitCloseAndTcpClose() {
        Frame close = awaitCloseFrame();
        try {
            send(true, CLOSE, close.closeCode() < 0 ? new byte[0] : closePayload(close.closeCode(), new byte[0]));
        } catch (RuntimeException alreadyGone) {
            // the server may close without waiting for the answer
        }
        awaitTcpClose();
        return close.closeCode();
    }

    /**
     * For a peer that cannot answer (it is inside a frame of its own) and after a protocol failure (RFC 6455 7.1.7:
     * the server fails the connection and closes TCP without waiting): the close frame, then the TCP close.
     */
    public int awaitCloseWithoutReplyAndTcpClose() {
        int code = awaitCloseCode();
        awaitTcpClose();
        return code;
    }

    public boolean tcpClosed() {
        return tcpClosed;
    }

    /** Nothing (no byte, no EOF) arrives within {@code d}: a short real-time check that the server stays quiet. */
    public boolean quietFor(Duration d) {
        return !tcpClosed && RawHttp.quiet(http.socket, http.in, d);
    }

    public String summary() {
        int from = Math.max(0, received.size() - 8);
        return received.size() + " frames" + (tcpClosed ? ", TCP closed" : "") + ", last: " + received.subList(from, received.size());
    }

    @Override
    public void close() {
        http.close();
    }

    // ---- after an attack ----------------------------------------------------------------------------------

    /** The server still serves others: a new client joins a room and gets its state, and /health answers. */
    public static void assertServesOthers(int port, String roomId) {
        try (RawWebSocket other = connect(port)) {
            JsonObject ack = other.joinAndAck(roomId, "bystander-" + System.nanoTime());
            assertThat(ack.getJsonArray("users")).as("room state").isNotNull();
        }
        RawHttp.Response health = RawHttp.get(port, "/health");
        assertThat(health.status()).as("/health").isEqualTo(200);
        assertThat(health.bodyText()).contains("ok");
    }

    public static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(b.length, 64); i++) {
            s.append(String.format("%02x", b[i] & 0xff));
        }
        return s.append(b.length > 64 ? "…(" + b.length + " bytes)" : "").toString();
    }

    private static boolean printable(byte[] b) {
        for (byte c : b) {
            if (c < 0x20 || c > 0x7e) {
                return false;
            }
        }
        return b.length > 0;
    }

    private static String shorten(String s) {
        return s.length() > 160 ? s.substring(0, 160) + "…" : s;
    }
}
