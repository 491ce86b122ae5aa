package dev.flock.internals;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.compression.ZlibCodecFactory;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtensionHandler;
import io.netty.handler.codec.http.websocketx.extensions.compression.DeflateFrameServerExtensionHandshaker;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateServerExtensionHandshaker;
import io.netty.channel.EventLoop;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.http.WebSocketInternal;
import io.vertx.core.net.impl.ConnectionBase;

import java.lang.reflect.Field;
import java.util.concurrent.TimeUnit;

/**
 * The one place that uses Vert.x and Netty internals: the socket's Netty channel (to write pre-framed bytes below
 * Vert.x and flush once per tick, and to put Flock's inbound checks into its pipeline), the channel of an HTTP
 * connection (request deadlines), event-loop contexts of our own, Netty's scheduler for sub-millisecond-cheap
 * timers, the outbound buffer size (slow consumers), vertx-web's WebSocket wrapper, an HTTP connection's close
 * future (the metrics' repair of requests abandoned on a closed connection) and the connection of a pending
 * WebSocket handshake (closed after a refused upgrade). None of this is public API,
 * so {@link #check} verifies at start-up that everything is there and fails with one clear line otherwise, instead
 * of a server that half works after a Vert.x upgrade.
 */
public final class VertxInternals {

    /** vertx-web hands out this wrapper around the real socket (read once per socket, by reflection). */
    static final String WEB_WRAPPER = "io.vertx.ext.web.impl.ServerWebSocketWrapper";
    private static final String WRAPPER_FIELD = "delegate";
    private static volatile Field wrapperDelegate;
    /** Vert.x's pending handshake, and its request (whose connection a refused upgrade must close). */
    static final String HANDSHAKER = "io.vertx.core.http.impl.websocket.ServerWebSocketHandshaker";
    private static final String HANDSHAKER_REQUEST = "request";
    private static volatile Field handshakerRequest;

    private VertxInternals() {
    }

    /** Throws {@link IllegalStateException} naming what is missing, when this Vert.x lacks an internal Flock uses. */
    public static void check(Vertx vertx) {
        String missing = null;
        if (!(vertx instanceof VertxInternal)) {
            missing = "io.vertx.core.internal.VertxInternal (got " + vertx.getClass().getName() + ")";
        } else {
            try {
                Class.forName("io.vertx.core.internal.http.WebSocketInternal");
                ConnectionBase.class.getMethod("channel");
                WebSocketFrameDecoder.class.getName();
                ChannelHandlerContext.class.getMethod("channel");
                Channel.Unsafe.class.getMethod("outboundBuffer");
                ConnectionBase.class.getMethod("closeFuture");
                handshakerRequestField();
                wrapperField();
                UpgradeLeftovers.fields();
            } catch (ReflectiveOperationException | LinkageError e) {
                missing = e.toString();
            }
        }
        if (missing != null) {
            throw new IllegalStateException("this Flock build needs Vert.x 5.1 internals that are missing at run time ("
                    + missing + "); run it with the Vert.x version it was built with (" + builtFor() + ")");
        }
    }

    private static String builtFor() {
        Package p = Vertx.class.getPackage();
        return p == null || p.getImplementationVersion() == null ? "5.1.6" : "5.1.6; found " + p.getImplementationVersion();
    }

    /** vertx-web's wrapper field; null when vertx-web is not on the class path (an embedder without it). */
    private static Field wrapperField() throws ReflectiveOperationException {
        Field f = wrapperDelegate;
        if (f != null) {
            return f;
        }
        Class<?> wrapper;
        try {
            wrapper = Class.forName(WEB_WRAPPER);
        } catch (ClassNotFoundException absent) {
            return null;
        }
        f = wrapper.getDeclaredField(WRAPPER_FIELD);
        f.setAccessible(true);
        wrapperDelegate = f;
        return f;
    }

    private static Field handshakerRequestField() throws ReflectiveOperationException {
        Field f = handshakerRequest;
        if (f == null) {
            f = Class.forName(HANDSHAKER).getDeclaredField(HANDSHAKER_REQUEST);
            f.setAccessible(true);
            handshakerRequest = f;
        }
        return f;
    }

