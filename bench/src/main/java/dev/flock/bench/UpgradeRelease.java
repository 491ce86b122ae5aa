package dev.flock.bench;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;

import java.lang.reflect.Field;
import java.util.Map;

/**
 * The floor's {@code --release-upgrade} experiment (bench/run-heap-histo.sh): after a WebSocket upgrade, Vert.x 5.1.6
 * keeps the socket's HTTP/1.1 connection alive for as long as the socket lives. The {@code VertxHandler} of the new
 * {@code WebSocketConnectionImpl} holds its {@code connectionFactory}, a lambda of {@code ServerWebSocketHandshaker}
 * that captured the handshaker (with the upgrade request, its response, headers and request metric) and the old
 * {@code Http1ServerConnection} (with its own outbound {@code MpscUnboundedArrayQueue} and its 1,025-slot chunk). The
 * factory is only called once, in {@code handlerAdded}; this clears it afterwards, so all of that can be collected.
 */
final class UpgradeRelease {
    private static final String VERTX_HANDLER = "io.vertx.core.net.impl.VertxHandler";
    private static volatile Field factory;

    private UpgradeRelease() {
    }

    /** Clears the connection factory of the socket's VertxHandler; true when it did. Call on the socket's loop. */
    static boolean release(ChannelHandlerContext anyCtx) {
        for (Map.Entry<String, ChannelHandler> e : anyCtx.pipeline()) {
            ChannelHandler h = e.getValue();
            if (h.getClass().getName().equals(VERTX_HANDLER)) {
                try {
                    field(h.getClass()).set(h, null);
                    return true;
                } catch (ReflectiveOperationException | RuntimeException ex) {
                    throw new IllegalStateException("cannot clear " + VERTX_HANDLER + ".connectionFactory", ex);
                }
            }
        }
        return false;
    }

    private static volatile Field[] queuePath;

    /**
     * The {@code --shrink-queue} experiment: swaps the 1,024-slot first chunk of the WebSocket connection's outbound
     * message queue (Netty's {@code PlatformDependent.newMpscQueue()}, ~4.1 KB per socket, allocated eagerly by every
     * {@code VertxConnection}) for a chunked MPSC queue that starts at 16 slots and grows on demand. Only while the
     * queue is empty, on the socket's loop, before anything else writes; true when it did.
     */
    static boolean shrinkOutboundQueue(ChannelHandlerContext anyCtx) {
        for (Map.Entry<String, ChannelHandler> e : anyCtx.pipeline()) {
            ChannelHandler h = e.getValue();
            if (!h.getClass().getName().equals(VERTX_HANDLER)) {
                continue;
            }
            try {
                Object conn = h.getClass().getMethod("getConnection").invoke(h);
                Field[] path = queuePath();
                Object outbound = path[0].get(conn);
                Object mpsc = path[1].get(outbound);
                java.util.Queue<?> old = (java.util.Queue<?>) path[2].get(mpsc);
                if (!old.isEmpty()) {
                    return false;
                }
                path[2].set(mpsc, io.netty.util.internal.PlatformDependent.newMpscQueue(16, 1 << 30));
                return true;
            } catch (ReflectiveOperationException | RuntimeException ex) {
                throw new IllegalStateException("cannot shrink the outbound queue of " + h, ex);
            }
        }
        return false;
    }

    /** VertxConnection.outboundMessageQueue, OutboundMessageQueue.mqp, MessagePassingQueue.queue. */
    private static Field[] queuePath() throws ReflectiveOperationException {
        Field[] p = queuePath;
        if (p == null) {
            p = new Field[] {
                Class.forName("io.vertx.core.net.impl.VertxConnection").getDeclaredField("outboundMessageQueue"),
                Class.forName("io.vertx.core.internal.concurrent.OutboundMessageQueue").getDeclaredField("mqp"),
                Class.forName("io.vertx.core.streams.impl.MessagePassingQueue").getDeclaredField("queue")};
            for (Field f : p) {
                f.setAccessible(true);
            }
            queuePath = p;
        }
        return p;
    }

    private static Field field(Class<?> handlerClass) throws NoSuchFieldException {
        Field f = factory;
        if (f == null) {
            f = handlerClass.getDeclaredField("connectionFactory");
            f.setAccessible(true);
            factory = f;
        }
        return f;
    }
}
