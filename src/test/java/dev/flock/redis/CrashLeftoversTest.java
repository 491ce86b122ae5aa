package dev.flock.redis;

import dev.flock.FlockServer;
import dev.flock.support.ChannelListener;
import dev.flock.support.Fleet;
import dev.flock.support.RedisExtension;
import dev.flock.support.RedisServer;
import dev.flock.support.TestServers;
import dev.flock.support.VirtualClock;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.flock.support.WsClient.is;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What an instance killed with -9 leaves in Redis is pruned by a survivor on its own, with and without expired-key
 * events: the members sets of rooms whose users all were on the dead instance disappear, with every other key of those
 * rooms and their room-index entry, and rooms with live members lose only the dead users.
 *
 * <p>The doomed instance connects as a Redis user of its own; deleting that user ({@code ACL DELUSER}) cuts its
 * connections and refuses its reconnects, which is what Redis sees of a kill -9: its keys are never refreshed or
 * removed again. Redis expires them on its own, real clock, so the doomed instance writes them with a short TTL
 * (2 s, 4 s in Redis) and the test waits for Redis to expire them; the survivor's housekeeping runs on a
 * {@link VirtualClock} with the longest sweep interval, and its own users have a TTL no real wait reaches. The doomed
 * instance's clock stands still except to write a cursor, so it never sweeps or expires anything itself.
 */
