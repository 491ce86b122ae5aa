package dev.flock.redis;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.flock.FlockServer;
import dev.flock.support.Fleet;
import dev.flock.support.RedisExtension;
import dev.flock.support.RedisServer;
import dev.flock.support.TestCertificates;
import dev.flock.support.WsClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static dev.flock.support.WsClient.is;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Redis URLs as operators write them (issue 3): a password, an ACL user, a database index, TLS. The server runs with
 * {@code requirepass} and an ACL user, so nothing works without the right credentials.
 */
class RedisUrlTest {

    private static final String PASSWORD = "default-pw";
    private static final String WRONG = "Not-The-Password-42";
    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension(b -> b
            .args("--requirepass", PASSWORD, "--user", "alice", "on", ">secret", "~*", "&*", "+@all")
            .auth(null, PASSWORD));
    private RedisServer redis;
    private Fleet fleet;

    @BeforeEach
    void setUp() {
        redis = REDIS.server();
        redis.command("FLUSHALL");
        redis.command("CONFIG", "SET", "notify-keyspace-events", "");
    }

    @AfterEach
    void tearDown() {
        if (fleet != null) {
            fleet.close();
        }
    }

    private static JsonObject meta(String name) {
        return new JsonObject().put("name", name);
    }

    @Test
    void passwordAndDatabase_presenceLandsInThatDatabase_andInstancesSeeEachOther() {
        fleet = new Fleet("redis://:" + PASSWORD + "@127.0.0.1:" + redis.port() + "/2");
        FlockServer a = fleet.instance();
        FlockServer b = fleet.instance();
        WsClient alice = fleet.client(a);
        alice.joinAndAck("r", "alice", meta("Alice"));
        JsonObject ack = fleet.client(b).joinAndAck("r", "bob", meta("Bob"));
        assertThat(ack.getJsonArray("users").getJsonObject(0).getString("userId")).isEqualTo("alice");
        alice.await(is("user:joined", "r", "bob"));

        assertThat(redis.commandIn(2, "EXISTS", "flock:presence:r:alice", "flock:presence:r:bob")).isEqualTo(2L);
        assertThat(redis.commandIn(2, "SCARD", "flock:room:r:members")).isEqualTo(2L);
        assertThat(redis.commandIn(0, "EXISTS", "flock:presence:r:alice", "flock:room:r:members")).isEqualTo(0L);
        assertThat(pubsubChannels()).contains("__keyevent@2__:expired");
    }

    @Test
    void aclUserAndDatabase_expiredEventsOfThatDatabaseEvictAVanishedUser() {
        fleet = new Fleet("redis://alice:secret@127.0.0.1:" + redis.port() + "/3");
        // the sweep is made too slow to matter: only the expired-key events of database 3 can evict in time
        String[] env = {"FLOCK_PRESENCE_TTL_SECONDS", "2", "FLOCK_REDIS_SWEEP_INTERVAL_MS", "60000"};
        FlockServer a = fleet.instance(env);
        FlockServer b = fleet.instance(env);
        assertThat(redis.command("ACL", "WHOAMI")).isEqualTo("default");
        assertThat(pubsubChannels()).contains("__keyevent@3__:expired").doesNotContain("__keyevent@0__:expired");
        assertThat(redis.command("CONFIG", "GET", "notify-keyspace-events").toString()).contains("E").contains("x");

        WsClient watcher = fleet.client(a);
        watcher.joinAndAck("k", "watcher", meta("W"));
        WsClient gone = fleet.client(b);
        gone.joinAndAck("k", "gone", meta("G"));
        watcher.await(is("user:joined", "k", "gone"));
        assertThat(redis.commandIn(3, "EXISTS", "flock:presence:k:gone")).isEqualTo(1L);

        WsClient.await(b.stop()); // graceful: nothing announced, the presence in db 3 is left to expire
        Fleet.awaitTrue("the vanished user is evicted through db 3's expired events", Duration.ofSeconds(9),
                () -> {
                    watcher.heartbeat("k"); // the watcher keeps its own presence alive while it polls
                    return watcher.count(is("user:left", "k", "gone")) == 1;
                });
        assertThat(redis.commandIn(3, "SMEMBERS", "flock:room:k:members")).isEqualTo(List.of("watcher"));
    }

    @Test
    void wrongPassword_startsDegraded_readyNamesAuthentication_andNoSecretIsLogged() {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        root.addAppender(logs);
        try {
            fleet = new Fleet("redis://alice:" + WRONG + "@127.0.0.1:" + redis.port() + "/1");
            FlockServer a = fleet.instance();
            HttpResponse<String> ready = http(a.port(), "/ready");
            assertThat(ready.statusCode()).isEqualTo(503);
            // the body is generic (issue 21: no internal detail); the detail is in a.readiness().reason() and the log
            assertThat(ready.body()).contains("redis: unavailable").doesNotContain(WRONG);
            assertThat(a.readiness().reason()).containsIgnoringCase("authentication").doesNotContain(WRONG);
            assertThat(http(a.port(), "/health").statusCode()).isEqualTo(200);
            // local rooms work meanwhile
            WsClient x = fleet.client(a);
            x.joinAndAck("local", "x", meta("X"));
            fleet.client(a).joinAndAck("local", "y", meta("Y"));
            x.await(is("user:joined", "local", "y"));

            List<String> lines;
            synchronized (logs) {
                lines = logs.list.stream().map(e -> e.getFormattedMessage() + " " + java.util.Arrays.toString(e.getArgumentArray())
                        + (e.getThrowableProxy() == null ? "" : " " + e.getThrowableProxy().getMessage())).toList();
            }
            assertThat(lines).anyMatch(l -> l.toLowerCase().contains("authentication"));
            assertThat(lines).noneMatch(l -> l.contains(WRONG));
        } finally {
            root.detachAppender(logs);
        }
    }

    @Test
    void rediss_isAcceptedAndMeansTls_plainServerIsRefusedAsATlsFailure() {
        fleet = new Fleet("rediss://alice:secret@127.0.0.1:" + redis.port() + "/0");
        FlockServer a = fleet.instance();
        HttpResponse<String> ready = http(a.port(), "/ready");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.body()).doesNotContain("secret");
        assertThat(a.redis().connected()).isFalse();
        assertThat(a.readiness().reason()).contains("TLS");
    }

    @Test
    void rediss_againstATlsRedis_connectsWithTheJvmTrustStore_andHostnameVerification(@TempDir Path dir) {
        TestCertificates certs = TestCertificates.make(dir);
        int tlsPort = dev.flock.support.JarProcess.freePort();
        List<String> args = new java.util.ArrayList<>(List.of("--tls-port", Integer.toString(tlsPort)));
        args.addAll(List.of(certs.serverArgs()));
        RedisServer tls = RedisServer.builder().args(args.toArray(String[]::new)).build();
        try {
            tls.start();
            certs.trusted(() -> {
                fleet = new Fleet("rediss://127.0.0.1:" + tlsPort + "/4");
                FlockServer a = fleet.instance();
                assertThat(a.redis().connected()).isTrue();
                fleet.client(a).joinAndAck("t", "alice", meta("A"));
                assertThat(tls.commandIn(4, "EXISTS", "flock:presence:t:alice")).isEqualTo(1L);
            });
        } finally {
            if (fleet != null) {
                fleet.close();
                fleet = null;
            }
            tls.close();
        }
    }

    private String pubsubChannels() {
        return String.valueOf(redis.command("PUBSUB", "CHANNELS", "__keyevent*"));
    }

    private static HttpResponse<String> http(int port, String path) {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
