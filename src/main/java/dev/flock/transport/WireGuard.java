package dev.flock.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Reads the frame headers of a client's byte stream in front of Netty's WebSocket decoder, so that nothing is
 * buffered that Flock would refuse anyway: a frame or an uncompressed message whose declared payload goes over
 * {@code FLOCK_MAX_FRAME_BYTES} is refused on its header, before its payload arrives (the decoder would otherwise
 * hold it, and Vert.x would aggregate fragments, up to 4x the limit). It also knows whether a message is half
 * received and since when, so a socket that stops in the middle of one ({@code FLOCK_FRAME_TIMEOUT_MS}) is found by
 * the hub's scan instead of holding its buffers forever.
 *
 * <p>It only looks: bytes pass on unchanged, and the decoder still checks everything else RFC 6455 asks
 * ({@link FrameChecks} turns its findings into close codes). Once it refused, it drops all further input.
 * Runs on the channel's loop.
 */
final class WireGuard extends ChannelInboundHandlerAdapter {

    static final String NAME = "flock-wire-guard";
    private static final int RSV1 = 0x40;
    private static final int FIN = 0x80;

    private final int maxMessageBytes;
    private final LongSupplier monotonicMillis;
    private final Consumer<Violation> onViolation;

    // the frame header being read: up to 2 + 8 (length) + 4 (mask) bytes
    private final byte[] header = new byte[14];
    private int headerHave;
    private int headerNeed = 2;
    private long payloadLeft;
    /** A data message whose final frame has not arrived (fragmented). */
    private boolean inMessage;
    private boolean messageCompressed;
    private long messageBytes;
    /** When the message (or lone frame) now half received began; -1 when none is. */
    private long partialSince = -1;
    private boolean refused;

    WireGuard(int maxMessageBytes, LongSupplier monotonicMillis, Consumer<Violation> onViolation) {
        this.maxMessageBytes = maxMessageBytes;
        this.monotonicMillis = monotonicMillis;
        this.onViolation = onViolation;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof ByteBuf buf) {
            Violation v = scan(buf);
            if (v != null) {
                refused = true;
                buf.release();
                onViolation.accept(v);
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }

    /** Walks the frame boundaries in {@code buf} without moving its indexes; a violation, or null. */
    private Violation scan(ByteBuf buf) {
        int i = buf.readerIndex();
        int end = buf.writerIndex();
        while (i < end) {
            if (payloadLeft > 0) {
                int skip = (int) Math.min(payloadLeft, end - i);
                i += skip;
                payloadLeft -= skip;
                if (payloadLeft == 0) {
                    frameDone();
                }
                continue;
            }
            if (headerHave == 0 && !inMessage) {
                partialSince = -1; // a new frame starts below; its clock starts at this read
            }
            header[headerHave++] = buf.getByte(i++);
            if (headerHave == 2) {
                int len7 = header[1] & 0x7f;
                headerNeed = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((header[1] & 0x80) != 0 ? 4 : 0);
            }
            if (headerHave == headerNeed) {
                Violation v = headerDone();
                if (v != null) {
                    return v;
                }
            }
        }
        if (partial() && partialSince < 0) {
            partialSince = monotonicMillis.getAsLong();
        } else if (!partial()) {
            partialSince = -1;
        }
        return null;
    }

    private Violation headerDone() {
        int opcode = header[0] & 0x0f;
        int len7 = header[1] & 0x7f;
        long length;
        if (len7 == 126) {
            length = ((header[2] & 0xff) << 8) | (header[3] & 0xff);
        } else if (len7 == 127) {
            length = 0;
            for (int k = 2; k < 10; k++) {
                length = (length << 8) | (header[k] & 0xff);
            }
        } else {
            length = len7;
        }
        if (length < 0) {
            return Violation.protocol("frame length with its most significant bit set"); // RFC 6455 §5.2
        }
        boolean data = opcode < 8;
        if (data) {
            if (opcode != 0) { // text or binary: a new message (the decoder refuses one inside another)
                messageBytes = 0;
                messageCompressed = (header[0] & RSV1) != 0;
            }
            messageBytes = length > Long.MAX_VALUE - messageBytes ? Long.MAX_VALUE : messageBytes + length;
            // a compressed message's inflated size is checked after inflation, by FrameChecks
            if (!messageCompressed && messageBytes > maxMessageBytes) {
                return Violation.tooBig(maxMessageBytes);
            }
        }
        payloadLeft = length;
        headerHave = 0;
        headerNeed = 2;
        if (payloadLeft == 0) {
            frameDone();
        }
        return null;
    }

    /** The last header read was that of the frame now complete. */
    private void frameDone() {
        int opcode = header[0] & 0x0f;
        if (opcode < 8) {
            inMessage = (header[0] & FIN) == 0;
        }
    }

    private boolean partial() {
        return headerHave > 0 || payloadLeft > 0 || inMessage;
    }

    /** True when a message has been half received for {@code timeoutMs} or more at {@code nowMs}. */
    boolean stalled(long nowMs, long timeoutMs) {
        return !refused && partialSince >= 0 && nowMs - partialSince >= timeoutMs;
    }
}