@ExtendWith(VertxExtension.class)
class CrashLeftoversTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();
    private static final long SWEEP_INTERVAL_MS = 60_000;
    private static final String DOOMED_USER = "doomed";
    private static final String DOOMED_PASSWORD = "doomed-pw";
    /** Longer than Redis needs to expire the doomed instance's keys (4 s after their last write). */
    private static final Duration REDIS_EXPIRY_WAIT = Duration.ofSeconds(15);

    /** alice and bob, both on the doomed instance: nobody is left to sweep it. */
    private static final String SOLO = "solo";
    /** wa on the survivor, alice on the doomed instance. */
    private static final String SHARED = "shared";
    /** alice on the doomed instance and a user of an original Node instance (a presence hash, no connections). */
    private static final String MIXED = "mixed";
    /** wl alone, on the survivor. */
    private static final String LIVE = "live";

    private final VirtualClock survivorClock = new VirtualClock();
    private final VirtualClock doomedClock = new VirtualClock();
    private final List<WsClient> clients = new ArrayList<>();
    private final List<FlockServer> servers = new ArrayList<>();
    private RedisServer redis;
    private Vertx doomedVertx;
    private Vertx clientVertx;
    private ChannelListener channels;
    private WsClient wa;
    private WsClient wl;

    @BeforeEach
    void setUp(Vertx vertx) {
        redis = REDIS.server();
        redis.command("FLUSHALL");
        redis.command("CONFIG", "SET", "notify-keyspace-events", "");
        redis.command("ACL", "SETUSER", DOOMED_USER, "reset", "on", ">" + DOOMED_PASSWORD, "~*", "&*", "+@all");
        doomedVertx = Vertx.vertx();
        clientVertx = vertx;
        channels = ChannelListener.subscribe(vertx, redis.url(), "flock:broadcast:" + SOLO, "flock:broadcast:" + MIXED);
    }

    @AfterEach
    void tearDown() {
        clients.forEach(WsClient::close);
        for (FlockServer s : servers) {
            WsClient.await(s.stop(true));
        }
        channels.close();
        WsClient.await(doomedVertx.close());
    }

    @Test
    void withoutKeyspaceEvents_theSurvivorsSweepPrunesTheDeadInstancesRooms_oneSweepIntervalAfterTheyExpired(Vertx vertx) {
        crashAfterJoins(vertx, false);
        awaitDeadKeysExpiredInRedis();

        // expired, but nothing has looked yet: the leftovers the survivor must find itself
        assertThat(smembers(SOLO)).containsExactlyInAnyOrder("alice", "bob");
        assertThat(smembers(MIXED)).containsExactlyInAnyOrder("alice", "node-user");
        assertThat(wa.count(is("user:left", SHARED, "alice"))).isZero();

        survivorClock.advance(SWEEP_INTERVAL_MS);

        assertLeftoversPruned();
    }

    @Test
    void withKeyspaceEvents_theSurvivorPrunesTheDeadInstancesRooms_asTheirPresenceExpires_withoutASweep(Vertx vertx) {
        crashAfterJoins(vertx, true);

        // the survivor's clock never moves: the expired-key events alone prune every room
        assertLeftoversPruned();
    }

    /** Survivor and doomed instance up, users joined on both, then the doomed instance is cut off as by kill -9. */
    private void crashAfterJoins(Vertx vertx, boolean keyspaceEvents) {
        String events = String.valueOf(keyspaceEvents);
        FlockServer survivor = TestServers.startOnRedis(vertx, redis.url(), survivorClock,
                "FLOCK_REDIS_KEYSPACE_EVENTS", events,
                "FLOCK_REDIS_SWEEP_INTERVAL_MS", String.valueOf(SWEEP_INTERVAL_MS),
                "FLOCK_PRESENCE_TTL_SECONDS", "300",
                // no room limit: a join into a room with a limit prunes dead members on the way
                "FLOCK_MAX_ROOM_SIZE", "0");
        servers.add(survivor);
        FlockServer doomed = TestServers.startOnRedis(doomedVertx,
                "redis://" + DOOMED_USER + ":" + DOOMED_PASSWORD + "@127.0.0.1:" + redis.port(), doomedClock,
                "FLOCK_REDIS_KEYSPACE_EVENTS", events,
                "FLOCK_REDIS_SWEEP_INTERVAL_MS", String.valueOf(SWEEP_INTERVAL_MS),
                "FLOCK_PRESENCE_TTL_SECONDS", "2",
                "FLOCK_MAX_ROOM_SIZE", "0");
        servers.add(doomed);

        redis.command("SADD", Keys.members(MIXED), "node-user");
        redis.command("HSET", Keys.presence(MIXED, "node-user"), "metadata", "{\"name\":\"N\"}", "joinedAt", "1");
        redis.command("PEXPIRE", Keys.presence(MIXED, "node-user"), "300000");

        wa = client(survivor);
        wa.joinAndAck(SHARED, "wa", new JsonObject());
        wl = client(survivor);
        wl.joinAndAck(LIVE, "wl", new JsonObject());
        WsClient alice = client(doomed);
        for (String room : List.of(SOLO, SHARED, MIXED)) {
            alice.joinAndAck(room, "alice", new JsonObject().put("name", "A"));
        }
        WsClient bob = client(doomed);
        bob.joinAndAck(SOLO, "bob", new JsonObject().put("name", "B"));
        wa.await(is("user:joined", SHARED, "alice"));
        bob.move(SOLO, 0.25, 0.5);
        alice.await(is("cursor:updated", SOLO, "bob"));
        doomedClock.advance(1000); // the room's once-a-second refresh writes bob's cursor to Redis
        Fleet.awaitTrue("bob's cursor in Redis", WsClient.TIMEOUT,
                () -> ((Long) redis.command("EXISTS", Keys.cursor(SOLO, "bob"))) == 1);
        assertThat(indexScore(SOLO)).isNotNull();

        redis.command("ACL", "DELUSER", DOOMED_USER); // closes its connections; its reconnects are refused
        assertThat((String) redis.command("CLIENT", "LIST")).doesNotContain("user=" + DOOMED_USER + " ");
    }

    private void awaitDeadKeysExpiredInRedis() {
        Fleet.awaitTrue("the dead instance's keys expired in Redis", REDIS_EXPIRY_WAIT,
                () -> ((Long) redis.command("EXISTS", Keys.connections(SOLO, "alice"), Keys.connections(SOLO, "bob"),
                        Keys.presence(SOLO, "alice"), Keys.cursor(SOLO, "bob"), Keys.connections(MIXED, "alice"),
                        Keys.connections(SHARED, "alice"))) == 0);
    }

    private void assertLeftoversPruned() {
        Fleet.awaitTrue("the dead instance's rooms pruned", REDIS_EXPIRY_WAIT,
                () -> keysOf(SOLO).isEmpty() && smembers(MIXED).size() == 1 && smembers(SHARED).size() == 1);
        // the room nobody is left in: no key of it, and out of the room index
        assertThat(keysOf(SOLO)).isEmpty();
        assertThat(indexScore(SOLO)).isNull();
        // each dead user announced gone once, by whichever script removed them (published after the removal: wait)
        Fleet.awaitTrue("the dead users' user:left published", REDIS_EXPIRY_WAIT,
                () -> channels.countMessages(is("user:left", SOLO, "alice")) >= 1
                        && channels.countMessages(is("user:left", SOLO, "bob")) >= 1
                        && channels.countMessages(is("user:left", MIXED, "alice")) >= 1);
        assertThat(channels.countMessages(is("user:left", SOLO, "alice"))).isEqualTo(1);
        assertThat(channels.countMessages(is("user:left", SOLO, "bob"))).isEqualTo(1);
        assertThat(channels.countMessages(is("user:left", MIXED, "alice"))).isEqualTo(1);
        // a room with a live member keeps it, and it stays indexed
        assertThat(smembers(MIXED)).containsExactly("node-user");
        assertThat(channels.countMessages(is("user:left", MIXED, "node-user"))).isZero();
        assertThat(indexScore(MIXED)).isNotNull();
        // the survivor's rooms: the dead user leaves the shared one once; the live members stay, unannounced
        wa.await(is("user:left", SHARED, "alice"));
        assertThat(wa.count(is("user:left", SHARED, "alice"))).isEqualTo(1);
        assertThat(smembers(SHARED)).containsExactly("wa");
        assertThat(smembers(LIVE)).containsExactly("wl");
        assertThat(wa.count(is("user:left", null, "wa"))).isZero();
        assertThat(wl.count(is("user:left", null, null))).isZero();
        assertThat(redis.command("EXISTS", Keys.presence(SHARED, "wa"), Keys.presence(LIVE, "wl"))).isEqualTo(2L);
    }

    private WsClient client(FlockServer server) {
        WsClient c = WsClient.connect(clientVertx, server.port());
        clients.add(c);
        return c;
    }

    @SuppressWarnings("unchecked")
    private List<Object> smembers(String room) {
        return (List<Object>) redis.command("SMEMBERS", Keys.members(room));
    }

    /** Every key naming the room (test-only KEYS over a throw-away Redis). */
    @SuppressWarnings("unchecked")
    private List<Object> keysOf(String room) {
        return (List<Object>) redis.command("KEYS", "flock:*:" + room + "*");
    }

    private Double indexScore(String room) {
        Object score = redis.command("ZSCORE", Keys.ROOM_INDEX, room);
        return score == null ? null : Double.parseDouble((String) score);
    }
}
