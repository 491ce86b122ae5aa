package dev.flock.room;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/** Passes room commands and replies by reference: they never leave the JVM, so nothing is serialized. */
public final class RoomCommandCodec implements MessageCodec<Object, Object> {

    public static final String NAME = "flock.local";

    @Override
    public void encodeToWire(Buffer buffer, Object o) {
        throw new UnsupportedOperationException("room commands are local to this JVM");
    }

    @Override
    public Object decodeFromWire(int pos, Buffer buffer) {
        throw new UnsupportedOperationException("room commands are local to this JVM");
    }

    @Override
    public Object transform(Object o) {
        return o;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public byte systemCodecID() {
        return -1;
    }
}
