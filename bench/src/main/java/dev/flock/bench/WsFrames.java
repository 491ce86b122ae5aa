package dev.flock.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** Builds unmasked server-to-client WebSocket text frames, so one framed buffer can go to every recipient. */
final class WsFrames {
    private WsFrames() {
    }

    /** A final text frame (FIN + opcode 1) holding {@code payload}, in one direct buffer from {@code alloc}. */
    static ByteBuf text(ByteBufAllocator alloc, byte[] payload, int length) {
        int header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
        ByteBuf frame = alloc.directBuffer(header + length);
        frame.writeByte(0x81);
        if (length < 126) {
            frame.writeByte(length);
        } else if (length < 65_536) {
            frame.writeByte(126);
            frame.writeShort(length);
        } else {
            frame.writeByte(127);
            frame.writeLong(length);
        }
        frame.writeBytes(payload, 0, length);
        return frame;
    }
}
