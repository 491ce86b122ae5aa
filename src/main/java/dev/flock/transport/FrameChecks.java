package dev.flock.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.compression.DecompressionException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;

/**
 * Sits between Netty's decoders (frame decoder, inflater, UTF-8 validator) and Vert.x, and does what Vert.x does not:
 * <ul>
 *   <li>turns the decoders' findings into the close code RFC 6455 names (1002 protocol error, 1007 invalid UTF-8,
 *       1009 too big), where Vert.x would close with 1000 or reset;</li>
 *   <li>counts pings and pongs against the connection's rate limit (Vert.x answers pings itself, below any handler
 *       of ours), and answers no ping while the socket is not writable: Vert.x would queue the pong in a queue of
 *       its own that no slow-consumer rule sees;</li>
 *   <li>refuses an inflated (permessage-deflate) message over the limit; uncompressed ones {@link WireGuard} already
 *       refused on their headers.</li>
 * </ul>
 * Once it refused, it drops all further frames. Runs on the channel's loop.
 */
final class FrameChecks extends ChannelInboundHandlerAdapter {

    static final String NAME = "flock-frame-checks";

    /** What the connection decides; it owns the rate limiter and the close. */
    interface Policy {
        /** A ping or pong arrived: false when it is over the rate limit (the connection has been failed). */
        boolean controlFrame();

        void fail(Violation violation);
    }

    private final int maxMessageBytes;
    private final Policy policy;
    private long messageBytes;
    private boolean refused;

    FrameChecks(int maxMessageBytes, Policy policy) {
        this.maxMessageBytes = maxMessageBytes;
        this.policy = policy;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof PingWebSocketFrame || msg instanceof PongWebSocketFrame) {
            if (!policy.controlFrame()) {
                refuse(msg, null);
                return;
            }
            if (msg instanceof PingWebSocketFrame && !ctx.channel().isWritable()) {
                ReferenceCountUtil.release(msg); // RFC 6455 §5.5.3 lets us answer only a later ping
                return;
            }
        } else if (msg instanceof TextWebSocketFrame || msg instanceof BinaryWebSocketFrame
                || msg instanceof ContinuationWebSocketFrame) {
            WebSocketFrame frame = (WebSocketFrame) msg;
            messageBytes = (msg instanceof ContinuationWebSocketFrame ? messageBytes : 0) + frame.content().readableBytes();
            if (messageBytes > maxMessageBytes) {
                refuse(msg, Violation.tooBig(maxMessageBytes));
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }

    private void refuse(Object msg, Violation violation) {
        refused = true;
        ReferenceCountUtil.release(msg);
        if (violation != null) {
            policy.fail(violation);
        }
    }

    /** The decoders before us throw what they find; Vert.x would answer every one of them with close 1000. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Violation v = violationOf(cause);
        if (v == null) {
            ctx.fireExceptionCaught(cause); // I/O errors and the like: Vert.x's own handling applies
            return;
        }
        if (!refused) {
            refused = true;
            policy.fail(v);
        }
    }

    /** The bounded inflater's refusal (other inflation errors are corrupt data: a protocol error). */
    private static boolean inflatedTooFar(Throwable cause) {
        return cause instanceof DecompressionException && cause.getMessage() != null
                && cause.getMessage().contains("maximum size");
    }

    private Violation violationOf(Throwable cause) {
        if (cause instanceof CorruptedWebSocketFrameException c) {
            WebSocketCloseStatus status = c.closeStatus();
            if (status.code() == WebSocketCloseStatus.MESSAGE_TOO_BIG.code()) {
                return Violation.tooBig(maxMessageBytes);
            }
            if (status.code() == WebSocketCloseStatus.INVALID_PAYLOAD_DATA.code()) {
                return Violation.invalidPayload(c.getMessage() == null ? "invalid UTF-8" : c.getMessage());
            }
            return Violation.protocol(c.getMessage() == null ? "protocol error" : c.getMessage());
        }
        if (cause instanceof TooLongFrameException || inflatedTooFar(cause)) {
            return Violation.tooBig(maxMessageBytes);
        }
        if (cause instanceof DecoderException) {
            return Violation.protocol("undecodable frame");
        }
        return null;
    }
}
