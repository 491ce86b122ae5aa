package dev.flock.ops;

import dev.flock.FlockServer;
import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Flock inside an application's own Vert.x: on its Router under a path, on its HttpServer, or deployed beside it. */
@ExtendWith(VertxExtension.class)
class EmbeddingTest {

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** The application: its own routes, and Flock under /flock; several instances, so sockets land on several loops. */
    static final class App extends VerticleBase {
        final FlockServer flock;
        final int port;
        HttpServer server;

        App(FlockServer flock, int port) {
            this.flock = flock;
            this.port = port;
        }

        @Override
        public Future<?> start() {
            Router router = Router.router(vertx);
            router.get("/api/hello").handler(rc -> rc.response().end("hello"));
            flock.mount(router, "/flock");
            server = vertx.createHttpServer();
            return server.requestHandler(router).listen(port, "127.0.0.1");
        }
    }

    private static JsonObject move(String roomId, double x) {
        return new JsonObject().put("type", "cursor:move").put("roomId", roomId)
                .put("position", new JsonObject().put("x", x).put("y", 0.25));
    }

    @Test
    void mountedOnTheAppsRouter_relaysBetweenSocketsOnSeveralLoops_andCounts(Vertx vertx) throws Exception {
        FlockServer flock = FlockServer.attach(vertx, FlockConfig.builder().flushIntervalMs(0).build(), FlockMetrics.inMemory());
        int port = freePort(); // instances share a port only when it is given (port 0 gives each its own)
        await(vertx.deployVerticle(() -> new App(flock, port), new DeploymentOptions().setInstances(3)));

        List<WsProbe> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            WsProbe c = await(WsProbe.connect(vertx, port, i % 2 == 0 ? "/flock" : "/flock/room?x=1"));
            c.join("doc:1", "user-" + i);
            WsProbe joined = c;
            Await.until("join:ack " + i, () -> joined.has(WsProbe.type("join:ack")));
            clients.add(c);
        }
        assertThat(flock.clientCount()).isEqualTo(4);
        assertThat(flock.roomCount()).isEqualTo(1);

        clients.get(0).send(move("doc:1", 0.5));
        for (int i = 1; i < 4; i++) {
            WsProbe c = clients.get(i);
            Await.until("cursor at client " + i, () -> c.has(m -> "cursor:updated".equals(m.getString("type"))
                    && "user-0".equals(m.getString("userId"))));
        }
        assertThat(clients.get(0).has(WsProbe.type("cursor:updated"))).isFalse();

        // the application's own routes still work, and a plain GET under /flock falls through to them (404 here)
        assertThat(status(vertx, port, "/api/hello")).isEqualTo(200);
        assertThat(status(vertx, port, "/flock")).isEqualTo(404);

