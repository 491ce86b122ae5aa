package dev.flock.transport;

import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.internal.http.WebSocketInternal;
import io.vertx.ext.web.Router;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class SocketHubsTest {

    /** Vert.x Web wraps the socket; the embedded path needs the real one for its batched, flush-less writes. */
    @Test
    void unwrap_seesThroughVertxWebsWrapper(Vertx vertx, VertxTestContext ctx) {
        Router router = Router.router(vertx);
        router.route("/ws").handler(rc -> rc.request().toWebSocket().onComplete(ctx.succeeding(ws -> ctx.verify(() -> {
            assertThat(ws).isNotInstanceOf(WebSocketInternal.class);
            ServerWebSocket inner = SocketHubs.unwrap(ws);
            assertThat(inner).isInstanceOf(WebSocketInternal.class);
            assertThat(inner.path()).isEqualTo("/ws");
            ctx.completeNow();
        }))));
        vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
                .compose(s -> vertx.createWebSocketClient().connect(s.actualPort(), "127.0.0.1", "/ws"))
                .onFailure(ctx::failNow);
    }
}
