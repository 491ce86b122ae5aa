package dev.flock.internals;

import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.internal.http.WebSocketInternal;
import io.vertx.ext.web.Router;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(VertxExtension.class)
class VertxInternalsTest {

    /** Vert.x Web wraps the socket; the embedded path needs the real one for its batched, flush-less writes. */
    @Test
    void unwrap_seesThroughVertxWebsWrapper(Vertx vertx, VertxTestContext ctx) {
        Router router = Router.router(vertx);
        router.route("/ws").handler(rc -> rc.request().toWebSocket().onComplete(ctx.succeeding(ws -> ctx.verify(() -> {
            assertThat(ws).isNotInstanceOf(WebSocketInternal.class);
            ServerWebSocket inner = VertxInternals.unwrap(ws);
            assertThat(inner).isInstanceOf(WebSocketInternal.class);
            assertThat(inner.path()).isEqualTo("/ws");
            ctx.completeNow();
        }))));
        vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
                .compose(s -> vertx.createWebSocketClient().connect(s.actualPort(), "127.0.0.1", "/ws"))
                .onFailure(ctx::failNow);
    }

    /** Every internal Flock uses is there in the Vert.x it was built with: the start-up check passes. */
    @Test
    void check_passesOnTheVertxFlockIsBuiltWith(Vertx vertx) {
        VertxInternals.check(vertx);
    }

    /** A Vert.x that is not the real implementation (a wrapper, another version) fails with one clear line. */
    @Test
    void check_failsWithOneClearLine_whenTheVertxLacksItsInternals(Vertx vertx) {
        Vertx foreign = (Vertx) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[]{Vertx.class}, (proxy, method, args) -> method.invoke(vertx, args));
        assertThatThrownBy(() -> VertxInternals.check(foreign))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Vert.x 5.1 internals")
                .hasMessageContaining("VertxInternal")
                .hasMessageNotContaining("\n");
    }
}
