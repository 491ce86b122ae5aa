package dev.flock.transport;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Slowloris defence for one HTTP connection, until it becomes a WebSocket: a request (headers and body, or an upgrade)
 * must be complete within {@code FLOCK_HTTP_REQUEST_TIMEOUT_MS} of the connection's start or of the end of the
 * previous response; a connection that sends nothing, or one byte at a time, is closed, and so is an idle kept-alive
 * one. Idle timeouts cannot do this: every byte resets them.
 *
 * <p>It only keeps times; the loop's {@link ConnectionHub} looks at the deadline once a second, on the server's
 * clock, so tests move time instead of waiting. Runs on the channel's loop.
 */
final class RequestDeadline extends ChannelDuplexHandler {

    static final String NAME = "flock-request-deadline";
    private static final byte[] TIMED_OUT = "request not complete in time\n".getBytes(StandardCharsets.US_ASCII);

    private final LongSupplier monotonicMillis;
    private final Consumer<RequestDeadline> onRemoved;
    private ChannelHandlerContext ctx;
    /** Since when a request has been awaited (or its headers or body); -1 while one is being answered. */
    private long awaitingSince;
    /** Requests whose response has not ended. */
    private int owed;
    /** A request whose headers arrived and whose body has not ended. */
    private boolean requestOpen;
    /** A response has been written in part and not ended. */
    private boolean responseStarted;
    private boolean answeredOnce;

    RequestDeadline(LongSupplier monotonicMillis, Consumer<RequestDeadline> onRemoved) {
        this.monotonicMillis = monotonicMillis;
        this.onRemoved = onRemoved;
        this.awaitingSince = monotonicMillis.getAsLong();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /**
     * Upgraded to a WebSocket (the connection removes us), or closed (a closed channel's pipeline removes every
     * handler once it is deregistered): the hub stops watching.
     */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        onRemoved.accept(this);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            owed++;
            requestOpen = true;
        }
        if (msg instanceof LastHttpContent) { // a full request is also its own last content
            requestOpen = false;
            if (owed > 0) {
                awaitingSince = -1; // complete: now it is ours to answer, however long that takes
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse) {
            responseStarted = true;
        }
        if (msg instanceof LastHttpContent) {
            responseStarted = false;
        }
        if (msg instanceof LastHttpContent && owed > 0) {
            answeredOnce = true;
            if (--owed == 0) {
                // the next request (or the rest of this one, when it was answered early) has its own deadline
                awaitingSince = monotonicMillis.getAsLong();
            }
        }
        ctx.write(msg, promise);
    }

    /**
     * Closes the connection when it has waited {@code timeoutMs} for a request: with a 408 first when a request is
     * known and unanswered (its body stalls) or the connection never sent one; silently when it is kept alive and idle
     * (its partial next request cannot be told from silence here: the decoder holds incomplete headers).
     */
    void check(long nowMs, long timeoutMs) {
        if (awaitingSince < 0 || nowMs - awaitingSince < timeoutMs || ctx == null) {
            return;
        }
        awaitingSince = -1;
        boolean unanswered = owed > 0 && !responseStarted;
        if (!unanswered && (answeredOnce || responseStarted)) {
            // an idle kept-alive connection (a 408 could cross a request sent at this moment and be read as its
            // answer), or a body still coming for a request already answered: nothing to say
            ctx.channel().close();
            return;
        }
        FullHttpResponse timeout = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.REQUEST_TIMEOUT,
                Unpooled.wrappedBuffer(TIMED_OUT));
        timeout.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                .set(HttpHeaderNames.CONTENT_TYPE, "text/plain")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, TIMED_OUT.length);
        ctx.writeAndFlush(timeout).addListener(ChannelFutureListener.CLOSE);
    }
}
