package dev.flock.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Frames a payload as one unmasked WebSocket text frame (or a close frame). Server frames are never masked, so the framed
 * bytes are identical for every recipient: frame once, write retained duplicates everywhere.
 */
final class TextFrames {

    private static final int FIN_TEXT = 0x81;
    private static final int FIN_CLOSE = 0x88;
    /** A control frame's payload is at most 125 bytes: 2 for the code, the rest for the reason. */
    private static final int MAX_CLOSE_REASON = 123;

    private TextFrames() {
    }

    /**
     * A pooled direct buffer (no copy at the socket write) holding header and payload; the caller owns it. From Netty's
     * default allocator, the pool Vert.x's channels use: a second pool beside it cost a fixed ~8 MB of direct memory.
     */
    static ByteBuf frame(byte[] payload) {
        int len = payload.length;
        int header = len < 126 ? 2 : len < 65536 ? 4 : 10;
        ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(header + len);
        buf.writeByte(FIN_TEXT);
        if (len < 126) {
            buf.writeByte(len);
        } else if (len < 65536) {
            buf.writeByte(126);
            buf.writeShort(len);
        } else {
            buf.writeByte(127);
            buf.writeLong(len);
        }
        buf.writeBytes(payload);
        return buf;
    }

    /** A close frame with {@code code} and {@code reason} (cut to what fits, on a character boundary); the caller owns it. */
    static ByteBuf close(short code, String reason) {
        byte[] text = closeReason(reason).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(4 + text.length);
        buf.writeByte(FIN_CLOSE);
        buf.writeByte(2 + text.length);
        buf.writeShort(code);
        buf.writeBytes(text);
        return buf;
    }

    /** {@code reason} cut to the 123 bytes a close frame holds, on a character boundary. */
    static String closeReason(String reason) {
        byte[] text = reason.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (text.length <= MAX_CLOSE_REASON) {
            return reason;
        }
        int len = MAX_CLOSE_REASON;
        while (len > 0 && (text[len] & 0xc0) == 0x80) {
            len--; // not inside a multi-byte character
        }
        return new String(text, 0, len, java.nio.charset.StandardCharsets.UTF_8);
    }
}
