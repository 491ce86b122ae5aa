package dev.flock.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The wire guard on its own, fed bytes in every split a TCP stream can deliver: it must find frame boundaries
 * whatever the read sizes, refuse on the header (before the payload exists), and know when a message is half read.
 */
class WireGuardTest {

    private static final int MAX = 1000;
    private long now = 5_000;
    private final List<Violation> violations = new ArrayList<>();

    private EmbeddedChannel channel() {
        return new EmbeddedChannel(new WireGuard(MAX, () -> now, violations::add));
    }

    /** A masked client frame; {@code declared} is the length its header claims. */
    private static byte[] frame(int b0, int payloadLength, long declared) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(b0);
        if (declared >= 0 && declared < 126) {
            out.write(0x80 | (int) declared);
        } else if (declared >= 0 && declared < 65536) {
            out.write(0x80 | 126);
            out.write((int) (declared >> 8));
            out.write((int) declared);
        } else {
            out.write(0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                out.write((int) (declared >>> shift));
            }
        }
        out.writeBytes(new byte[]{1, 2, 3, 4});
        out.writeBytes(new byte[payloadLength]);
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Feeds {@code bytes} in reads of {@code chunk} bytes; returns the bytes that came out the other side. */
    private static int feed(EmbeddedChannel ch, byte[] bytes, int chunk) {
        for (int i = 0; i < bytes.length; i += chunk) {
            ch.writeInbound(Unpooled.wrappedBuffer(bytes, i, Math.min(chunk, bytes.length - i)));
        }
        int passed = 0;
        for (ByteBuf b; (b = ch.readInbound()) != null; ) {
            passed += b.readableBytes();
            b.release();
        }
        return passed;
    }

    @Test
    void framesUpToTheLimit_passUnchanged_inEverySplit() {
        byte[] stream = concat(frame(0x81, 10, 10), frame(0x81, 200, 200), frame(0x82, MAX, MAX),
                frame(0x01, 400, 400), frame(0x89, 5, 5), frame(0x80, 600, 600)); // fragmented 400 + 600 = MAX
        for (int chunk : new int[]{1, 2, 3, 7, 13, 64, 4096}) {
            EmbeddedChannel ch = channel();
            assertThat(feed(ch, stream, chunk)).as("chunk " + chunk).isEqualTo(stream.length);
            assertThat(violations).as("chunk " + chunk).isEmpty();
            assertThat(((WireGuard) ch.pipeline().first()).stalled(now + 60_000, 1)).isFalse();
        }
    }

    @Test
    void oversizeFrame_isRefusedOnItsHeader_withoutItsPayload() {
        for (long declared : new long[]{MAX + 1, 70_000, Long.MAX_VALUE}) {
            violations.clear();
            EmbeddedChannel ch = channel();
            byte[] header = frame(0x81, 0, declared);
            assertThat(feed(ch, header, 1)).as("declared " + declared).isLessThan(header.length);
            assertThat(violations).singleElement().satisfies(v -> {
                assertThat(v.closeCode()).isEqualTo(CloseCodes.TOO_BIG);
                assertThat(v.error()).isNotNull();
            });
            assertThat(feed(ch, new byte[100], 100)).as("nothing passes after a refusal").isZero();
        }
    }

    @Test
    void lengthWithItsTopBitSet_isAProtocolError() {
        EmbeddedChannel ch = channel();
        feed(ch, frame(0x81, 0, -1), 1);
        assertThat(violations).singleElement().extracting(Violation::closeCode).isEqualTo(CloseCodes.PROTOCOL_ERROR);
    }

    @Test
    void fragmentedMessageOverTheLimit_isRefusedOnTheFragmentThatCrossesIt() {
        EmbeddedChannel ch = channel();
        feed(ch, frame(0x01, 600, 600), 50);
        assertThat(violations).isEmpty();
        feed(ch, frame(0x80, 0, 401), 3);
        assertThat(violations).singleElement().extracting(Violation::closeCode).isEqualTo(CloseCodes.TOO_BIG);
    }

    @Test
    void compressedMessage_isLeftToTheInflatedCheck() {
        EmbeddedChannel ch = channel();
        byte[] rsv1 = frame(0xC1, MAX + 10, MAX + 10);
        assertThat(feed(ch, rsv1, 100)).isEqualTo(rsv1.length);
        assertThat(violations).isEmpty();
    }

    @Test
    void halfReadMessage_stallsFromItsFirstByte_andNotBefore() {
        EmbeddedChannel ch = channel();
        WireGuard guard = (WireGuard) ch.pipeline().first();
        byte[] whole = frame(0x81, 50, 50);
        feed(ch, whole, whole.length);
        now += 60_000;
        assertThat(guard.stalled(now, 10_000)).as("complete messages never stall").isFalse();

        long started = now;
        feed(ch, java.util.Arrays.copyOf(whole, whole.length - 1), 10); // all but the last byte
        now = started + 9_999;
        assertThat(guard.stalled(now, 10_000)).isFalse();
        now = started + 10_000;
        assertThat(guard.stalled(now, 10_000)).isTrue();

        feed(ch, new byte[]{0}, 1); // the last byte: complete after all
        assertThat(guard.stalled(now + 60_000, 10_000)).isFalse();
    }

    @Test
    void fragmentedMessageWithoutItsFinalFragment_stalls_evenWithPingsBetween() {
        EmbeddedChannel ch = channel();
        WireGuard guard = (WireGuard) ch.pipeline().first();
        long started = now;
        feed(ch, frame(0x01, 20, 20), 100);
        now += 5_000;
        feed(ch, frame(0x89, 0, 0), 100); // a whole ping does not complete the message
        now = started + 10_000;
        assertThat(guard.stalled(now, 10_000)).isTrue();
    }

    @Test
    void aCompleteMessageThenAPartialOne_stallsFromThePartialOnesStart() {
        EmbeddedChannel ch = channel();
        WireGuard guard = (WireGuard) ch.pipeline().first();
        byte[] whole = frame(0x81, 20, 20);
        feed(ch, whole, whole.length);
        now += 30_000;
        long started = now;
        feed(ch, concat(whole, java.util.Arrays.copyOf(whole, 3)), 1000);
        assertThat(guard.stalled(started + 9_999, 10_000)).isFalse();
        assertThat(guard.stalled(started + 10_000, 10_000)).isTrue();
    }
}
