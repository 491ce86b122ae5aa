package dev.flock.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain {@link Socket}, byte by byte if the test wants: for requests a well-behaved client never
 * sends (slowloris, partial upgrades) and for reading refused upgrades. Every read has a deadline.
 */
public final class RawHttp implements AutoCloseable {

    public static final Duration TIMEOUT = WsClient.TIMEOUT;

    /** A response head and its body; header names are lower-cased. */
    public record Response(String statusLine, int status, Map<String, String> headers, byte[] body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return statusLine + " " + headers + " " + bodyText();
        }
    }

    final Socket socket;
    final InputStream in;
    final OutputStream out;

    RawHttp(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new java.io.BufferedInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    public static RawHttp open(int port) {
        return open(null, port);
    }

    /** Connects to 127.0.0.1:port from {@code localAddress} (e.g. "127.0.0.2"; null = any). */
    public static RawHttp open(String localAddress, int port) {
        try {
            return new RawHttp(connect(localAddress, port));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Socket connect(String localAddress, int port) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        if (localAddress != null) {
            s.bind(new InetSocketAddress(InetAddress.getByName(localAddress), 0));
        }
        s.connect(new InetSocketAddress("127.0.0.1", port), (int) TIMEOUT.toMillis());
        s.setSoTimeout((int) TIMEOUT.toMillis());
        return s;
    }

    /** One complete {@code GET path} on a fresh connection (closed after). */
    public static Response get(int port, String path) {
        try (RawHttp c = open(port)) {
            c.write("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            return c.readResponse();
        }
    }

    public RawHttp write(String ascii) {
        return write(ascii.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawHttp write(byte[] bytes) {
        return write(bytes, 0, bytes.length);
    }

    public RawHttp write(byte[] bytes, int from, int to) {
        try {
            out.write(bytes, from, to - from);
            out.flush();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads one response: its head, then a body of Content-Length or chunked, or (neither) until EOF. */
    public Response readResponse() {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        Response head = readHead(socket, in, deadline);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        String length = head.header("content-length");
        String encoding = head.header("transfer-encoding");
        if (length != null) {
            int n = Integer.parseInt(length.trim());
            for (int i = 0; i < n; i++) {
                int b = read(socket, in, deadline);
                if (b < 0) {
                    throw new AssertionError("EOF inside a body of " + n + " bytes: " + head);
                }
                body.write(b);
            }
        } else if (encoding != null && encoding.toLowerCase(Locale.ROOT).contains("chunked")) {
            while (true) {
                int n = Integer.parseInt(readLine(socket, in, deadline).split(";")[0].trim(), 16);
                for (int i = 0; i < n; i++) {
                    body.write(read(socket, in, deadline));
                }
                readLine(socket, in, deadline);
                if (n == 0) {
                    break;
                }
            }
        } else if (head.status() >= 200 && head.status() != 204 && head.status() != 304 && head.status() != 101) {
            int b;
            while ((b = readOrEof(socket, in, deadline)) >= 0) {
                body.write(b);
            }
        }
        return new Response(head.statusLine(), head.status(), head.headers(), body.toByteArray());
    }

    /**
     * Reads until the server closes the connection (EOF or reset), discarding what comes; fails after
     * {@link #TIMEOUT}. Returns the bytes that came before the close.
     */
    public byte[] awaitClosed() {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        int b;
        while ((b = readOrEof(socket, in, deadline)) >= 0) {
            seen.write(b);
        }
        return seen.toByteArray();
    }

    /** True when nothing arrives and the connection stays open for {@code d} (a short real-time check). */
    public boolean quietFor(Duration d) {
        return quiet(socket, in, d);
    }

    /** Peeks: a byte that arrives stays readable. */
    static boolean quiet(Socket socket, InputStream in, Duration d) {
        try {
            socket.setSoTimeout((int) Math.max(1, d.toMillis()));
            in.mark(1);
            in.read(); // a byte or EOF: not quiet
            in.reset();
            return false;
        } catch (SocketTimeoutException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** True once the server has closed (EOF or reset) the connection; false if still open after {@code d}. */
    public boolean isClosedWithin(Duration d) {
        try {
            socket.setSoTimeout((int) Math.max(1, d.toMillis()));
            while (true) {
                if (in.read() < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** Closes with an RST (SO_LINGER 0) instead of a FIN, as a crashed client or a middlebox does. */
    public void reset() {
        try {
            socket.setSoLinger(true, 0);
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    // ---- shared with RawWebSocket -----------------------------------------------------------------------

    static Response readHead(Socket socket, InputStream in, long deadline) {
        String statusLine = readLine(socket, in, deadline);
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
            throw new AssertionError("not an HTTP status line: " + statusLine);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        String line;
        while (!(line = readLine(socket, in, deadline)).isEmpty()) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.merge(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim(),
                        (a, b) -> a + ", " + b);
            }
        }
        return new Response(statusLine, Integer.parseInt(parts[1]), headers, new byte[0]);
    }

    private static String readLine(Socket socket, InputStream in, long deadline) {
        StringBuilder b = new StringBuilder();
        while (true) {
            int c = read(socket, in, deadline);
            if (c < 0) {
                throw new AssertionError("connection closed inside an HTTP head; got: " + b);
            }
            if (c == '\n') {
                int n = b.length();
                return n > 0 && b.charAt(n - 1) == '\r' ? b.substring(0, n - 1) : b.toString();
            }
            if (b.length() > 16_384) {
                throw new AssertionError("HTTP line too long");
            }
            b.append((char) c);
        }
    }

    /** One byte, -1 at EOF; a reset fails; no byte before the deadline fails. */
    static int read(Socket socket, InputStream in, long deadline) {
        try {
            return readOrThrow(socket, in, deadline);
        } catch (SocketException e) {
            throw new AssertionError("connection reset while reading", e);
        }
    }

    /** One byte, -1 at EOF or reset; no byte before the deadline fails. */
    static int readOrEof(Socket socket, InputStream in, long deadline) {
        try {
            return readOrThrow(socket, in, deadline);
        } catch (SocketException e) {
            return -1;
        }
    }

    private static int readOrThrow(Socket socket, InputStream in, long deadline) throws SocketException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new AssertionError("nothing from the server within " + TIMEOUT);
        }
        try {
            socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
            return in.read();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("nothing from the server within " + TIMEOUT, e);
        } catch (SocketException e) {
            throw e;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
