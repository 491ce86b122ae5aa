package dev.flock.transport;

import dev.flock.FlockServer;
import dev.flock.support.RawWebSocket;
import dev.flock.support.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.Deflater;

import static dev.flock.support.RawWebSocket.TEXT;
import static dev.flock.support.RawWebSocket.frame;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * With {@code FLOCK_WEBSOCKET_COMPRESSION} on, one small deflated frame must not inflate beyond the message limit:
 * Vert.x's inflater has no bound, so a 250 KB frame of a 256 MB message would be inflated whole before any size
 * check (on the 128 MB heap of the small box, a handful of them is an {@code OutOfMemoryError}). What the server
 * allocates meanwhile is read from the JVM's per-thread allocation counters (the server runs in this JVM).
 */
@ExtendWith(VertxExtension.class)
class DeflateBombTest {

    private static final int LIMIT = 1024 * 1024;
    private static final int INFLATED = 256 * 1024 * 1024;

    @Test
    void aDeflateBomb_isRefusedAsTooBig_withoutBeingInflated(Vertx vertx) {
        FlockServer server = TestServers.start(vertx, "FLOCK_WEBSOCKET_COMPRESSION", "true",
                "FLOCK_MAX_FRAME_BYTES", String.valueOf(LIMIT));
        byte[] bomb = deflated(INFLATED);
        assertThat(bomb.length).as("the compressed frame itself is within the limit").isLessThan(LIMIT);
        RawWebSocket.Handshake upgrade = RawWebSocket.handshake(null, server.port(), "/",
                Map.of("Sec-WebSocket-Extensions", "permessage-deflate"));
        assertThat(upgrade.response().header("sec-websocket-extensions")).as("negotiated").contains("permessage-deflate");
        RawWebSocket ws = upgrade.socket();

        long before = allocatedBytes();
        ws.write(frame(true, 0b100, TEXT, true, bomb.length, bomb)); // RSV1: a compressed message
        JsonObject error = ws.awaitError("INVALID_MESSAGE");
        assertThat(ws.awaitCloseCode()).isEqualTo(1009);
        long allocated = allocatedBytes() - before;

        assertThat(error.getString("message")).contains(String.valueOf(LIMIT));
        assertThat(allocated).as("bytes the JVM allocated while the bomb was refused").isLessThan(INFLATED / 4);
        RawWebSocket.assertServesOthers(server.port(), "after-the-bomb");
    }

    /** A permessage-deflate payload (raw deflate, the final empty block's 00 00 ff ff stripped) of {@code size} spaces. */
    private static byte[] deflated(int size) {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
        byte[] chunk = new byte[1 << 20];
        Arrays.fill(chunk, (byte) ' ');
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        for (int written = 0; written < size; written += chunk.length) {
            deflater.setInput(chunk);
            while (!deflater.needsInput()) {
                out.write(buf, 0, deflater.deflate(buf));
            }
        }
        int n;
        while ((n = deflater.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH)) > 0) {
            out.write(buf, 0, n);
        }
        deflater.end();
        byte[] all = out.toByteArray();
        return Arrays.copyOf(all, all.length - 4);
    }

    private static long allocatedBytes() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long a : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
            sum += Math.max(0, a);
        }
        return sum;
    }
}
