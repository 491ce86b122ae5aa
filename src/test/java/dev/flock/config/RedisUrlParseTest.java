package dev.flock.config;

import io.vertx.redis.client.impl.RedisURI;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code FLOCK_REDIS_URL} checks (issue 21, item 5): every bad case names its own problem, never the password,
 * and what passes is what the Vert.x Redis client (its {@code RedisURI}) reads, after Flock resolves a host with '_'.
 */
class RedisUrlParseTest {

    private static final String PW = "S3cr3t-Pw";

    private static void refused(String url, String problem) {
        assertThatThrownBy(() -> FlockConfig.fromEnv(Map.of("FLOCK_REDIS_URL", url)))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("FLOCK_REDIS_URL")
                .hasMessageContaining(problem)
                .hasMessageNotContaining(PW);
    }

    @Test
    void composeServiceNameWithUnderscore_isAccepted_andResolvedBeforeTheClientSeesIt() {
        RedisUrl u = RedisUrl.parse("redis://:" + PW + "@my_redis:6379/0");
        assertThat(u.host()).isEqualTo("my_redis");
        assertThat(u.needsResolving()).isTrue();
        assertThat(FlockConfig.fromEnv(Map.of("FLOCK_REDIS_URL", "redis://:" + PW + "@my_redis:6379/0")).redisEnabled()).isTrue();
        // the client itself refuses the name (java.net.URI), which is why Flock resolves it first
        assertThatThrownBy(() -> new RedisURI("redis://:" + PW + "@my_redis:6379/0")).isInstanceOf(IllegalArgumentException.class);
        RedisURI client = new RedisURI(u.clientUrl("10.0.0.7"));
        assertThat(client.socketAddress().host()).isEqualTo("10.0.0.7");
        assertThat(client.socketAddress().port()).isEqualTo(6379);
        assertThat(client.password()).isEqualTo(PW);
        assertThat(client.select()).isZero();
        assertThat(new RedisURI(u.clientUrl("::1")).socketAddress().host()).contains("::1");
    }

    @Test
    void whatPasses_theRedisClientReadsTheSame() {
        for (String url : new String[]{"redis://127.0.0.1", "redis://redis:6380/3", "rediss://alice:" + PW + "@redis.example.com:6380/15",
                "redis://:" + PW + "@host", "redis://[::1]:6379/1", "redis://:p%40ss@h:1/0", "redis://h:/"}) {
            RedisUrl u = RedisUrl.parse(url);
            assertThat(u.needsResolving()).as(url).isFalse();
            RedisURI client = new RedisURI(url);
            assertThat(client.socketAddress().port()).as(url).isEqualTo(u.port());
            assertThat(client.select() == null ? 0 : client.select()).as(url).isEqualTo(u.db());
            assertThat(client.ssl()).as(url).isEqualTo(u.tls());
        }
    }

    @Test
    void namesJavaNetUriRefuses_withoutAnUnderscore_areResolvedToo_andATrailingDotIsAName() {
        // "redis-1.svc.0": its last label starts with a digit, so java.net.URI (and so the client) refuses it
        assertThatThrownBy(() -> new RedisURI("redis://redis-1.svc.0:6379")).isInstanceOf(IllegalArgumentException.class);
        assertThat(RedisUrl.parse("redis://redis-1.svc.0:6379").needsResolving()).isTrue();
        RedisUrl dotted = RedisUrl.parse("redis://redis.example.com.:6379/2");
        assertThat(dotted.needsResolving()).isFalse();
        assertThat(new RedisURI("redis://redis.example.com.:6379/2").socketAddress().host()).isEqualTo("redis.example.com.");
    }

    @Test
    void eachBadCase_namesItsProblem() {
        refused("http://:" + PW + "@host:6379", "must start with redis://, rediss://, redis-sentinel://, rediss-sentinel://, redis-cluster:// or rediss-cluster:// (got scheme \"http\")");
        refused("host:6379", "must start with redis://");
        refused("REDIS://host", "must start with redis://");
        refused("redis://:" + PW + "@host:99999/0", "port must be 1..65535");
        refused("redis://:" + PW + "@host:0/0", "port must be 1..65535");
        refused("redis://:" + PW + "@host:abc/0", "port must be 1..65535");
        refused("redis://default:" + PW, "port must be 1..65535"); // forgot "@host": the password is no port, and not shown
        refused("redis://:" + PW + "@/0", "has no host");
        refused("redis://:" + PW + "@:6379", "has no host");
        refused("redis://", "has no host");
        refused("redis://:" + PW + "@host:6379/abc", "bad database");
        refused("redis://:" + PW + "@host:6379/100", "bad database");
        refused("redis://:" + PW + "@host/0/1", "bad database");
        refused("redis://:" + PW + "@host:6379?db=2", "query");
        refused("redis://:pa#" + PW + "@host", "'#'");
        refused("redis://:p@" + PW + "@host", "%40");
        refused("redis://:" + PW + "@ho$t", "host that is not a valid name");
        refused("redis://:" + PW + "@[::1:6379", "IPv6");
        refused("rediss://:" + PW + "@my_redis:6380", "TLS");
        refused("redis://:" + PW + "%zz@host", "percent-encoded");
        refused("redis://:a+" + PW + "@host", "%2B"); // the client would authenticate with "a " + the rest
        assertThat(new RedisURI("redis://:a+b@host").password()).as("why '+' is refused").isEqualTo("a b");
        assertThat(new RedisURI("redis://:a%2Bb@host").password()).isEqualTo("a+b");
    }

