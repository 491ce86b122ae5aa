package dev.flock.bench;

import io.vertx.core.http.WebSocketClient;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.TcpClientConfig;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Binds a {@link WebSocketClient}'s sockets to a local (source) address. In Vert.x 5.1.6
 * {@code WebSocketClientOptions.setLocalAddress} has no effect: {@code VertxImpl.createWebSocketClientImpl} builds its
 * {@code TcpClientConfig} with the {@code ClientOptionsBase} constructor, which does not copy the local address (only
 * the {@code NetClientOptions} one does), so every socket leaves from 127.0.0.1. This finds the client's
 * {@code TcpClientConfig} (client → WebSocketClientImpl → TcpHttpClientTransport → NetClientImpl.config, found by type)
 * and sets the address there, which {@code NetClientImpl} reads on every connect. Fails loudly when it cannot.
 */
final class SourceAddress {
    private static final int MAX_DEPTH = 5;

    private SourceAddress() {
    }

    static void bind(WebSocketClient client, String host) {
        List<TcpClientConfig> found = new ArrayList<>();
        find(client, 0, found, new IdentityHashMap<>());
        if (found.size() != 1) {
            throw new IllegalStateException(found.size() + " TcpClientConfigs inside " + client.getClass().getName()
                + " (expected one): cannot bind client sockets to " + host + " (Vert.x internals changed?)");
        }
        found.get(0).setLocalAddress(SocketAddress.inetSocketAddress(0, host));
    }

    private static void find(Object o, int depth, List<TcpClientConfig> found, Map<Object, Boolean> seen) {
        if (o == null || depth > MAX_DEPTH || seen.put(o, Boolean.TRUE) != null) {
            return;
        }
        if (o instanceof TcpClientConfig c) {
            found.add(c);
            return;
        }
        // only the client's own objects: never into Vert.x itself or a context, which lead to other clients
        if (!o.getClass().getName().startsWith("io.vertx.") || o instanceof io.vertx.core.Vertx
            || o instanceof io.vertx.core.Context) {
            return;
        }
        for (Class<?> k = o.getClass(); k != null && k != Object.class; k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) {
                    continue;
                }
                Object v;
                try {
                    f.setAccessible(true);
                    v = f.get(o);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    continue;
                }
                if (v != null && (v instanceof TcpClientConfig || v.getClass().getName().startsWith("io.vertx."))) {
                    find(v, depth + 1, found, seen);
                }
            }
        }
    }
}
