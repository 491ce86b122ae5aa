package dev.flock.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * A WebSocket client that can stop reading, like a frozen tab: a raw socket with a tiny receive buffer,
 * so the server's write queue fills up instead of the kernel's.
 */
public final class StalledReader implements AutoCloseable {

    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    public StalledReader(int port) throws IOException {
        socket = new Socket();
        socket.setReceiveBufferSize(4096);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(10_000);
        out = socket.getOutputStream();
        in = socket.getInputStream();
        byte[] nonce = new byte[16];
        new SecureRandom().nextBytes(nonce);
        out.write(("GET / HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String status = readHeaders();
        if (!status.startsWith("HTTP/1.1 101")) {
            throw new IOException("upgrade refused: " + status);
        }
    }

    private String readHeaders() throws IOException {
        StringBuilder b = new StringBuilder();
        while (!b.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("closed during handshake: " + b);
            }
            b.append((char) c);
        }
        return b.toString();
    }

    /** Sends one masked text frame (clients must mask). */
    public void send(String text) throws IOException {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        byte[] mask = {1, 2, 3, 4};
        java.io.ByteArrayOutputStream frame = new java.io.ByteArrayOutputStream();
        frame.write(0x81);
        if (payload.length < 126) {
            frame.write(0x80 | payload.length);
        } else {
            frame.write(0x80 | 126);
            frame.write(payload.length >> 8);
            frame.write(payload.length & 0xff);
        }
        frame.write(mask);
        for (int i = 0; i < payload.length; i++) {
            frame.write(payload[i] ^ mask[i % 4]);
        }
        out.write(frame.toByteArray());
        out.flush();
    }

    /** Reads everything until the server closes the connection (or the timeout); returns the bytes read. */
    public String drainUntilClosed() throws IOException {
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                all.write(buf, 0, n);
            }
        } catch (IOException reset) {
            // a reset after close is fine
        }
        return all.toString(StandardCharsets.ISO_8859_1);
    }

    /** Reads what is available for up to {@code millis}, as text (frame headers included). */
    public String readFor(long millis) throws IOException {
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        long deadline = System.currentTimeMillis() + millis;
        socket.setSoTimeout(100);
        while (System.currentTimeMillis() < deadline) {
            try {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                all.write(buf, 0, n);
            } catch (java.net.SocketTimeoutException quiet) {
                // keep reading until the deadline
            }
        }
        return all.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