    @Test
    void masked_hidesThePasswordOnly() {
        assertThat(RedisUrl.parse("redis://:" + PW + "@my_redis:6379/2").masked()).isEqualTo("redis://:***@my_redis:6379/2");
        assertThat(RedisUrl.parse("rediss://alice:" + PW + "@r.example.com").masked()).isEqualTo("rediss://alice:***@r.example.com:6379/0");
        assertThat(RedisUrl.parse("redis://127.0.0.1").masked()).isEqualTo("redis://127.0.0.1:6379/0");
    }

    @Test
    void sentinelUrl_listsTheSentinels_namesTheMasterSet_andEachEndpointReadsTheSameInTheClient() {
        RedisUrl u = RedisUrl.parse("redis-sentinel://alice:" + PW + "@s1.example.com:26380,s2,[::1]:26381/mymaster");
        assertThat(u.kind()).isEqualTo(RedisUrl.Kind.SENTINEL);
        assertThat(u.masterName()).isEqualTo("mymaster");
        assertThat(u.db()).isZero();
        assertThat(u.endpoints()).containsExactly(new RedisUrl.Endpoint("s1.example.com", 26380),
                new RedisUrl.Endpoint("s2", 26379), new RedisUrl.Endpoint("[::1]", 26381));
        for (RedisUrl.Endpoint e : u.endpoints()) { // what the client gets for each sentinel: credentials go along
            RedisURI client = new RedisURI(u.clientUrl(e.host(), e.port()));
            assertThat(client.socketAddress().port()).isEqualTo(e.port());
            assertThat(client.user()).isEqualTo("alice");
            assertThat(client.password()).isEqualTo(PW);
        }
        RedisUrl withDb = RedisUrl.parse("redis-sentinel://10.0.0.1/cache.primary-1/3");
        assertThat(withDb.masterName()).isEqualTo("cache.primary-1");
        assertThat(withDb.db()).isEqualTo(3);
        assertThat(new RedisURI(withDb.clientUrl("10.0.0.1", 26379)).select()).isEqualTo(3);
        assertThat(RedisUrl.parse("redis-sentinel://s_1:26379,s2/m").needsResolving()).isTrue();
        assertThat(FlockConfig.fromEnv(Map.of("FLOCK_REDIS_URL", "redis-sentinel://s1,s2,s3/mymaster")).redisEnabled()).isTrue();
    }

    @Test
    void sentinelUrl_badCases_nameTheirProblem_neverThePassword() {
        refused("redis-sentinel://:" + PW + "@s1,s2", "names no master set");
        refused("redis-sentinel://:" + PW + "@s1,s2/", "names no master set");
        refused("redis-sentinel://:" + PW + "@s1,,s2/mymaster", "empty entry");
        refused("redis-sentinel://:" + PW + "@s1,/mymaster", "empty entry");
        refused("redis-sentinel://:" + PW + "@/mymaster", "has no sentinel");
        refused("redis-sentinel://:" + PW + "@s1/my$master", "master name that is not one");
        refused("redis-sentinel://:" + PW + "@s1/mymaster/x", "bad database");
        refused("redis-sentinel://:" + PW + "@s1:0/mymaster", "port must be 1..65535");
        refused("rediss-sentinel://:" + PW + "@s_1/mymaster", "TLS hostname verification");
        refused("redis://:" + PW + "@h1,h2:6379", "only redis-sentinel:// and redis-cluster:// take");
    }

    @Test
    void sentinelUrl_masked_hidesThePasswordOnly() {
        assertThat(RedisUrl.parse("redis-sentinel://alice:" + PW + "@s1,s2:26380/mymaster").masked())
                .isEqualTo("redis-sentinel://alice:***@s1:26379,s2:26380/mymaster/0");
        RedisUrl tls = RedisUrl.parse("rediss-sentinel://:" + PW + "@s1/mymaster/2");
        assertThat(tls.masked()).isEqualTo("rediss-sentinel://:***@s1:26379/mymaster/2");
        assertThat(tls.tls()).isTrue();
        assertThat(new RedisURI(tls.clientUrl("s1", 26379)).ssl()).as("the client speaks TLS to the sentinels").isTrue();
    }

    @Test
    void clusterUrl_listsTheSeedNodes_database0Only_masked() {
        RedisUrl u = RedisUrl.parse("redis-cluster://alice:" + PW + "@n1.example.com:7000,n2,[::1]:7002");
        assertThat(u.kind()).isEqualTo(RedisUrl.Kind.CLUSTER);
        assertThat(u.endpoints()).containsExactly(new RedisUrl.Endpoint("n1.example.com", 7000),
                new RedisUrl.Endpoint("n2", 6379), new RedisUrl.Endpoint("[::1]", 7002));
        assertThat(u.db()).isZero();
        assertThat(RedisUrl.parse("redis-cluster://n1/0").db()).isZero();
        assertThat(RedisUrl.parse("rediss-cluster://n1:7000").tls()).isTrue();
        assertThat(u.masked()).isEqualTo("redis-cluster://alice:***@n1.example.com:7000,n2:6379,[::1]:7002");
        RedisURI client = new RedisURI(u.clientUrl("n1.example.com", 7000));
        assertThat(client.user()).isEqualTo("alice");
        assertThat(client.password()).isEqualTo(PW);
        refused("redis-cluster://:" + PW + "@n1,n2/3", "database 0 only");
        refused("redis-cluster://:" + PW + "@n1,,n2", "empty entry");
        refused("redis-cluster://:" + PW + "@", "has no cluster node");
        refused("redis-cluster://:" + PW + "@n1:99999", "port must be 1..65535");
    }
}
