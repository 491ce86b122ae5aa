package dev.flock.support;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;

import java.util.ArrayList;
import java.util.List;

/**
 * A loopback TCP proxy in front of a server, for network blips: {@link #cut} ends every proxied connection without a
 * WebSocket close frame (the server sees the TCP connection end, as when Wi-Fi drops), and while {@link #down} is set
 * new connections are closed at once (the client's reconnects fail, as without a network).
 */
public final class TcpProxy implements AutoCloseable {

    private final NetServer server;
    private final NetClient client;
    private final List<NetSocket[]> pairs = new ArrayList<>();
    private volatile boolean down;

    private TcpProxy(Vertx vertx, int targetPort) {
        this.client = vertx.createNetClient();
        this.server = vertx.createNetServer().connectHandler(in -> {
            if (down) {
                in.close();
                return;
            }
            in.pause();
            client.connect(targetPort, "127.0.0.1").onSuccess(out -> {
                synchronized (this) {
                    pairs.add(new NetSocket[]{in, out});
                }
                in.handler(out::write);
                out.handler(in::write);
                in.closeHandler(v -> out.close());
                out.closeHandler(v -> in.close());
                in.resume();
            }).onFailure(e -> in.close());
        });
        WsClient.await(server.listen(0, "127.0.0.1"));
    }

    public static TcpProxy to(Vertx vertx, int targetPort) {
        return new TcpProxy(vertx, targetPort);
    }

    public int port() {
        return server.actualPort();
    }

    /** Ends every proxied connection: both sides see their TCP connection close, nobody sends a close frame. */
    public synchronized void cut() {
        for (NetSocket[] p : pairs) {
            p[0].handler(null);
            p[1].handler(null);
            p[1].close();
            p[0].close();
        }
        pairs.clear();
    }

    /** While down, every new connection is closed at once. */
    public void down(boolean isDown) {
        this.down = isDown;
    }

    @Override
    public void close() {
        cut();
        WsClient.await(server.close());
        client.close();
    }
}
