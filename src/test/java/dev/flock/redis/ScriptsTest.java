package dev.flock.redis;

import dev.flock.room.PresenceStore;

import dev.flock.support.RedisExtension;
import dev.flock.support.RedisServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Each Lua script run directly with EVAL against a real, throw-away Redis (no Flock server): the decisions the
 * cluster relies on, one by one. An "expired" connection is written with a score in the past (epoch ms 1), never
 * waited for.
 */
@SuppressWarnings("unchecked")
class ScriptsTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();
    private static final String ROOM = "doc";
    private static final long TTL = 30_000;
    private static final String ALICE = "{\"name\":\"Alice\"}";
    private static final String BOB = "{\"name\":\"Bob\"}";
    private RedisServer redis;

    @BeforeEach
    void setUp() {
        redis = REDIS.server();
        redis.command("FLUSHALL");
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    private Object eval(Scripts.Script script, String... argv) {
        String[] cmd = new String[3 + argv.length];
        cmd[0] = "EVAL";
        cmd[1] = script.text();
        cmd[2] = "0";
        System.arraycopy(argv, 0, cmd, 3, argv.length);
        return redis.command(cmd);
    }

    private List<Object> admit(String room, String user, String conn, String meta, long limit, String mode) {
        return (List<Object>) eval(Scripts.WITHOUT_EVENTS.admit(), Keys.encode(room), user, conn, meta, Long.toString(TTL),
                Long.toString(limit), mode, Long.toString(TTL - PresenceStore.EXPIRY_GRACE_MS));
    }

    private List<Object> admit(String user, String conn, String meta) {
        return admit(ROOM, user, conn, meta, 0, "share");
    }

    private long remove(String user, String conn) {
        return (Long) eval(Scripts.WITHOUT_EVENTS.remove(), ROOM, user, conn);
    }

    private List<Object> merge(String user, String expected, String next) {
        return (List<Object>) eval(Scripts.WITHOUT_EVENTS.merge(), ROOM, user, expected, next);
    }

    private List<Object> sweep(String... user) {
        String[] argv = new String[1 + user.length];
        argv[0] = ROOM;
        System.arraycopy(user, 0, argv, 1, user.length);
        return (List<Object>) eval(Scripts.WITHOUT_EVENTS.sweep(), argv);
    }

    private List<Object> refresh(long ttl, boolean rewrite, List<String[]> touches, List<String[]> cursors) {
        List<String> argv = new ArrayList<>(List.of(ROOM, Long.toString(ttl), Long.toString(ttl - PresenceStore.EXPIRY_GRACE_MS),
                rewrite ? "1" : "0",
                Integer.toString(touches.size())));
        touches.forEach(t -> argv.addAll(List.of(t)));
        cursors.forEach(c -> argv.addAll(List.of(c)));
        return (List<Object>) eval(Scripts.WITHOUT_EVENTS.refresh(), argv.toArray(String[]::new));
    }

    /** A member whose only connection expired long ago and whose presence hash is gone. */
    private void expiredMember(String user) {
        redis.command("SADD", Keys.members(ROOM), user);
        redis.command("ZADD", Keys.connections(ROOM, user), "1", user + "-old-conn");
    }

    /** A user of an original Node instance: a member with a presence hash and no connections set. */
    private void nodeMember(String user, String meta) {
        redis.command("SADD", Keys.members(ROOM), user);
        redis.command("HSET", Keys.presence(ROOM, user), "metadata", meta, "joinedAt", "1");
        redis.command("PEXPIRE", Keys.presence(ROOM, user), Long.toString(TTL));
    }

    private long redisNowMs() {
        List<Object> t = (List<Object>) redis.command("TIME");
        return Long.parseLong((String) t.get(0)) * 1000 + Long.parseLong((String) t.get(1)) / 1000;
    }

    private List<Object> members() {
        return ((List<Object>) redis.command("SMEMBERS", Keys.members(ROOM))).stream().sorted(Comparator.comparing(Object::toString)).toList();
    }

    /** The user's connection entries, without the markers ({@code ~wrote}, {@code ~foreign}). */
    private List<Object> connections(String user) {
        return ((List<Object>) redis.command("ZRANGE", Keys.connections(ROOM, user), "0", "-1")).stream()
                .filter(c -> !String.valueOf(c).startsWith("~")).toList();
    }

    private long exists(String... keys) {
        String[] cmd = new String[keys.length + 1];
        cmd[0] = "EXISTS";
        System.arraycopy(keys, 0, cmd, 1, keys.length);
        return (Long) redis.command(cmd);
    }

    private String[] userKeys(String user) {
        return new String[]{Keys.presence(ROOM, user), Keys.cursor(ROOM, user), Keys.connections(ROOM, user)};
    }

    private long pttl(String key) {
        return (Long) redis.command("PTTL", key);
    }

    private double score(String user, String conn) {
        return Double.parseDouble((String) redis.command("ZSCORE", Keys.connections(ROOM, user), conn));
    }

    private Map<String, String> hash(String key) {
        List<Object> flat = (List<Object>) redis.command("HGETALL", key);
        Map<String, String> out = new java.util.TreeMap<>();
        for (int i = 0; i < flat.size(); i += 2) {
            out.put((String) flat.get(i), (String) flat.get(i + 1));
        }
        return out;
    }

    // ---- loading -------------------------------------------------------------------------------------------------

    @Test
    void everyScript_isTheLayoutAndHooksLinesAndThePreludeFollowedByItsFile_withoutHeaders_andTheShaRedisComputes() {
        String prelude = Scripts.body("prelude");
        assertThat(prelude).startsWith("local function enc(s)");
        assertThat(Scripts.of(KeyLayout.CLUSTER, java.util.Set.of(), 1).admit().text()).startsWith("local CLUSTER = true\n");
        Scripts recording = Scripts.recording(java.util.EnumSet.of(dev.flock.protocol.WebhookEventType.USER_LEFT,
                dev.flock.protocol.WebhookEventType.USER_JOINED), 7);
        for (Scripts.Script s : recording.all()) {
            // admit-first.lua runs snapshot.lua's and admit.lua's bodies, each as a function of its own
            String body = s.name().equals("admit-first")
                    ? "local function view()\n" + Scripts.body("snapshot") + "\nend\nlocal function decide()\n"
                    + Scripts.body("admit") + "\nend\n" + Scripts.body("admit-first")
                    : Scripts.body(s.name());
            assertThat(s.text()).as(s.name()).isEqualTo("local CLUSTER = false\nlocal HOOKS, HOOK_MAX = {['user.joined']=true, ['user.left']=true}, 7\n"
                    + prelude + body);
            assertThat(s.text()).as(s.name()).doesNotContain("-- ARGV");
            assertThat(Scripts.read(s.name() + ".lua")).as(s.name() + ".lua header").contains("-- ARGV[1]", "-- Returns");
            assertThat(redis.command("SCRIPT", "LOAD", s.text())).as(s.name()).isEqualTo(s.sha());
        }
    }

    @Test
    void aMissingScriptFile_failsWithAnIllegalStateExceptionNamingIt() {
        assertThatThrownBy(() -> Scripts.body("no-such-script"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("/dev/flock/redis/no-such-script.lua");
    }

    // ---- admit ---------------------------------------------------------------------------------------------------

    @Test
    void admit_newUser_joins_andWritesMembersPresenceAndConnectionWithTheTtl() {
        long before = redisNowMs();
        assertThat(admit("alice", "c1", ALICE)).containsExactly("joined", null, List.of());
        long after = redisNowMs();

        assertThat(members()).containsExactly("alice");
        Map<String, String> presence = hash(Keys.presence(ROOM, "alice"));
        assertThat(presence).containsEntry("metadata", ALICE);
        assertThat(Long.parseLong(presence.get("joinedAt"))).isBetween(before, after);
        assertThat(connections("alice")).containsExactly("c1");
        assertThat(score("alice", "c1")).isBetween((double) before + TTL, (double) after + TTL);
        assertThat(pttl(Keys.presence(ROOM, "alice"))).isBetween(1L, TTL);
        assertThat(pttl(Keys.connections(ROOM, "alice"))).isBetween(1L, TTL);
    }

    @Test
    void admit_sameUserInShareMode_isPresent_withTheStoredMetadata_andAddsTheConnection() {
        admit("alice", "c1", ALICE);

        assertThat(admit(ROOM, "alice", "c2", "{\"name\":\"Other tab\"}", 0, "share"))
                .containsExactly("present", ALICE, List.of());

        assertThat(connections("alice")).containsExactlyInAnyOrder("c1", "c2");
        assertThat(hash(Keys.presence(ROOM, "alice"))).containsEntry("metadata", ALICE);
        assertThat(members()).containsExactly("alice");
    }

    @Test
    void admit_sameUserInEvictMode_isReplaced_theOldConnectionAndCursorGone() {
        admit("alice", "c1", ALICE);
        redis.command("HSET", Keys.cursor(ROOM, "alice"), "x", "1", "y", "2", "timestamp", "3");

        assertThat(admit(ROOM, "alice", "c2", BOB, 0, "evict")).containsExactly("replaced", null, List.of());

        assertThat(connections("alice")).containsExactly("c2");
        assertThat(hash(Keys.presence(ROOM, "alice"))).containsEntry("metadata", BOB);
        assertThat(exists(Keys.cursor(ROOM, "alice"))).isZero();
        assertThat(members()).containsExactly("alice");
    }

    @Test
    void admit_refusesANewUserBeyondTheLimit_butNotAnotherConnectionOfAPresentOne() {
        assertThat(admit(ROOM, "alice", "a1", ALICE, 2, "share").get(0)).isEqualTo("joined");
        assertThat(admit(ROOM, "bob", "b1", BOB, 2, "share").get(0)).isEqualTo("joined");

        assertThat(admit(ROOM, "carol", "c1", "{}", 2, "share")).containsExactly("full", null, List.of());
        assertThat(members()).containsExactly("alice", "bob");
        assertThat(exists(userKeys("carol"))).isZero();

        assertThat(admit(ROOM, "alice", "a2", ALICE, 2, "share").get(0)).isEqualTo("present");
    }

    @Test
    void admit_refusesNewUsersBeyondTheLimit_evenWhenAdmitsRace() throws Exception {
        int users = 40;
        int limit = 5;
        ExecutorService pool = Executors.newFixedThreadPool(users);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<List<Object>>> results = new ArrayList<>();
            for (int i = 0; i < users; i++) {
                String user = "user-" + i;
                results.add(pool.submit(() -> {
                    go.await();
                    return admit(ROOM, user, user + "-conn", "{}", limit, "share"); // each on its own connection
                }));
            }
            go.countDown();
            List<Object> statuses = new ArrayList<>();
            for (Future<List<Object>> r : results) {
                statuses.add(r.get(10, TimeUnit.SECONDS).get(0));
            }
            Map<Object, Long> counts = statuses.stream().collect(Collectors.groupingBy(s -> s, Collectors.counting()));
            assertThat(counts).isEqualTo(Map.of("joined", (long) limit, "full", (long) (users - limit)));
            assertThat(members()).hasSize(limit);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void admit_prunesAnExpiredMember_reportsIt_andDoesNotCountItAgainstTheLimit() {
        expiredMember("ghost");

        assertThat(admit(ROOM, "alice", "a1", ALICE, 1, "share")).containsExactly("joined", null, List.of("ghost"));

        assertThat(members()).containsExactly("alice");
        assertThat(exists(userKeys("ghost"))).isZero();
    }

    @Test
    void admit_ofAUserWhoseOwnConnectionsExpired_prunesThem_andJoinsAfresh() {
        expiredMember("alice");

        assertThat(admit("alice", "a2", ALICE)).containsExactly("joined", null, List.of("alice"));

        assertThat(connections("alice")).containsExactly("a2");
    }

    @Test
    void admit_countsAMemberWithOnlyAPresenceHash_asLive() {
        nodeMember("node-user", BOB);

        assertThat(admit(ROOM, "alice", "a1", ALICE, 1, "share")).containsExactly("full", null, List.of());
        assertThat(members()).containsExactly("node-user");
    }

    // ---- remove --------------------------------------------------------------------------------------------------

    @Test
    void remove_oneOfTwoConnections_keepsTheUser() {
        admit("alice", "c1", ALICE);
        admit("alice", "c2", ALICE);

        assertThat(remove("alice", "c1")).isZero();

        assertThat(connections("alice")).containsExactly("c2");
        assertThat(members()).containsExactly("alice");
        assertThat(exists(Keys.presence(ROOM, "alice"))).isOne();
    }

    @Test
    void remove_theLastConnection_removesTheUserAndEveryKeyOfTheUser() {
        admit("alice", "c1", ALICE);
        admit("bob", "b1", BOB);
        redis.command("HSET", Keys.cursor(ROOM, "alice"), "x", "1", "y", "2", "timestamp", "3");

        assertThat(remove("alice", "c1")).isOne();

        assertThat(members()).containsExactly("bob");
        assertThat(exists(userKeys("alice"))).isZero();
    }

    @Test
    void remove_theLastLiveConnection_leavesEvenWhenExpiredEntriesRemain() {
        admit("alice", "c1", ALICE);
        redis.command("ZADD", Keys.connections(ROOM, "alice"), "1", "c-expired");

        assertThat(remove("alice", "c1")).isOne();

        assertThat(exists(userKeys("alice"))).isZero();
    }

    @Test
    void remove_aConnectionOfAUserNotInTheMembersSet_returns1_soTheCallerSaysTheyLeft_andLeavesTheirPresence() {
        redis.command("ZADD", Keys.connections(ROOM, "stranger"), "9999999999999", "s1");
        redis.command("HSET", Keys.presence(ROOM, "stranger"), "metadata", "{}");

        assertThat(remove("stranger", "s1")).isOne();

        assertThat(members()).isEmpty();
        assertThat(exists(Keys.presence(ROOM, "stranger"))).isOne();
    }

    // ---- merge ---------------------------------------------------------------------------------------------------

    @Test
    void merge_writesWhenTheExpectedMetadataIsStored() {
        admit("alice", "c1", ALICE);

        assertThat(merge("alice", ALICE, BOB)).containsExactly(1L);

        assertThat(hash(Keys.presence(ROOM, "alice"))).containsEntry("metadata", BOB);
    }

    @Test
    void merge_refusesWhenAnotherInstanceChangedItFirst_andReturnsTheCurrentMetadata() {
        admit("alice", "c1", ALICE);
        redis.command("HSET", Keys.presence(ROOM, "alice"), "metadata", "{\"name\":\"Changed\"}");

        assertThat(merge("alice", ALICE, BOB)).containsExactly(0L, "{\"name\":\"Changed\"}");

        assertThat(hash(Keys.presence(ROOM, "alice"))).containsEntry("metadata", "{\"name\":\"Changed\"}");
    }

    @Test
    void merge_withoutPresence_returns2_andWritesNothing() {
        assertThat(merge("alice", ALICE, BOB)).containsExactly(2L);

        assertThat(exists(Keys.presence(ROOM, "alice"))).isZero();
    }

    // ---- sweep ---------------------------------------------------------------------------------------------------

    @Test
    void sweep_removesMembersWhoseConnectionsAllExpired_andReturnsThem_butKeepsLiveOnes() {
        admit("alice", "c1", ALICE);
        nodeMember("node-user", BOB);
        expiredMember("ghost");

        assertThat(sweep()).containsExactly("ghost");

        assertThat(members()).containsExactly("alice", "node-user");
        assertThat(exists(userKeys("ghost"))).isZero();
        assertThat(sweep()).isEmpty();
    }

    @Test
    void sweep_ofOneUser_touchesOnlyThatUser() {
        admit("alice", "c1", ALICE);
        expiredMember("ghost1");
        expiredMember("ghost2");

        assertThat(sweep("ghost1")).containsExactly("ghost1");
        assertThat(sweep("alice")).isEmpty();

        assertThat(members()).containsExactly("alice", "ghost2");
        assertThat(connections("ghost2")).containsExactly("ghost2-old-conn");
    }

    // ---- refresh -------------------------------------------------------------------------------------------------

    @Test
    void refresh_withoutRewrite_extendsOnlyConnectionsThatStillExist() {
        admit("alice", "c1", ALICE);
        admit("alice", "c2", ALICE);
        remove("alice", "c2"); // dropped by another instance meanwhile
        long longer = 10 * TTL;
        long before = redisNowMs();

        List<Object> recreated = refresh(longer, false, List.of(
                new String[]{"alice", "c1", ""}, new String[]{"alice", "c2", ""}, new String[]{"bob", "b1", ""}), List.of());

        assertThat(recreated).isEmpty();
        assertThat(connections("alice")).containsExactly("c1");
        assertThat(score("alice", "c1")).isGreaterThanOrEqualTo((double) before + longer);
        assertThat(pttl(Keys.connections(ROOM, "alice"))).isGreaterThan(TTL);
        assertThat(pttl(Keys.presence(ROOM, "alice"))).isGreaterThan(TTL);
        assertThat(members()).containsExactly("alice");
        assertThat(exists(userKeys("bob"))).isZero();
    }

    @Test
    void refresh_withRewrite_recreatesMissingPresence_andReturnsThoseUsers() {
        admit("bob", "b1", BOB);

        List<Object> recreated = refresh(TTL, true, List.of(
                new String[]{"alice", "c1", ALICE}, new String[]{"bob", "b1", "{\"name\":\"Not this\"}"}), List.of());

        assertThat(recreated).containsExactly("alice");
        assertThat(members()).containsExactly("alice", "bob");
        assertThat(hash(Keys.presence(ROOM, "alice"))).containsEntry("metadata", ALICE);
        assertThat(connections("alice")).containsExactly("c1");
        assertThat(pttl(Keys.presence(ROOM, "alice"))).isBetween(1L, TTL);
        assertThat(hash(Keys.presence(ROOM, "bob"))).containsEntry("metadata", BOB);
    }

    @Test
    void refresh_cursorWrites_setTheCursorHashOfMembers_andDeleteItOnRemoval() {
        admit("alice", "c1", ALICE);

        refresh(TTL, false, List.of(), List.of(new String[]{"alice", "1.5", "-2", "123"},
                new String[]{"stranger", "7", "8", "9"}));

        assertThat(hash(Keys.cursor(ROOM, "alice"))).isEqualTo(Map.of("x", "1.5", "y", "-2", "timestamp", "123"));
        assertThat(pttl(Keys.cursor(ROOM, "alice"))).isBetween(1L, TTL);
        assertThat(exists(Keys.cursor(ROOM, "stranger"))).isZero();

        refresh(TTL, false, List.of(), List.<String[]>of(new String[]{"alice", "", "", ""}));

        assertThat(exists(Keys.cursor(ROOM, "alice"))).isZero();
        assertThat(members()).containsExactly("alice");
    }

    // ---- snapshot ------------------------------------------------------------------------------------------------

    @Test
    void snapshot_listsLiveMembersWithMetadataAndCursor_emptyWhereNone() {
        admit("alice", "c1", ALICE);
        admit("bob", "b1", BOB);
        redis.command("HSET", Keys.cursor(ROOM, "alice"), "x", "10", "y", "20", "timestamp", "30");
        nodeMember("node-user", "{\"name\":\"Node\"}");
        redis.command("SADD", Keys.members(ROOM), "conns-only");
        redis.command("ZADD", Keys.connections(ROOM, "conns-only"), "9999999999999", "k1");
        expiredMember("ghost");

        List<Object> rows = new ArrayList<>((List<Object>) eval(Scripts.WITHOUT_EVENTS.snapshot(), ROOM));
        rows.sort(Comparator.comparing(r -> (String) ((List<Object>) r).get(0)));

        assertThat(rows).containsExactly(
                List.of("alice", ALICE, "10", "20", "30", 1L, 0L),
                List.of("bob", BOB, "", "", "", 1L, 0L),
                List.of("conns-only", "{}", "", "", "", 1L, 0L),
                List.of("node-user", "{\"name\":\"Node\"}", "", "", "", 1L, 0L)); // an original's user counts 1
        assertThat(members()).contains("ghost"); // a read: it lists, it does not prune
    }

    // ---- room index ----------------------------------------------------------------------------------------------

    private Double indexScore(String room) {
        Object score = redis.command("ZSCORE", Keys.ROOM_INDEX, Keys.encode(room));
        return score == null ? null : Double.parseDouble((String) score);
    }

    private List<Object> indexed() {
        return (List<Object>) redis.command("ZRANGE", Keys.ROOM_INDEX, "0", "-1");
    }

    private List<Object> due(long lease, int limit) {
        return (List<Object>) eval(Scripts.WITHOUT_EVENTS.due(), "", Long.toString(lease), Integer.toString(limit));
    }

    /** A room whose index entry says every connection in it expired long ago (its instance crashed). */
    private void overdue(String room) {
        redis.command("ZADD", Keys.ROOM_INDEX, "1", Keys.encode(room));
    }

    @Test
    void index_admitListsTheRoom_scoredByTheLatestConnectionExpiry_andRefreshOnlyRaisesIt() {
        long before = redisNowMs();
        admit("alice", "c1", ALICE);
        assertThat(indexScore(ROOM)).isBetween((double) before + TTL, (double) redisNowMs() + TTL);

        refresh(10 * TTL, false, List.<String[]>of(new String[]{"alice", "c1", ""}), List.of());
        double raised = indexScore(ROOM);
        assertThat(raised).isGreaterThanOrEqualTo((double) before + 10 * TTL);

        admit("bob", "b1", BOB); // a shorter expiry than the one already listed
        assertThat(indexScore(ROOM)).isEqualTo(raised);
    }

    @Test
    void index_aRoomLeavesIt_whenItsLastMemberIsRemovedOrSwept_andStaysWhileMembersRemain() {
        admit("alice", "c1", ALICE);
        admit("bob", "b1", BOB);
        remove("alice", "c1");
        assertThat(indexScore(ROOM)).isNotNull();
        remove("bob", "b1");
        assertThat(indexScore(ROOM)).isNull();

        expiredMember("ghost");
        overdue(ROOM);
        assertThat(sweep()).containsExactly("ghost");
        assertThat(indexScore(ROOM)).isNull();
        assertThat(exists(Keys.members(ROOM))).isZero();
    }

    @Test
    void index_sweepUnlistsARoomWhoseMembersSetAnotherWriterEmptied_andRefreshDoesNotListARoomWithoutOne() {
        overdue(ROOM); // e.g. an original Node instance removed the last member itself

        assertThat(sweep()).isEmpty();
        assertThat(indexed()).isEmpty();

        refresh(TTL, false, List.<String[]>of(new String[]{"alice", "c1", ""}), List.of());
        assertThat(indexed()).isEmpty();
    }

    @Test
    void due_claimsOnlyRoomsPastTheirScore_atMostTheLimit_andPushesEachOutByTheLease() {
        admit("live", "alice", "c1", ALICE, 0, "share");
        for (String room : List.of("crashed-1", "crashed-2", "crashed-3")) {
            overdue(room);
        }
        long before = redisNowMs();

        List<Object> first = due(TTL, 2);
        List<Object> second = due(TTL, 2);

        assertThat(first).hasSize(2);
        assertThat(second).hasSize(1);
        List<Object> claimed = new ArrayList<>(first);
        claimed.addAll(second);
        assertThat(claimed).containsExactlyInAnyOrder("crashed-1", "crashed-2", "crashed-3");
        assertThat(due(TTL, 2)).as("claimed rooms come up again only after the lease").isEmpty();
        assertThat(indexScore("crashed-1")).isGreaterThanOrEqualTo((double) before + TTL);
    }

    @Test
    void due_thenSweep_prunesADueRoomOfItsDeadMembersOnly_andKeepsItListedWhileAMemberLivesByItsPresenceHash() {
        expiredMember("ghost");
        nodeMember("node-user", BOB);
        overdue(ROOM);

        assertThat(due(TTL, 10)).containsExactly(ROOM);
        assertThat(sweep()).containsExactly("ghost");

        assertThat(members()).containsExactly("node-user");
        assertThat(indexScore(ROOM)).as("checked again one lease later").isGreaterThan((double) redisNowMs());
    }

    // ---- key encoding --------------------------------------------------------------------------------------------

    @Test
    void idsWithColonOrPercent_arePercentEncodedInKeys_soTwoPairsNeverShareAKey() {
        assertThat(admit("a", "b:c", "c1", ALICE, 0, "share").get(0)).isEqualTo("joined");
        assertThat(admit("a:b", "c", "c2", BOB, 0, "share").get(0)).isEqualTo("joined");
        assertThat(admit("a", "b%3Ac", "c3", "{}", 0, "share").get(0)).isEqualTo("joined");

        assertThat(hash("flock:presence:a:b%3Ac")).containsEntry("metadata", ALICE);
        assertThat(hash("flock:presence:a%3Ab:c")).containsEntry("metadata", BOB);
        assertThat(hash("flock:presence:a:b%253Ac")).containsEntry("metadata", "{}");
        assertThat(redis.command("ZRANGE", "flock:conns:a:b%3Ac", "0", "-1")).asList().containsExactlyInAnyOrder("c1", "~wrote");
        assertThat(redis.command("ZRANGE", "flock:conns:a%3Ab:c", "0", "-1")).asList().containsExactlyInAnyOrder("c2", "~wrote");
        assertThat(redis.command("SMEMBERS", "flock:room:a%3Ab:members")).isEqualTo(List.of("c"));
        List<Object> keys = new ArrayList<>((List<Object>) redis.command("KEYS", "*"));
        keys.sort(Comparator.comparing(Object::toString));
        assertThat(keys).containsExactly("flock:conns:a%3Ab:c", "flock:conns:a:b%253Ac", "flock:conns:a:b%3Ac",
                "flock:presence:a%3Ab:c", "flock:presence:a:b%253Ac", "flock:presence:a:b%3Ac",
                "flock:room:a%3Ab:members", "flock:room:a:members", Keys.ROOM_INDEX);
        assertThat(indexed()).containsExactlyInAnyOrder("a", "a%3Ab");

        assertThat(eval(Scripts.WITHOUT_EVENTS.remove(), Keys.encode("a"), "b:c", "c1")).isEqualTo(1L);
        assertThat(exists("flock:presence:a:b%3Ac")).isZero();
        assertThat(exists("flock:presence:a%3Ab:c", "flock:presence:a:b%253Ac")).isEqualTo(2L);
        assertThat(Arrays.asList(Keys.presence("a", "b:c"), Keys.presence("a:b", "c")))
                .containsExactly("flock:presence:a:b%3Ac", "flock:presence:a%3Ab:c");
    }

    // ---- an original instance beside ours (issue 17) -------------------------------------------------------------

    @Test
    void remove_ofOurLastConnection_keepsAUserAnOriginalRefreshedAfterOurWrite() {
        admit("alice", "c1", ALICE);
        redis.command("PEXPIRE", Keys.presence(ROOM, "alice"), Long.toString(TTL + 5_000)); // an original's heartbeat, later

        assertThat(remove("alice", "c1")).isZero(); // not her last: the original holds her
        assertThat(connections("alice")).isEmpty();
        assertThat(redis.command("SISMEMBER", Keys.members(ROOM), "alice")).isEqualTo(1L);
        assertThat(redis.command("ZRANGE", Keys.connections(ROOM, "alice"), "0", "-1")).asList().contains("~foreign");
    }

    @Test
    void remove_ofTwoConnectionsOfOurs_dropsTheUser_whicheverWroteLast() {
        admit("alice", "c1", ALICE);
        admit("alice", "c2", ALICE);
        // c1 (another instance of ours) writes last, and leaves first: its write is still ours, not a foreign one
        refresh(TTL, false, List.<String[]>of(new String[]{"alice", "c1", ""}), List.of());
        assertThat(remove("alice", "c1")).isZero();
        assertThat(remove("alice", "c2")).isEqualTo(1L);
        assertThat(redis.command("SISMEMBER", Keys.members(ROOM), "alice")).isEqualTo(0L);
    }

    @Test
    void refresh_withRewrite_afterAnOriginalDeletedThePresence_forgetsTheOriginal() {
        admit("alice", "c1", ALICE);
        redis.command("PEXPIRE", Keys.presence(ROOM, "alice"), Long.toString(TTL + 5_000));
        refresh(TTL, false, List.<String[]>of(new String[]{"alice", "c1", ""}), List.of()); // sees the original's write
        redis.command("DEL", Keys.presence(ROOM, "alice")); // the original's socket closed: it deletes the hash
        redis.command("SREM", Keys.members(ROOM), "alice");

        assertThat(refresh(TTL, true, List.<String[]>of(new String[]{"alice", "c1", ALICE}), List.of())).containsExactly("alice");
        assertThat(redis.command("ZRANGE", Keys.connections(ROOM, "alice"), "0", "-1")).asList().doesNotContain("~foreign");
        assertThat(remove("alice", "c1")).isEqualTo(1L); // so her leave on ours is her last
    }

    // ---- the reconnect grace (issue 20) --------------------------------------------------------------------------

    private long grace(String user, String conn, long graceMs) {
        return (Long) eval(Scripts.WITHOUT_EVENTS.grace(), ROOM, user, conn, Long.toString(graceMs));
    }

    @Test
    void grace_keepsThePresenceAndTheConnectionsSet_atLeastAsLongAsTheGrace() {
        admit("alice", "c1", ALICE);
        redis.command("PEXPIRE", Keys.presence(ROOM, "alice"), "1000"); // a silent tab: almost expired
        redis.command("ZADD", Keys.connections(ROOM, "alice"), "XX", "0", "~wrote"); // ... as our own last write

        assertThat(grace("alice", "c1", 20_000)).isEqualTo(1L);

        assertThat(pttl(Keys.presence(ROOM, "alice"))).isGreaterThan(19_000L);
        assertThat(pttl(Keys.connections(ROOM, "alice"))).isGreaterThan(19_000L);
        assertThat(connections("alice")).isEmpty(); // only the graced entry (a marker) is left
        assertThat(redis.command("ZRANGE", Keys.connections(ROOM, "alice"), "0", "-1")).asList().contains("~g:c1");
    }

    @Test
    void aReturnWithinTheGrace_takesOverSilently_inEvictModeToo_andRecreatesAMissingHash() {
        admit("alice", "c1", ALICE);
        grace("alice", "c1", 5_000);
        redis.command("DEL", Keys.presence(ROOM, "alice"));

        List<Object> r = admit(ROOM, "alice", "c2", "{\"name\":\"Back\"}", 0, "evict");

        assertThat(r.get(0)).isEqualTo("present");
        assertThat(connections("alice")).containsExactly("c2");
        assertThat(redis.command("ZRANGE", Keys.connections(ROOM, "alice"), "0", "-1")).asList().doesNotContain("~g:c1");
        assertThat(redis.command("HGET", Keys.presence(ROOM, "alice"), "metadata")).isEqualTo("{\"name\":\"Back\"}");
    }

    @Test
    void aReturnAfterAnOriginalRefreshedTheUser_isAnOrdinaryAdmission_andRemembersTheOriginal() {
        admit("alice", "c1", ALICE);
        grace("alice", "c1", 5_000);
        redis.command("PEXPIRE", Keys.presence(ROOM, "alice"), Long.toString(TTL + 5_000)); // an original's heartbeat

        assertThat(admit(ROOM, "alice", "c2", ALICE, 0, "share").get(0)).isEqualTo("present");
        assertThat(redis.command("ZRANGE", Keys.connections(ROOM, "alice"), "0", "-1")).asList().contains("~foreign");
        assertThat(remove("alice", "c2")).isZero(); // the original still holds her
    }
}