        await(flock.close());
        for (WsProbe c : clients) {
            Await.until("close 4001", () -> c.closeCode != null);
            assertThat(c.closeCode).isEqualTo((short) 4001);
        }
        Await.until("no clients", () -> flock.clientCount() == 0);
        Await.until("no rooms", () -> flock.roomCount() == 0);
        assertThatThrownBy(() -> await(WsProbe.connect(vertx, port, "/flock")))
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(UpgradeRejectedException.class);
    }

    @Test
    void onTheAppsHttpServer_aWrongUpgradeKeyGets401_andAGoodOneIsAdmitted(Vertx vertx) throws Exception {
        FlockServer flock = FlockServer.attach(vertx, FlockConfig.builder().apiKeys("k1").build(), FlockMetrics.inMemory());
        HttpServer server = await(vertx.createHttpServer()
                .webSocketHandshakeHandler(flock.webSocketHandshakeHandler())
                .webSocketHandler(flock.webSocketHandler())
                .requestHandler(req -> req.response().end("app"))
                .listen(0, "127.0.0.1"));
        try {
            assertThatThrownBy(() -> await(WsProbe.connect(vertx, server.actualPort(), "/?apiKey=wrong")))
                    .hasCauseInstanceOf(UpgradeRejectedException.class)
                    .satisfies(e -> assertThat(((UpgradeRejectedException) e.getCause()).getStatus()).isEqualTo(401));
            WsProbe ok = await(WsProbe.connect(vertx, server.actualPort(), "/?apiKey=k1"));
            ok.join("r", "alice");
            Await.until("join:ack", () -> ok.has(WsProbe.type("join:ack")));
            assertThat(flock.clientCount()).isEqualTo(1);
        } finally {
            await(flock.close());
            await(server.close());
        }
    }

    @Test
    void onTheAppsHttpServer_tokensAreChecked_401WithAHandshakeHandler_1008WithoutOne(Vertx vertx) throws Exception {
        FlockConfig config = FlockConfig.builder().auth(dev.flock.config.AuthSettings.Mode.REQUIRED)
                .jwtSecret(dev.flock.support.Tokens.SECRET).build();
        String good = dev.flock.support.Tokens.hs256(dev.flock.support.Tokens.claims("alice", System.currentTimeMillis()));
        String expired = dev.flock.support.Tokens.hs256(new JsonObject().put("sub", "alice").put("exp", 1));
        FlockServer flock = FlockServer.attach(vertx, config, FlockMetrics.inMemory());
        HttpServer withHandshake = await(vertx.createHttpServer().webSocketHandshakeHandler(flock.webSocketHandshakeHandler())
                .webSocketHandler(flock.webSocketHandler()).listen(0, "127.0.0.1"));
        HttpServer bare = await(vertx.createHttpServer().webSocketHandler(flock.webSocketHandler()).listen(0, "127.0.0.1"));
        try {
            assertThatThrownBy(() -> await(WsProbe.connect(vertx, withHandshake.actualPort(), "/?token=" + expired)))
                    .hasCauseInstanceOf(UpgradeRejectedException.class)
                    .satisfies(e -> assertThat(((UpgradeRejectedException) e.getCause()).getStatus()).isEqualTo(401));
            WsProbe late = await(WsProbe.connect(vertx, bare.actualPort(), "/?token=" + expired));
            Await.until("close 1008", () -> late.closeCode != null);
            assertThat(late.closeCode).isEqualTo((short) 1008);
            for (HttpServer server : List.of(withHandshake, bare)) {
                WsProbe ok = await(WsProbe.connect(vertx, server.actualPort(), "/?token=" + good));
                ok.join("r", "alice");
                Await.until("join:ack", () -> ok.has(WsProbe.type("join:ack")));
            }
            assertThat(flock.clientCount()).isEqualTo(2);
        } finally {
            await(flock.close());
            await(withHandshake.close());
            await(bare.close());
        }
    }

    @Test
    void deployedIntoTheAppsVertx_listensAndCounts(Vertx vertx) throws Exception {
        FlockServer flock = await(FlockServer.start(vertx, FlockConfig.builder().port(0).host("127.0.0.1").build(),
                FlockMetrics.inMemory()));
        try {
            Set<WsProbe> clients = new HashSet<>();
            for (int i = 0; i < 3; i++) {
                WsProbe c = await(WsProbe.connect(vertx, flock.port(), "/"));
                c.join("room-" + i, "u");
                Await.until("join:ack", () -> c.has(WsProbe.type("join:ack")));
                clients.add(c);
            }
            assertThat(flock.clientCount()).isEqualTo(3);
            assertThat(flock.roomCount()).isEqualTo(3);
        } finally {
            await(flock.close());
        }
        assertThat(flock.clientCount()).isZero();
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static int status(Vertx vertx, int port, String path) throws Exception {
        return await(vertx.createHttpClient().request(HttpMethod.GET, port, "127.0.0.1", path)
                .compose(req -> req.send()).map(r -> r.statusCode()));
    }
}
