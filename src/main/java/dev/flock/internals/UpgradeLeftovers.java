package dev.flock.internals;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.internal.PlatformDependent;
import io.vertx.core.net.impl.VertxHandler;

import java.lang.reflect.Field;
import java.util.Queue;

/**
 * What Vert.x 5.1.6 keeps alive per WebSocket without using it, about 10 KB of a 128 MB heap's ~15 KB per socket
 * (docs/BENCHMARKS.md, "capacity"), freed once the socket is accepted:
 * <ul>
 *   <li>The socket's {@code VertxHandler} keeps its {@code connectionFactory}: a lambda of the handshake that captured
 *       the upgrade request, its response and headers, and the HTTP/1.1 connection the socket came from, with that
 *       connection's own outbound queue. The factory runs once, when the handler is added; cleared, all of that is
 *       garbage (~6.5 KB).</li>
 *   <li>Every Vert.x connection starts its outbound message queue with a 1,024-slot chunk (~4.1 KB). Flock writes
 *       below it, straight to the channel, so the queue carries only Vert.x's own few writes (pongs, close frames):
 *       a queue that starts at 16 slots and grows on demand does (~3.9 KB saved).</li>
 * </ul>
 * Private fields of Vert.x, so {@link VertxInternals#check} looks them up at start-up.
 */
final class UpgradeLeftovers {

    private static final int SMALL_QUEUE_CHUNK = 16;
    private static final int QUEUE_CAPACITY = 1 << 30;
    private static volatile Field[] fields;

    private UpgradeLeftovers() {
    }

    /** VertxHandler.connectionFactory, VertxConnection.outboundMessageQueue, OutboundMessageQueue.mqp, MessagePassingQueue.queue. */
    static Field[] fields() throws ReflectiveOperationException {
        Field[] f = fields;
        if (f == null) {
            f = new Field[]{
                    VertxHandler.class.getDeclaredField("connectionFactory"),
                    Class.forName("io.vertx.core.net.impl.VertxConnection").getDeclaredField("outboundMessageQueue"),
                    Class.forName("io.vertx.core.internal.concurrent.OutboundMessageQueue").getDeclaredField("mqp"),
                    Class.forName("io.vertx.core.streams.impl.MessagePassingQueue").getDeclaredField("queue")};
            for (Field field : f) {
                field.setAccessible(true);
            }
            fields = f;
        }
        return f;
    }

    /** On the socket's loop, right after the upgrade, before anyone else has the socket to write to. */
    static void release(ChannelHandlerContext vertxHandlerContext) {
        ChannelHandler handler = vertxHandlerContext.handler();
        if (!(handler instanceof VertxHandler<?> vertx)) {
            return;
        }
        try {
            Field[] f = fields();
            f[0].set(vertx, null);
            Object outbound = f[1].get(vertx.getConnection());
            if (f[2].getDeclaringClass().isInstance(outbound)) { // not the strict-thread-mode queue, which has none
                Object mpsc = f[2].get(outbound);
                if (((Queue<?>) f[3].get(mpsc)).isEmpty()) {
                    f[3].set(mpsc, PlatformDependent.newMpscQueue(SMALL_QUEUE_CHUNK, QUEUE_CAPACITY));
                }
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Vert.x internals changed under Flock: " + e, e);
        }
    }
}
