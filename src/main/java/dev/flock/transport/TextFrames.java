package dev.flock.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * Frames a payload as one unmasked WebSocket text frame. Server frames are never masked, so the framed
 * bytes are identical for every recipient: frame once, write retained duplicates everywhere.
 */
final class TextFrames {

    private static final int FIN_TEXT = 0x81;

    private TextFrames() {
    }

    /** A pooled direct buffer (no copy at the socket write) holding header and payload; the caller owns it. */
    static ByteBuf frame(byte[] payload) {
        int len = payload.length;
        int header = len < 126 ? 2 : len < 65536 ? 4 : 10;
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(header + len);
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
}
