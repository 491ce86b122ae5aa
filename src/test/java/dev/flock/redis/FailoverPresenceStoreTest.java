package dev.flock.redis;

import dev.flock.protocol.LeaveReason;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.config.FlockConfig;
import dev.flock.metrics.FlockMetrics;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.room.PresenceStore;
import dev.flock.support.Fleet;
import dev.flock.support.RedisExtension;
import dev.flock.support.RedisServer;
import dev.flock.support.VirtualClock;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Redis mode's store: decisions are Redis' while the link is up (so users of other instances count), and local,
 * from the mirror of this instance's own connections, once it is down. Another instance is played by a second
 * {@link RedisPresenceStore} on the same Redis. An outage is a Redis process of the test's own that it stops.
 */
class FailoverPresenceStoreTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();
    private static final String ROOM = "doc:1";
    private static final long CALL_TIMEOUT_MS = 5000;

    private static Vertx vertx;
    private static Context context;
    private final List<RedisLink> links = new ArrayList<>();
    private final List<RedisServer> ownServers = new ArrayList<>();
    private RedisServer redis;
    private FlockConfig config;
    private RedisLink link;
    private FailoverPresenceStore store;
    /** Another instance on the same Redis. */
    private RedisPresenceStore other;

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
        context = vertx.getOrCreateContext();
    }

    @AfterAll
    static void closeVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @BeforeEach
    void onTheSharedRedis() {
        REDIS.server().command("FLUSHALL");
        use(REDIS.server());
    }

    @AfterEach
    void stopAll() {
        for (RedisLink l : links) {
            await(() -> l.stop());
        }
        ownServers.forEach(RedisServer::close);
    }

    /** Builds this instance's store (and the other instance's) on {@code server}, with a connected link. */
    private void use(RedisServer server) {
        redis = server;
        config = RedisPresenceStoreTest.config(server);
        link = new RedisLink(config, FlockMetrics.inMemory());
        links.add(link);
        await(() -> link.start(vertx));
        assertThat(link.connected()).as("the link is connected").isTrue();
        RedisPresenceStore shared = new RedisPresenceStore(link, config);
        store = new FailoverPresenceStore(shared, link::connected, new VirtualClock(), config);
        other = new RedisPresenceStore(link, config);
    }

    /** A Redis of this test alone, which it may stop. */
    private void useOwnRedis() {
        RedisServer own = RedisServer.builder().build();
        ownServers.add(own);
        own.start();
        use(own);
    }

    private void outage() {
        redis.stop();
        Fleet.awaitTrue("the link sees Redis gone", Duration.ofSeconds(5), () -> !link.connected());
    }

    private <T> T await(Supplier<Future<T>> call) {
        try {
            return call(call).toCompletionStage().toCompletableFuture().get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("call failed: " + e.getCause(), e.getCause());
        } catch (Exception e) {
            throw new AssertionError("call did not complete", e);
        }
    }

    private Throwable failure(Supplier<Future<?>> call) {
        try {
            call(call::get).toCompletionStage().toCompletableFuture().get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            throw new AssertionError("call did not complete", e);
        }
        throw new AssertionError("the call succeeded, a failure was expected");
    }

    /** On the link's context, as the room calls the store. */
    private static <T> Future<T> call(Supplier<Future<T>> call) {
        Promise<T> result = Promise.promise();
        context.runOnContext(v -> call.get().onComplete(result));
        return result.future();
    }

    private static ObjectNode meta(String json) {
        try {
            return (ObjectNode) ProtocolCodec.MAPPER.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException(json, e);
        }
    }

    private PresenceStore.Admission admit(PresenceStore s, String user, String conn, int limit) {
        return await(() -> s.admit(ROOM, user, conn, meta("{\"name\":\"" + user + "\"}"), limit, false));
    }

    private boolean inRedis(String user) {
        return (Long) redis.command("SISMEMBER", Keys.members(ROOM), user) == 1;
    }

    // ---- while Redis is reachable --------------------------------------------------------------------------------

    @Test
    void whileReachable_admissionIsRedis_soUsersOfOtherInstancesCountTowardsTheLimit() {
        assertThat(admit(store, "alice", "here:1", 2).status()).isEqualTo(PresenceStore.Admission.Status.JOINED);
        assertThat(admit(other, "bob", "there:1", 2).status()).isEqualTo(PresenceStore.Admission.Status.JOINED);

        assertThat(admit(store, "carol", "here:2", 2).status()).isEqualTo(PresenceStore.Admission.Status.FULL);

        assertThat(inRedis("alice")).isTrue();
        assertThat(inRedis("carol")).isFalse();
    }

    @Test
    void whileReachable_aUserPresentOnAnotherInstance_isPresent_withRedisStoredMetadata() {
        await(() -> other.admit(ROOM, "alice", "there:1", meta("{\"name\":\"From there\"}"), 0, false));

        PresenceStore.Admission a = await(() -> store.admit(ROOM, "alice", "here:1", meta("{\"name\":\"Here\"}"), 0, false));

        assertThat(a.status()).isEqualTo(PresenceStore.Admission.Status.PRESENT);
        assertThat(a.storedMetadata()).isEqualTo(meta("{\"name\":\"From there\"}"));
    }

    @Test
    void whileReachable_removalIsRedis_soAConnectionElsewhereKeepsTheUser() {
        admit(store, "alice", "here:1", 0);
        admit(other, "alice", "there:1", 0);

        assertThat(await(() -> store.remove(ROOM, "alice", "here:1", LeaveReason.LEFT))).isFalse(); // the mirror alone would say "last"

        assertThat(inRedis("alice")).isTrue();
        assertThat(await(() -> other.remove(ROOM, "alice", "there:1", LeaveReason.LEFT))).isTrue();
    }

    @Test
    void whileReachable_mergeIsRedis_intoWhatAnotherInstanceStored() {
        admit(store, "alice", "here:1", 0);
        await(() -> other.merge(ROOM, "alice", meta("{\"name\":\"alice\"}"), meta("{\"color\":\"red\"}")));

        ObjectNode merged = await(() -> store.merge(ROOM, "alice", meta("{\"name\":\"alice\"}"), meta("{\"status\":\"away\"}")));

        assertThat(merged).isEqualTo(meta("{\"name\":\"alice\",\"color\":\"red\",\"status\":\"away\"}"));
        assertThat(redis.command("HGET", Keys.presence(ROOM, "alice"), "metadata"))
                .isEqualTo("{\"name\":\"alice\",\"color\":\"red\",\"status\":\"away\"}");
    }

    @Test
    void whileReachable_snapshotAndSweepAreRedis_withEveryInstancesUsers() {
        admit(store, "alice", "here:1", 0);
        admit(other, "bob", "there:1", 0);
        redis.command("ZADD", Keys.connections(ROOM, "bob"), "1", "there:1");
        redis.command("DEL", Keys.presence(ROOM, "bob"));
        admit(other, "carol", "there:2", 0);

        assertThat(await(() -> store.snapshot(ROOM))).extracting(PresenceStore.Snapshot::userId)
                .containsExactlyInAnyOrder("alice", "carol");
        assertThat(await(() -> store.sweep(ROOM, null))).containsExactly("bob");
    }

    // ---- once Redis is unreachable -------------------------------------------------------------------------------

    @Test
    void afterTheLinkIsDown_removeIsDecidedLocally_fromTheMirrorOfThisInstancesConnections() {
        useOwnRedis();
        admit(store, "alice", "here:1", 0);
        admit(store, "alice", "here:2", 0);
        admit(other, "bob", "there:1", 0);
        outage();

        assertThat(await(() -> store.remove(ROOM, "alice", "here:1", LeaveReason.LEFT))).isFalse();
        assertThat(await(() -> store.remove(ROOM, "alice", "here:2", LeaveReason.LEFT))).isTrue(); // admitted while up, removed while down
        assertThat(await(() -> store.remove(ROOM, "bob", "there:1", LeaveReason.LEFT))).isTrue(); // another instance's: not mirrored, so present nowhere here
    }

    @Test
    void afterTheLinkIsDown_admissionIsDecidedLocally_countingThisInstancesUsers() {
        useOwnRedis();
        admit(store, "alice", "here:1", 0);
        await(() -> store.admit(ROOM, "dave", "here:2", meta("{\"name\":\"Dave\"}"), 0, false));
        outage();

        assertThat(admit(store, "carol", "here:3", 2).status()).isEqualTo(PresenceStore.Admission.Status.FULL);
        PresenceStore.Admission tab = admit(store, "dave", "here:4", 2);
        assertThat(tab.status()).isEqualTo(PresenceStore.Admission.Status.PRESENT);
        assertThat(tab.storedMetadata()).isEqualTo(meta("{\"name\":\"Dave\"}"));
        assertThat(admit(store, "erin", "here:5", 0).status()).isEqualTo(PresenceStore.Admission.Status.JOINED);
        assertThat(await(() -> store.remove(ROOM, "erin", "here:5", LeaveReason.LEFT))).isTrue();
    }

    @Test
    void aRefusalByRedis_isNotMirrored() {
        useOwnRedis();
        admit(other, "bob", "there:1", 1);
        assertThat(admit(store, "carol", "here:1", 1).status()).isEqualTo(PresenceStore.Admission.Status.FULL);
        outage();

        assertThat(await(() -> store.remove(ROOM, "carol", "here:1", LeaveReason.LEFT))).isTrue(); // the mirror never had carol
        assertThat(admit(store, "carol", "here:1", 1).status()).isEqualTo(PresenceStore.Admission.Status.JOINED);
    }

    @Test
    void afterTheLinkIsDown_mergeIsLocal_intoTheRoomsBelief_andTheLimitStillHolds() {
        useOwnRedis();
        admit(store, "alice", "here:1", 0);
        outage();

        ObjectNode merged = await(() -> store.merge(ROOM, "alice", meta("{\"name\":\"alice\",\"color\":\"red\"}"),
                meta("{\"status\":\"away\"}")));
        assertThat(merged).isEqualTo(meta("{\"name\":\"alice\",\"color\":\"red\",\"status\":\"away\"}"));

        Throwable tooLarge = failure(() -> store.merge(ROOM, "alice", merged,
                meta("{\"bio\":\"" + "x".repeat(config.maxMetadataBytes()) + "\"}")));
        assertThat(tooLarge).isInstanceOf(PresenceStore.MetadataTooLarge.class);
        // a user nobody here knows: the merge is returned as it is
        assertThat(await(() -> store.merge(ROOM, "ghost", meta("{\"a\":1}"), meta("{\"b\":2}"))))
                .isEqualTo(meta("{\"a\":1,\"b\":2}"));
    }

    @Test
    void afterTheLinkIsDown_snapshotAndSweepFail() {
        useOwnRedis();
        admit(store, "alice", "here:1", 0);
        outage();

        assertThat(failure(() -> store.snapshot(ROOM))).isNotNull();
        assertThat(failure(() -> store.sweep(ROOM, null))).isNotNull();
        assertThat(failure(() -> store.sweep(ROOM, "alice"))).isNotNull();
    }

    @Test
    void afterTheLinkIsDown_aRefreshWithRewriteIsMirrored_soTheConnectionCanBeRemovedLocally() {
        useOwnRedis();
        outage();

        await(() -> store.refresh(ROOM, List.of(new PresenceStore.Touch("alice", "here:1", meta("{}"))), List.of(), true));

        assertThat(await(() -> store.remove(ROOM, "alice", "here:1", LeaveReason.LEFT))).isTrue();
    }

    // ---- draining ------------------------------------------------------------------------------------------------

    @Test
    void drain_makesRemoveAnswerFalse_withoutTouchingRedis() {
        admit(store, "alice", "here:1", 0);

        store.drain();

        assertThat(await(() -> store.remove(ROOM, "alice", "here:1", LeaveReason.LEFT))).isFalse();
        assertThat(inRedis("alice")).isTrue();
        assertThat(redis.command("ZRANGE", Keys.connections(ROOM, "alice"), "0", "-1")).asList().contains("here:1");
    }

    @Test
    void drain_whileTheLinkIsDown_alsoAnswersFalse() {
        useOwnRedis();
        admit(store, "alice", "here:1", 0);
        outage();

        store.drain();

        assertThat(await(() -> store.remove(ROOM, "alice", "here:1", LeaveReason.LEFT))).isFalse();
    }
}
