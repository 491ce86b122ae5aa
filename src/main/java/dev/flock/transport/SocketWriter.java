package dev.flock.transport;

import dev.flock.internals.VertxInternals;
import dev.flock.room.DeliveryKind;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.VoidChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.vertx.core.http.ServerWebSocket;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;

/**
 * The outbound half of one socket: writes pre-framed frames below Vert.x, straight to the Netty channel, and decides
 * when to flush. Cursor frames wait for the hub's next flush tick (many frames, one syscall), except a lone frame to a
 * quiet socket; everything else leaves at once. While the socket is not writable, cursor frames are coalesced to the
 * latest per sender (a slow reader gets fewer, never stale, positions). Runs on the socket's loop only.
 */
final class SocketWriter {

    private final ServerWebSocket ws;
    private final ConnectionHub hub;
    private final ChannelHandlerContext ctx;
    private final Channel channel;
    private final ChannelPromise quietPromise;
    /** Queued for the hub's next flush tick. */
    boolean dirty;
    private boolean stopped;
    /** When this socket was last flushed, and how many frames that flush and the writes since carry. */
    private long lastFlushNanos;
    private int framesInLastFlush;
    private int framesSinceFlush;
    /** Slow consumer: the latest undelivered cursor frame per sender, while the socket is not writable. */
    private LinkedHashMap<String, ByteBuf> pendingCursors;
    private long slowSinceMs;

    SocketWriter(ServerWebSocket ws, ConnectionHub hub) {
        this.ws = ws;
        this.hub = hub;
        this.ctx = VertxInternals.channelContext(ws);
        this.channel = ctx == null ? null : ctx.channel();
        this.quietPromise = channel == null ? null : new VoidChannelPromise(channel, false);
        this.lastFlushNanos = System.nanoTime() - hub.flushIntervalNanos;
    }

    /** Writes a pre-framed WebSocket frame; retains what it keeps and never releases {@code frame}. */
    void deliver(ByteBuf frame, DeliveryKind kind, String aboutUserId) {
        if (stopped) {
            return;
        }
        if (kind == DeliveryKind.CURSOR && (pendingCursors != null || (channel != null && !channel.isWritable()))) {
            coalesce(frame, aboutUserId);
            return;
        }
        if (kind == DeliveryKind.CURSOR_END && pendingCursors != null) {
            ByteBuf ghost = pendingCursors.remove(aboutUserId);
            if (ghost != null) {
                ghost.release();
            }
        }
        write(frame.retainedDuplicate());
        if (kind != DeliveryKind.CURSOR || hub.flushIntervalNanos == 0 || !dirty && sparse()) {
            flushNow();
        } else {
            hub.flushLater(this);
        }
    }

    private void coalesce(ByteBuf frame, String senderUserId) {
        if (pendingCursors == null) {
            pendingCursors = new LinkedHashMap<>();
        }
        ByteBuf previous = pendingCursors.put(senderUserId, frame.retainedDuplicate());
        if (previous != null) {
            previous.release();
            hub.metrics.coalesced();
        }
        hub.flushLater(this);
    }

    /**
     * Batching pays only when frames to this socket follow each other within the interval. A socket whose last
     * flush carried one frame, an interval or more ago, gets the next cursor frame at once; one that receives
     * bursts or a steady stream (its flushes carry several frames) stays batched, one flush per tick.
     */
    private boolean sparse() {
        return framesInLastFlush <= 1 && System.nanoTime() - lastFlushNanos >= hub.flushIntervalNanos;
    }

    /** Writes held cursors once the socket drains, then flushes. */
    void flushNow() {
        if (stopped || channel == null) {
            return;
        }
        if (pendingCursors != null) {
            if (channel.isWritable()) {
                LinkedHashMap<String, ByteBuf> held = pendingCursors;
                pendingCursors = null;
                for (ByteBuf b : held.values()) {
                    write(b);
                }
            } else {
                hub.flushLater(this); // look again next tick
            }
        }
        ctx.flush();
        lastFlushNanos = System.nanoTime();
        framesInLastFlush = framesSinceFlush;
        framesSinceFlush = 0;
    }

    private void write(ByteBuf frame) {
        hub.delivered++;
        framesSinceFlush++;
        if (ctx != null) {
            ctx.write(frame, quietPromise);
            return;
        }
        // Only when Vert.x does not expose its channel: strip our header, let Vert.x frame it.
        try {
            int len = frame.readableBytes();
            int header = len - 2 < 126 ? 2 : len - 4 < 65536 ? 4 : 10;
            ws.writeFinalTextFrame(frame.toString(frame.readerIndex() + header, len - header, StandardCharsets.UTF_8));
        } finally {
            frame.release();
        }
    }

    /** A frame of the connection's own (acks, errors), flushed at once. */
    void writeNow(byte[] payload) {
        write(TextFrames.frame(payload));
        if (ctx != null) {
            ctx.flush();
        }
    }

    /**
     * Bytes queued to the socket above the slow-consumer limit for the grace period: true when the connection must
     * be closed as a slow consumer. {@code nowMs} is the hub clock's monotonic time.
     */
    boolean slowFor(long nowMs, long maxBytes, long graceMs) {
        if (channel == null) {
            return false;
        }
        long queued = VertxInternals.pendingWriteBytes(channel);
        if (queued <= maxBytes) {
            slowSinceMs = 0;
            return false;
        }
        if (slowSinceMs == 0) {
            slowSinceMs = nowMs;
            return false;
        }
        return nowMs - slowSinceMs >= graceMs;
    }

    long queuedBytes() {
        return channel == null ? 0 : VertxInternals.pendingWriteBytes(channel);
    }

    /**
     * Closes the transport without waiting for what is queued (a peer that reads nothing would never take the close
     * frame behind it); runs {@code onGone} on the connection's loop once the channel is closed.
     */
    void abort(Runnable onGone) {
        if (channel == null) {
            ws.close();
            return;
        }
        channel.closeFuture().addListener(done -> hub.context.runOnContext(v -> onGone.run()));
        VertxInternals.closeTransport(channel);
    }

    /**
     * Fails the connection (RFC 6455 §7.1.7): what is queued, a close frame, then our half of the TCP close, without
     * waiting for the peer's close frame (its input is no longer read). The peer's FIN closes the rest; closing both
     * halves at once would answer its unread bytes with a reset, which can destroy the close frame before it is read.
     * A peer that never reads is closed by the connection's scan ({@link #abort}).
     */
    void fail(short code, String reason) {
        stop();
        if (ctx == null) {
            ws.close(code, reason);
            return;
        }
        ctx.writeAndFlush(TextFrames.close(code, reason)).addListener(written -> {
            if (channel instanceof DuplexChannel duplex && written.isSuccess()) {
                duplex.shutdownOutput();
            } else {
                channel.close();
            }
        });
    }

    /** No more writes: held cursor frames are released and what was written is flushed. */
    void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        if (pendingCursors != null) {
            pendingCursors.values().forEach(ByteBuf::release);
            pendingCursors = null;
        }
        if (ctx != null) {
            ctx.flush();
        }
    }
}