    /**
     * The HTTP connection of a WebSocket upgrade not yet accepted, or null when {@code handshake} is not Vert.x's
     * own. The handshake API can only accept or answer; closing the connection after a refusal needs this.
     */
    public static HttpConnection connection(ServerWebSocketHandshake handshake) {
        try {
            Field f = handshakerRequestField();
            return f.getDeclaringClass().isInstance(handshake) && f.get(handshake) instanceof HttpServerRequest request
                    ? request.connection() : null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** A context on one of Vert.x's event loops that belongs to no deployment. */
    public static Context detachedEventLoopContext(Vertx vertx) {
        return ((VertxInternal) vertx).createEventLoopContext();
    }

    /** A context of our own on {@code loop}. */
    public static Context contextOn(Vertx vertx, EventLoop loop) {
        return ((VertxInternal) vertx).contextBuilder().withThreadingModel(ThreadingModel.EVENT_LOOP)
                .withEventLoop(loop).build();
    }

    public static EventLoop eventLoop(Context context) {
        return ((ContextInternal) context).nettyEventLoop();
    }

    /** The event loop of the calling thread's event-loop context, or null off one. */
    public static EventLoop currentEventLoop() {
        ContextInternal current = ContextInternal.current();
        return current != null && current.isEventLoopContext() ? current.nettyEventLoop() : null;
    }

    /** Runs {@code task} on {@code context}'s loop after {@code delayMs}, without a Vert.x timer id or its map. */
    public static void schedule(Context context, Runnable task, long delayMs) {
        eventLoop(context).schedule(task, delayMs, TimeUnit.MILLISECONDS);
    }

    /** The socket's Netty pipeline context, or null when {@code ws} hides it (then frames go through Vert.x). */
    public static ChannelHandlerContext channelContext(ServerWebSocket ws) {
        return ws instanceof WebSocketInternal wi ? wi.channelHandlerContext() : null;
    }

    /**
     * The socket inside vertx-web's wrapper (and wrappers of it), so Flock's batched writes reach the channel; the
     * socket as given when it is no wrapper we know.
     */
    public static ServerWebSocket unwrap(ServerWebSocket ws) {
        for (int depth = 0; depth < 4 && !(ws instanceof WebSocketInternal); depth++) {
            Object inner;
            try {
                Field f = wrapperField();
                if (f == null || !f.getDeclaringClass().isInstance(ws)) {
                    return ws;
                }
                inner = f.get(ws);
            } catch (ReflectiveOperationException | RuntimeException e) {
                return ws;
            }
            if (!(inner instanceof ServerWebSocket next)) {
                return ws;
            }
            ws = next;
        }
        return ws;
    }

    /**
     * Completes when {@code connection} has closed; null for a connection of a kind we do not know. Unlike
     * {@code closeHandler} (one slot, the application's) it takes any number of listeners.
     */
    public static Future<Void> closeFuture(HttpConnection connection) {
        return connection instanceof ConnectionBase base ? base.closeFuture() : null;
    }

    /** Vert.x's default WebSocket compression level, which Flock does not change. */
    private static final int COMPRESSION_LEVEL = 6;

    /**
     * With WebSocket compression on, replaces Vert.x's negotiator on an HTTP connection by the same one whose inflaters
     * stop at {@code maxInflatedBytes} per frame: Vert.x sets no bound, so one small deflated frame could inflate to
     * gigabytes (a deflate bomb) before any size check sees it. No-op when compression is off.
     */
    public static void boundInflation(Channel channel, int maxInflatedBytes) {
        // found by its class, not by the name Vert.x gives it: a renamed handler must not silently stay unbounded
        ChannelHandlerContext negotiator = channel.pipeline().context(WebSocketServerExtensionHandler.class);
        if (negotiator == null) {
            return;
        }
        channel.pipeline().replace(negotiator.name(), negotiator.name(), new WebSocketServerExtensionHandler(
                new DeflateFrameServerExtensionHandshaker(COMPRESSION_LEVEL, maxInflatedBytes),
                new PerMessageDeflateServerExtensionHandshaker(COMPRESSION_LEVEL,
                        ZlibCodecFactory.isSupportingWindowSizeAndMemLevel(),
                        PerMessageDeflateServerExtensionHandshaker.MAX_WINDOW_SIZE, false, false, maxInflatedBytes)));
    }

    /** Frees what Vert.x keeps of an accepted socket's upgrade and does not use (see {@link UpgradeLeftovers}). */
    public static void releaseUpgradeLeftovers(ServerWebSocket ws) {
        ChannelHandlerContext ctx = channelContext(ws);
        if (ctx != null) {
            UpgradeLeftovers.release(ctx);
        }
    }

    /** Bytes written to the channel and not yet taken by the kernel. */
    public static long pendingWriteBytes(Channel channel) {
        var out = channel.unsafe().outboundBuffer();
        return out == null ? 0 : out.totalPendingWriteBytes();
    }

    /** Closes the transport at once, without waiting for queued writes (a peer that reads nothing). */
    public static void closeTransport(Channel channel) {
        channel.unsafe().close(channel.unsafe().voidPromise());
    }

    /** The Netty channel of an HTTP connection Vert.x handed to a connection handler. */
    public static Channel channel(HttpConnection connection) {
        return ((ConnectionBase) connection).channel();
    }

    /**
     * Puts {@code handler} in front of the socket's WebSocket frame decoder, where it sees the raw bytes; false when
     * the pipeline has no such decoder (a socket we cannot see into).
     */
    public static boolean addBeforeFrameDecoder(ServerWebSocket ws, String name, ChannelHandler handler) {
        ChannelHandlerContext vertx = channelContext(ws);
        if (vertx == null) {
            return false;
        }
        ChannelHandlerContext decoder = vertx.pipeline().context(WebSocketFrameDecoder.class);
        if (decoder == null) {
            return false;
        }
        vertx.pipeline().addBefore(decoder.name(), name, handler);
        return true;
    }

    /** Puts {@code handler} right before Vert.x's own handler: it sees decoded (and inflated) frames first. */
    public static void addBeforeVertx(ServerWebSocket ws, String name, ChannelHandler handler) {
        ChannelHandlerContext vertx = channelContext(ws);
        vertx.pipeline().addBefore(vertx.name(), name, handler);
    }

    /** Puts {@code handler} right before Vert.x's handler of an HTTP connection: it sees decoded HTTP objects. */
    public static void addBeforeVertx(Channel channel, String name, ChannelHandler handler) {
        ChannelPipeline p = channel.pipeline();
        ChannelHandlerContext vertx = p.context("handler");
        if (vertx == null) {
            p.addLast(name, handler);
        } else {
            p.addBefore(vertx.name(), name, handler);
        }
    }

    /** Removes the handler called {@code name} from the socket's pipeline, if it is there. */
    public static void removeHandler(ServerWebSocket ws, String name) {
        ChannelHandlerContext vertx = channelContext(ws);
        if (vertx != null && vertx.pipeline().context(name) != null) {
            vertx.pipeline().remove(name);
        }
    }
}
