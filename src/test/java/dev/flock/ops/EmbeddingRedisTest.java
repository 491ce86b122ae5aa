package dev.flock.ops;

import dev.flock.FlockServer;
import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import dev.flock.support.RedisExtension;
import dev.flock.support.TestServers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Flock attached to an application's own HTTP server in Redis mode: the Redis bridge runs (attach used to leave it
 * undeployed, so /ready stayed "connecting to Redis" and every join got INTERNAL_ERROR), and the attached instance
 * shares rooms with a standalone one through Redis.
 */
class EmbeddingRedisTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();

    private Vertx appVertx;
    private Vertx otherVertx;

    @BeforeEach
    void setUp() {
        REDIS.server().command("FLUSHALL");
        appVertx = Vertx.vertx();
        otherVertx = Vertx.vertx();
    }

    @AfterEach
    void tearDown() throws Exception {
        await(appVertx.close());
        await(otherVertx.close());
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
    }

    @Test
    void attachedInRedisMode_connects_andSharesRoomsWithAnotherInstance() throws Exception {
        FlockServer flock = FlockServer.attach(appVertx, FlockConfig.builder().redisUrl(REDIS.server().url())
                .flushIntervalMs(0).build(), FlockMetrics.inMemory());
        Router router = Router.router(appVertx);
        flock.mount(router, "/flock");
        HttpServer app = await(appVertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
        // a socket handed over at once, before the bridge has necessarily been deployed, still gets its room
        WsProbe early = await(WsProbe.connect(appVertx, app.actualPort(), "/flock"));
        early.join("doc", "early");
        Await.until("early join:ack", () -> early.has(WsProbe.type("join:ack")));
        assertThat(early.has(WsProbe.type("error"))).isFalse();

        await(flock.started());
        Await.until("redis connected", () -> flock.redis().connected());
        assertThat(flock.readiness().reason()).isNull();

        FlockServer other = TestServers.startOnRedis(otherVertx, REDIS.server().url(), "FLOCK_FLUSH_INTERVAL_MS", "0");
        WsProbe remote = await(WsProbe.connect(otherVertx, other.port(), "/"));
        remote.join("doc", "remote");
        Await.until("remote's join:ack lists early", () -> remote.received.stream()
                .filter(m -> "join:ack".equals(m.getString("type")))
                .anyMatch(m -> usersOf(m).contains("early")));
        Await.until("early sees remote join", () -> early.has(m -> "user:joined".equals(m.getString("type"))
                && "remote".equals(m.getString("userId"))));

        await(flock.close());
        assertThat(flock.redis().connected()).isFalse();
    }

    private static java.util.List<String> usersOf(JsonObject ack) {
        JsonArray users = ack.getJsonArray("users", new JsonArray());
        java.util.List<String> ids = new java.util.ArrayList<>();
        for (Object u : users) {
            ids.add(((JsonObject) u).getString("userId"));
        }
        return ids;
    }
}
