package dev.flock.redis;

import dev.flock.FlockServer;
import dev.flock.support.RedisExtension;
import dev.flock.support.RedisServer;
import dev.flock.support.TestServers;
import dev.flock.support.VirtualClock;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static dev.flock.support.WsClient.is;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Redis housekeeping on a {@link VirtualClock} against a real Redis: the periodic sweep of this instance's rooms is
 * the clock's timer ({@code FLOCK_REDIS_SWEEP_INTERVAL_MS}), so moving the clock by that interval sweeps a member
 * whose Redis connections expired, without waiting real seconds. The member is another instance's user written
 * straight into Redis, then "expired" by hand (connection scored in the past, presence hash deleted), as
 * {@link ScriptsTest} does; expired-key events are off, so the sweep alone can find them.
 */
@ExtendWith(VertxExtension.class)
class HousekeepingClockTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();
    /** The longest interval the settings allow: a sweep on real time could not come within a test's waits. */
    private static final long SWEEP_INTERVAL_MS = 60_000;
    private static final String ROOM = "doc";

    private final VirtualClock clock = new VirtualClock();
    private final List<WsClient> clients = new ArrayList<>();
    private RedisServer redis;
    private FlockServer server;

    @BeforeEach
    void setUp(Vertx vertx) {
        redis = REDIS.server();
        redis.command("FLUSHALL");
        server = TestServers.startOnRedis(vertx, redis.url(), clock,
                "FLOCK_REDIS_KEYSPACE_EVENTS", "false",
                "FLOCK_REDIS_SWEEP_INTERVAL_MS", String.valueOf(SWEEP_INTERVAL_MS),
                // longer than the interval, so the local clients outlive the moved clock without heartbeats
                "FLOCK_PRESENCE_TTL_SECONDS", "300",
                // no room limit: an admit with a limit counts members and prunes dead ones on the way, which
                // would find the ghost before the sweep does
                "FLOCK_MAX_ROOM_SIZE", "0");
    }

    @AfterEach
    void tearDown() {
        clients.forEach(WsClient::close);
        if (server != null) {
            WsClient.await(server.stop());
        }
    }

    private WsClient client(Vertx vertx) {
        WsClient c = WsClient.connect(vertx, server.port());
        clients.add(c);
        return c;
    }

    @Test
    void theSweepTimer_onTheClock_evictsAMemberWhoseRedisConnectionsExpired(Vertx vertx) {
        // another instance's user, alive in Redis for now
        redis.command("SADD", Keys.members(ROOM), "ghost");
        redis.command("HSET", Keys.presence(ROOM, "ghost"), "metadata", "{\"name\":\"G\"}", "joinedAt", "1");
        redis.command("PEXPIRE", Keys.presence(ROOM, "ghost"), "300000");
        redis.command("ZADD", Keys.connections(ROOM, "ghost"), String.valueOf(redisNowMs() + 300_000), "elsewhere-1");
        redis.command("PEXPIRE", Keys.connections(ROOM, "ghost"), "300000");

        WsClient watcher = client(vertx);
        assertThat(userIds(watcher.joinAndAck(ROOM, "watcher", new JsonObject()))).containsExactly("ghost");

        // its instance vanished: its connection's expiry has passed and its presence hash is gone
        redis.command("ZADD", Keys.connections(ROOM, "ghost"), "1", "elsewhere-1");
        redis.command("DEL", Keys.presence(ROOM, "ghost"));

        clock.advance(SWEEP_INTERVAL_MS - 1);
        // a join waits in the room's queue behind any sweep already asked for: none was, the ghost is still shown
        WsClient probe = client(vertx);
        assertThat(userIds(probe.joinAndAck(ROOM, "probe", new JsonObject()))).containsExactlyInAnyOrder("ghost", "watcher");
        assertThat(watcher.count(is("user:left", ROOM, "ghost"))).isZero();

        clock.advance(1); // the sweep is due
        watcher.await(is("user:left", ROOM, "ghost"));
        probe.await(is("user:left", ROOM, "ghost"));
        assertThat(watcher.count(is("user:left", ROOM, "ghost"))).isEqualTo(1);
        assertThat((List<Object>) redis.command("SMEMBERS", Keys.members(ROOM))).containsExactlyInAnyOrder("watcher", "probe");
        assertThat((Long) redis.command("EXISTS", Keys.connections(ROOM, "ghost"))).isZero();
        assertThat(userIds(client(vertx).joinAndAck(ROOM, "late", new JsonObject()))).containsExactlyInAnyOrder("watcher", "probe");
    }

    @SuppressWarnings("unchecked")
    private long redisNowMs() {
        List<Object> t = (List<Object>) redis.command("TIME");
        return Long.parseLong((String) t.get(0)) * 1000 + Long.parseLong((String) t.get(1)) / 1000;
    }

    private static List<String> userIds(JsonObject ack) {
        JsonArray users = ack.getJsonArray("users");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < users.size(); i++) {
            ids.add(users.getJsonObject(i).getString("userId"));
        }
        return ids;
    }
}
