package dev.flock.redis;

import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import dev.flock.room.PresenceStore;
import dev.flock.room.PresenceStoreContract;
import dev.flock.support.RedisExtension;
import dev.flock.support.RedisServer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.protocol.WebhookEventType;
import dev.flock.webhook.WebhookEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The store contract on the Redis scripts: a real {@link RedisLink} to a throw-away Redis, every call made on the
 * link's context (as the room does). An expired connection is written with a score in the past and, when it was the
 * user's last, the presence hash deleted (what Redis' own key expiry would have done), never waited for.
 */
class RedisPresenceStoreTest extends PresenceStoreContract {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();

    private static Vertx vertx;
    private static Context context;
    private static RedisLink link;
    private static RedisPresenceStore store;
    private static RedisPresenceStore silent;

    @BeforeAll
    static void connect() throws Exception {
        vertx = Vertx.vertx();
        context = vertx.getOrCreateContext();
        FlockConfig config = config(REDIS.server());
        link = new RedisLink(config, FlockMetrics.inMemory());
        Promise<Void> started = Promise.promise();
        context.runOnContext(v -> link.start(vertx).onComplete(started));
        started.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(link.connected()).as("the link is connected").isTrue();
        store = new RedisPresenceStore(link, config, Scripts.recording(EnumSet.allOf(WebhookEventType.class), 1000));
        silent = new RedisPresenceStore(link, config);
    }

    @AfterAll
    static void close() throws Exception {
        if (link != null) {
            Promise<Void> stopped = Promise.promise();
            context.runOnContext(v -> link.stop().onComplete(stopped));
            stopped.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    static FlockConfig config(RedisServer redis) {
        return config(redis.url());
    }

    /** The contract's settings on the Redis (or cluster, or sentinels) at {@code url}. */
    static FlockConfig config(String url) {
        Map<String, String> env = new HashMap<>(contractEnv());
        env.put("FLOCK_REDIS_URL", url);
        return FlockConfig.fromEnv(env);
    }

    @BeforeEach
    void flush() {
        REDIS.server().command("FLUSHALL");
    }

    @Override
    protected PresenceStore store() {
        return store;
    }

    @Override
    protected <T> Future<T> invoke(Supplier<Future<T>> call) {
        Promise<T> result = Promise.promise();
        context.runOnContext(v -> call.get().onComplete(result));
        return result.future();
    }

    /** The outbox stream, read with XRANGE and decoded as the deliverer decodes it. */
    @Override
    protected List<WebhookEvent> recordedEvents() {
        Response r = await(() -> link.send(Request.cmd(Command.XRANGE).arg(Keys.WEBHOOKS).arg("-").arg("+")));
        List<WebhookEvent> out = new ArrayList<>();
        for (Response entry : r) {
            WebhookEvent e = RedisOutbox.event(entry.get(0).toString(), entry.get(1), KeyLayout.ORIGINAL);
            assertThat(e).as("stream entry %s decodes", entry).isNotNull();
            out.add(e);
        }
        return out;
    }

    @Override
    protected PresenceStore storeWithoutEvents() {
        return silent;
    }

    /** The presence hash expires with the presence TTL, before the connections (TTL + grace): its metadata is gone. */
    @Override
    protected ObjectNode expiredLeaveMetadata(ObjectNode last) {
        return null; // the presence hash expires with the TTL (as the original writes it), before the connections
    }

    @Override
    protected void expireConnection(String roomId, String userId, String connectionId) {
        RedisServer redis = REDIS.server();
        String conns = Keys.connections(roomId, userId);
        redis.command("ZADD", conns, "1", connectionId);
        // every live connection is scored now + TTL; the ones this test expired are scored 1. When none is left live,
        // time has passed the presence hash's expiry too, and with it the marker of our latest write (~wrote)
        long live = (Long) redis.command("ZCOUNT", conns, "2", "+inf");
        Object wrote = redis.command("ZSCORE", conns, "~wrote");
        if (wrote != null && Double.parseDouble(String.valueOf(wrote)) >= 2) {
            live--;
        }
        if (live == 0) {
            redis.command("DEL", Keys.presence(roomId, userId));
            redis.command("ZADD", conns, "XX", "1", "~wrote");
        }
    }

    // ---- the Redis store alone -----------------------------------------------------------------------------------

    private static long pttl(String key) {
        return (Long) REDIS.server().command("PTTL", key);
    }

    @Test
    void theDecisionsAreWrittenInTheOriginalLayout_withOurConnectionsSet() {
        admit("alice", "a1", "{\"name\":\"A\"}");

        RedisServer redis = REDIS.server();
        assertThat(redis.command("SMEMBERS", Keys.members(ROOM))).isEqualTo(List.of("alice"));
        assertThat(redis.command("HGET", Keys.presence(ROOM, "alice"), "metadata")).isEqualTo("{\"name\":\"A\"}");
        // the connection, and the marker of our latest write of the presence hash's expiry
        assertThat(redis.command("ZRANGE", Keys.connections(ROOM, "alice"), "0", "-1")).asList().containsExactlyInAnyOrder("a1", "~wrote");
        assertThat(pttl(Keys.presence(ROOM, "alice"))).isBetween(1L, 30_000L); // exactly the TTL, as the original writes it
        assertThat(Keys.members(ROOM)).isEqualTo("flock:room:doc%3A1:members");
    }

    @Test
    void aScriptRedisForgot_isSentAgainInFull() {
        admit("alice", "a1", "{}");
        REDIS.server().command("SCRIPT", "FLUSH");

        assertThat(remove("alice", "a1")).isTrue();
    }
}
