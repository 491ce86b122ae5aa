package dev.flock.identity;

import dev.flock.FlockServer;
import dev.flock.support.Fleet;
import dev.flock.support.HttpCalls;
import dev.flock.support.RawHttp;
import dev.flock.support.SdkLikeClient;
import dev.flock.support.TestServers;
import dev.flock.support.Tokens;
import dev.flock.support.VirtualClock;
import dev.flock.support.WsClient;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.security.KeyPair;
import java.time.Duration;
import java.util.Map;

import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.type;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Signed identity (issue 18) over real sockets: tokens signed in the test (HS256, RS256, PS256, ES256) at the
 * upgrade, and what a verified token allows and forbids afterwards. Time is the server's {@link VirtualClock}.
 */
@ExtendWith(VertxExtension.class)
class SignedIdentityTest {

    private final VirtualClock clock = new VirtualClock();

    private FlockServer hs(Vertx vertx, String... more) {
        String[] env = new String[more.length + 4];
        env[0] = "FLOCK_AUTH";
        env[1] = "required";
        env[2] = "FLOCK_JWT_SECRET";
        env[3] = Tokens.SECRET;
        System.arraycopy(more, 0, env, 4, more.length);
        return TestServers.start(vertx, clock, env);
    }

    private JsonObject claims(String sub) {
        return Tokens.claims(sub, clock.millis());
    }

    private static WsClient connect(Vertx vertx, FlockServer server, String token) {
        return WsClient.connect(vertx, server.port(), "/?token=" + token);
    }

    /** An upgrade request over a raw socket, so the 401's body can be read. */
    private static RawHttp.Response upgrade(FlockServer server, String uri, String... headerLines) {
        try (RawHttp http = RawHttp.open(server.port())) {
            StringBuilder req = new StringBuilder("GET " + uri + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
            for (String h : headerLines) {
                req.append(h).append("\r\n");
            }
            return http.write(req.append("\r\n").toString()).readResponse();
        }
    }

    private static void assertRefused(FlockServer server, String token, String reason) {
        RawHttp.Response r = upgrade(server, "/?token=" + token);
        assertThat(r.status()).as(r.toString()).isEqualTo(401);
        assertThat(r.header("content-type")).startsWith("application/json");
        String body = r.bodyText();
        assertThat(body).endsWith("\n");
        assertThat(body.trim()).doesNotContain("\n"); // one line
        JsonObject json = new JsonObject(body);
        assertThat(json.getString("error")).isEqualTo("UNAUTHORIZED");
        assertThat(json.getString("reason")).isEqualTo(reason);
        assertThat(json.getString("message")).isNotBlank();
    }

    private static double auth(FlockServer server, String result) {
        Counter c = server.metrics().registry().find("flock.auth").tag("result", result).counter();
        return c == null ? -1 : c.count();
    }

    // ---- the upgrade ------------------------------------------------------------------------------------------

    @Test
    void validHs256_inTheUrl_orAsBearer_opensASocketForItsUser(Vertx vertx) {
        FlockServer server = hs(vertx);
        String token = Tokens.hs256(claims("alice"));
        try (WsClient a = connect(vertx, server, token)) {
            a.joinAndAck("doc", "alice", new JsonObject());
        }
        WebSocketConnectOptions bearer = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(server.port()).setURI("/")
                .addHeader("Authorization", "Bearer " + token);
        try (WsClient a = WsClient.connect(vertx, bearer)) {
            a.joinAndAck("doc", "alice", new JsonObject());
        }
        assertThat(auth(server, "accepted")).isEqualTo(2);
        assertThat(auth(server, "bad_signature")).isZero(); // every reason is registered from the start
    }

    @Test
    void aFloodOfForgedTokensFromOneAddress_isRefusedUncheckedAfterTwenty_with429AndRetryAfter_butKnownTokensAndOtherAddressesAreNot(
            Vertx vertx) {
        FlockServer server = hs(vertx, "FLOCK_TRUST_PROXY", "true");
        String known = Tokens.hs256(claims("bob"));
        assertThat(upgrade(server, "/?token=" + known, "X-Forwarded-For: 203.0.113.7").status()).isEqualTo(101);
        String forged = Tokens.hs("HS256", "a-different-secret-of-at-least-thirty-two-bytes", claims("mallory"));
        for (int i = 0; i < UpgradeAuth.FREE_BAD_SIGNATURES + 1; i++) {
            RawHttp.Response r = upgrade(server, "/?token=" + forged, "X-Forwarded-For: 203.0.113.7");
            assertThat(r.status()).as("forged token %d", i + 1).isEqualTo(401);
        }
        // a good token not seen before is refused now, without its signature being checked
        String good = Tokens.hs256(claims("alice"));
        RawHttp.Response locked = upgrade(server, "/?token=" + good, "X-Forwarded-For: 203.0.113.7");
        assertThat(locked.status()).as(locked.toString()).isEqualTo(429);
        assertThat(locked.header("retry-after")).isEqualTo("2");
        assertThat(new JsonObject(locked.bodyText()).getString("reason")).isEqualTo("throttled");
        assertThat(auth(server, "throttled")).isEqualTo(1);
        assertThat(auth(server, "bad_signature")).isEqualTo(UpgradeAuth.FREE_BAD_SIGNATURES + 1);
        // a token that verified before costs no check and still gets through (a NAT's other users); so does another address
        assertThat(upgrade(server, "/?token=" + known, "X-Forwarded-For: 203.0.113.7").status()).isEqualTo(101);
        assertThat(upgrade(server, "/?token=" + good, "X-Forwarded-For: 198.51.100.1").status()).isEqualTo(101);

        clock.advance(java.time.Duration.ofSeconds(2));
        assertThat(upgrade(server, "/?token=" + good, "X-Forwarded-For: 203.0.113.7").status())
                .as("the lockout is over").isEqualTo(101);
    }

    @Test
    void hs384AndHs512_needASecretAsLongAsTheirHash(Vertx vertx) {
        String longSecret = "x".repeat(64);
        FlockServer server = hs(vertx, "FLOCK_JWT_SECRET", longSecret);
        for (String alg : new String[]{"HS256", "HS384", "HS512"}) {
            try (WsClient a = connect(vertx, server, Tokens.hs(alg, longSecret, claims("alice")))) {
                a.joinAndAck("doc", "alice", new JsonObject());
            }
        }
        FlockServer shortSecret = hs(vertx); // 43 bytes: HS256 only
        assertRefused(shortSecret, Tokens.hs("HS384", Tokens.SECRET, claims("alice")), "unsupported_algorithm");
        assertRefused(shortSecret, Tokens.hs("HS512", Tokens.SECRET, claims("alice")), "unsupported_algorithm");
    }

    @Test
    void aQueryThatDoesNotDecode_is400_andNeitherTokenNorKeyIsLogged(Vertx vertx) {
        FlockServer server = hs(vertx, "FLOCK_AUTH", "optional", "FLOCK_API_KEYS", "the-api-key");
        String token = Tokens.hs256(claims("u"));
        try (dev.flock.support.LogCapture log = dev.flock.support.LogCapture.all()) {
            for (String query : new String[]{"?token=" + token + "&x=%", "?apiKey=the-api-key&x=%zz", "?%"}) {
                RawHttp.Response r = upgrade(server, "/" + query);
                assertThat(r.status()).as(query).isEqualTo(400);
                JsonObject body = new JsonObject(r.bodyText());
                assertThat(body.getString("error")).isEqualTo("BAD_REQUEST");
                assertThat(r.bodyText()).doesNotContain(token).doesNotContain("the-api-key");
            }
            try (WsClient c = connect(vertx, server, token)) { // the server is fine afterwards
                c.joinAndAck("doc", "u", new JsonObject());
            }
            for (var event : log.atLeast(ch.qos.logback.classic.Level.TRACE)) {
                String text = event.getFormattedMessage() + (event.getThrowableProxy() == null ? "" : event.getThrowableProxy().getMessage());
                assertThat(text).doesNotContain(token.substring(token.lastIndexOf('.'))).doesNotContain("the-api-key");
            }
        }
    }

    @Test
    void rs256Ps256AndEs256_verifyWithTheirPublicKeys_twoKeysForRotation(Vertx vertx) {
        KeyPair oldRsa = Tokens.rsa();
        KeyPair newRsa = Tokens.rsa();
        KeyPair ec = Tokens.ec("secp256r1");
        FlockServer server = TestServers.start(vertx, clock, "FLOCK_AUTH", "required", "FLOCK_JWT_PUBLIC_KEYS",
                Tokens.pem(oldRsa.getPublic()) + Tokens.pem(newRsa.getPublic()) + Tokens.pem(ec.getPublic()));
        for (String token : new String[]{Tokens.rs256(oldRsa.getPrivate(), claims("u")), Tokens.rs256(newRsa.getPrivate(), claims("u")),
                Tokens.ps256(newRsa.getPrivate(), claims("u")), Tokens.es256(ec.getPrivate(), claims("u"))}) {
            try (WsClient c = connect(vertx, server, token)) {
                c.joinAndAck("doc", "u", new JsonObject());
            }
        }
        KeyPair stranger = Tokens.rsa();
        assertRefused(server, Tokens.rs256(stranger.getPrivate(), claims("u")), "bad_signature");
        assertRefused(server, Tokens.es256(Tokens.ec("secp256r1").getPrivate(), claims("u")), "bad_signature");
        // an HS token whose "secret" is the server's public key: no HS key exists here, so no confusion
        byte[] pemAsSecret = Tokens.pem(newRsa.getPublic()).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        assertRefused(server, Tokens.hmac("HS256", pemAsSecret, claims("u")), "unsupported_algorithm");
        assertRefused(server, Tokens.hmac("HS256", newRsa.getPublic().getEncoded(), claims("u")), "unsupported_algorithm");
        assertRefused(server, Tokens.none(claims("u")), "unsupported_algorithm");
    }

    @Test
    void everyInvalidToken_is401WithItsReason_beforeAnySocketExists(Vertx vertx) {
        FlockServer server = hs(vertx, "FLOCK_JWT_ISSUER", "https://app.example", "FLOCK_JWT_AUDIENCE", "flock",
                "FLOCK_JWT_LEEWAY_SECONDS", "30");
        long now = clock.millis() / 1000;
        JsonObject good = claims("u").put("iss", "https://app.example").put("aud", new JsonArray().add("other").add("flock"));
        try (WsClient c = connect(vertx, server, Tokens.hs256(good))) {
            c.joinAndAck("doc", "u", new JsonObject());
        }
        assertRefused(server, Tokens.tampered(Tokens.hs256(good), good.copy().put("sub", "admin")), "bad_signature");
        assertRefused(server, Tokens.hs("HS256", "another-secret-that-is-long-enough-1234", good), "bad_signature");
        assertRefused(server, Tokens.hs256(good.copy().put("exp", now - 31)), "expired");
        assertRefused(server, Tokens.hs256(good.copy().put("nbf", now + 31)), "not_yet_valid");
        assertRefused(server, Tokens.hs256(good.copy().put("iss", "https://evil.example")), "wrong_issuer");
        JsonObject noIss = good.copy();
        noIss.remove("iss");
        assertRefused(server, Tokens.hs256(noIss), "wrong_issuer");
        assertRefused(server, Tokens.hs256(good.copy().put("aud", "someone-else")), "wrong_audience");
        assertRefused(server, Tokens.none(good), "unsupported_algorithm");
        assertRefused(server, Tokens.hs256(good).substring(0, Tokens.hs256(good).lastIndexOf('.') + 1), "malformed");
        String noneWithSignature = Tokens.none(good) + "c2ln";
        assertRefused(server, noneWithSignature, "unsupported_algorithm");
        assertRefused(server, "not-a-jwt", "malformed");
        assertRefused(server, "a.b.c", "malformed");
        assertRefused(server, Tokens.hs256(good.copy().put("sub", 42)), "invalid_claims");
        assertRefused(server, Tokens.hs256(good.copy().put("sub", "")), "invalid_claims");
        assertRefused(server, Tokens.hs256(good.copy().put("rooms", "doc:1")), "invalid_claims");
        assertRefused(server, Tokens.hs256(good.copy().put("meta", "Alice")), "invalid_claims");
        assertRefused(server, Tokens.hs256(good.copy().put("exp", "tomorrow")), "invalid_claims");
        JsonObject noSub = good.copy();
        noSub.remove("sub");
        assertRefused(server, Tokens.hs256(noSub), "invalid_claims");
        // within the leeway both ways: accepted
        try (WsClient c = connect(vertx, server, Tokens.hs256(good.copy().put("exp", now - 29).put("nbf", now + 29)))) {
            c.joinAndAck("doc", "u", new JsonObject());
        }
        assertThat(auth(server, "accepted")).isEqualTo(2);
        assertThat(auth(server, "bad_signature")).isEqualTo(2);
        assertThat(auth(server, "malformed")).isEqualTo(3);
    }

    @Test
    void required_noToken_is401Missing_andAWrongBearerIsNotSilentlyIgnored(Vertx vertx) {
        FlockServer server = hs(vertx);
        RawHttp.Response r = upgrade(server, "/");
        assertThat(r.status()).isEqualTo(401);
        assertThat(new JsonObject(r.bodyText()).getString("reason")).isEqualTo("missing");
        RawHttp.Response bearer = upgrade(server, "/", "Authorization: Bearer " + Tokens.hs256(claims("u").put("exp", 1)));
        assertThat(new JsonObject(bearer.bodyText()).getString("reason")).isEqualTo("expired");
        assertThat(auth(server, "missing")).isEqualTo(1);
    }

    @Test
    void optional_anonymousIsAsToday_butAPresentInvalidTokenIs401(Vertx vertx) {
        FlockServer server = hs(vertx, "FLOCK_AUTH", "optional");
        try (WsClient anon = WsClient.connect(vertx, server.port())) {
            anon.joinAndAck("doc", "anyone", new JsonObject().put("name", "Whoever"));
        }
        assertRefused(server, Tokens.hs256(claims("u").put("exp", 1)), "expired");
        try (WsClient verified = connect(vertx, server, Tokens.hs256(claims("u")))) {
            verified.joinAndAck("doc", "u", new JsonObject());
        }
    }

    @Test
    void off_tokensAreNotRead(Vertx vertx) {
        FlockServer server = TestServers.start(vertx, clock);
        try (WsClient c = connect(vertx, server, "garbage")) {
            c.joinAndAck("doc", "whoever", new JsonObject());
        }
        assertThat(auth(server, "accepted")).isEqualTo(-1); // no auth series at all when off
    }

    @Test
    void withApiKeys_aValidTokenOrAValidKeyIsEnough(Vertx vertx) {
        FlockServer server = hs(vertx, "FLOCK_AUTH", "optional", "FLOCK_API_KEYS", "k1");
        try (WsClient verified = connect(vertx, server, Tokens.hs256(claims("u")))) {
            verified.joinAndAck("doc", "u", new JsonObject()); // no apiKey anywhere
        }
        try (WsClient keyed = WsClient.connect(vertx, server.port(), "/?apiKey=k1")) {
            keyed.joinAndAck("doc", "v", new JsonObject());
        }
        assertThat(upgrade(server, "/?apiKey=wrong").status()).isEqualTo(401);
        try (WsClient neither = WsClient.connect(vertx, server.port())) {
            neither.join("doc", "w", new JsonObject());
            assertThat(neither.await(m -> type(m, "error")).getString("code")).isEqualTo("INVALID_API_KEY");
            assertThat(neither.awaitClose()).isEqualTo(1008);
        }
        FlockServer required = hs(vertx, "FLOCK_API_KEYS", "k1");
        assertThat(new JsonObject(upgrade(required, "/?apiKey=k1").bodyText()).getString("reason")).isEqualTo("missing");
    }

    // ---- what the token allows --------------------------------------------------------------------------------

    @Test
    void aJoinAsAnotherUser_isForbiddenForThatRoom_andTheSocketStays(Vertx vertx) {
        FlockServer server = hs(vertx);
        try (WsClient a = connect(vertx, server, Tokens.hs256(claims("alice")))) {
            a.join("doc", "bob", new JsonObject());
            JsonObject error = a.await(m -> type(m, "error"));
            assertThat(error.getString("code")).isEqualTo("FORBIDDEN");
            assertThat(error.getString("roomId")).isEqualTo("doc");
            a.joinAndAck("doc", "alice", new JsonObject()); // same socket, now as itself
            int from = a.size();
            a.join("doc", "bob", new JsonObject()); // switching user on an admitted slot: refused, stays alice
            assertThat(a.awaitFrom(from, m -> type(m, "error")).getString("code")).isEqualTo("FORBIDDEN");
            try (WsClient watcher = connect(vertx, server, Tokens.hs256(claims("carol")))) {
                JsonObject ack = watcher.joinAndAck("doc", "carol", new JsonObject());
                assertThat(ack.getJsonArray("users").stream().map(u -> ((JsonObject) u).getString("userId"))).containsExactly("alice");
            }
            assertThat(a.isClosed()).isFalse();
        }
    }

    @Test
    void rooms_grantsExactIdsAndTrailingStarPatterns_only(Vertx vertx) {
        FlockServer server = hs(vertx);
        String token = Tokens.hs256(claims("u").put("rooms", new JsonArray().add("doc:42").add("team:7:*")));
        try (WsClient c = connect(vertx, server, token)) {
            c.joinAndAck("doc:42", "u", new JsonObject());
            c.joinAndAck("team:7:board", "u", new JsonObject());
            c.joinAndAck("team:7:", "u", new JsonObject());
            for (String denied : new String[]{"doc:420", "doc:4", "team:8:board", "team:7", "other"}) {
                int from = c.size();
                c.join(denied, "u", new JsonObject());
                JsonObject error = c.awaitFrom(from, m -> type(m, "error"));
                assertThat(error.getString("code")).isEqualTo("FORBIDDEN");
                assertThat(error.getString("roomId")).isEqualTo(denied);
            }
            assertThat(c.count(m -> type(m, "join:ack"))).isEqualTo(3);
        }
    }

    @Test
    void meta_isMergedOverTheJoin_seenByOthers_andNoPatchChangesIt(Vertx vertx) {
        FlockServer server = hs(vertx);
        JsonObject meta = new JsonObject().put("name", "Alice Verified").put("avatar", "https://img.example/a.png");
        try (WsClient watcher = connect(vertx, server, Tokens.hs256(claims("watcher")));
             WsClient alice = connect(vertx, server, Tokens.hs256(claims("alice").put("meta", meta)))) {
            watcher.joinAndAck("doc", "watcher", new JsonObject());
            alice.joinAndAck("doc", "alice", new JsonObject().put("name", "Mallory").put("color", "#ff0000"));
            JsonObject joined = watcher.await(is("user:joined", "doc", "alice"));
            assertThat(joined.getJsonObject("metadata").getMap()).containsEntry("name", "Alice Verified")
                    .containsEntry("avatar", "https://img.example/a.png").containsEntry("color", "#ff0000");

            alice.send(new JsonObject().put("type", "presence:update").put("roomId", "doc")
                    .put("metadata", new JsonObject().put("name", "Mallory").put("avatar", (String) null)));
            alice.send(new JsonObject().put("type", "presence:update").put("roomId", "doc")
                    .put("metadata", new JsonObject().put("name", "Mallory").put("status", "away")));
            JsonObject patch = watcher.await(is("presence:updated", "doc", "alice"));
            assertThat(patch.getJsonObject("metadata").getMap()).containsOnlyKeys("status");
            assertThat(watcher.count(is("presence:updated", "doc", "alice"))).isEqualTo(1);

            try (WsClient late = connect(vertx, server, Tokens.hs256(claims("late")))) {
                JsonObject ack = late.joinAndAck("doc", "late", new JsonObject());
                JsonObject aliceThere = ack.getJsonArray("users").stream().map(JsonObject.class::cast)
                        .filter(u -> "alice".equals(u.getString("userId"))).findFirst().orElseThrow();
                assertThat(aliceThere.getJsonObject("metadata").getMap()).containsEntry("name", "Alice Verified")
                        .containsEntry("avatar", "https://img.example/a.png").containsEntry("status", "away");
            }
        }
    }

    @Test
    void readonly_presentAndReceiving_butCursorAndPresenceAreDroppedWithOneForbiddenPerSecond(Vertx vertx) {
        FlockServer server = hs(vertx);
        try (WsClient writer = connect(vertx, server, Tokens.hs256(claims("writer")));
             WsClient viewer = connect(vertx, server, Tokens.hs256(claims("viewer").put("readonly", new JsonArray().add("view:*"))))) {
            writer.joinAndAck("view:1", "writer", new JsonObject());
            viewer.joinAndAck("view:1", "viewer", new JsonObject());
            writer.await(is("user:joined", "view:1", "viewer"));
            writer.move("view:1", 0.5, 0.5);
            viewer.await(is("cursor:updated", "view:1", "writer")); // it receives everything

            for (int i = 0; i < 5; i++) {
                viewer.move("view:1", 0.1 * i, 0.2);
            }
            viewer.send(new JsonObject().put("type", "presence:update").put("roomId", "view:1").put("metadata", new JsonObject().put("s", 1)));
            viewer.send(new JsonObject().put("type", "cursor:leave").put("roomId", "view:1"));
            viewer.heartbeat("view:1");
            viewer.await(m -> type(m, "heartbeat:ack"));
            assertThat(viewer.count(m -> type(m, "error") && "FORBIDDEN".equals(m.getString("code"))
                    && "view:1".equals(m.getString("roomId")))).isEqualTo(1);
            clock.advance(Duration.ofMillis(1000));
            viewer.move("view:1", 0.9, 0.9);
            viewer.await(m -> viewer.count(x -> type(x, "error")) == 2);
            viewer.leave("view:1"); // relayed after the dropped messages, by the same room: a marker
            writer.await(is("user:left", "view:1", "viewer"));
            assertThat(writer.count(is("cursor:updated", "view:1", "viewer"))).isZero();
            assertThat(writer.count(is("presence:updated", "view:1", "viewer"))).isZero();
            assertThat(writer.count(is("cursor:removed", "view:1", "viewer"))).isZero();
            assertThat(viewer.isClosed()).isFalse();
        }
    }

    @Test
    void readonly_aSecondJoinKeepsTheFirstMetadata(Vertx vertx) {
        FlockServer server = hs(vertx);
        try (WsClient writer = connect(vertx, server, Tokens.hs256(claims("writer")));
             WsClient viewer = connect(vertx, server, Tokens.hs256(claims("viewer").put("readonly", new JsonArray().add("view"))))) {
            writer.joinAndAck("view", "writer", new JsonObject());
            viewer.joinAndAck("view", "viewer", new JsonObject().put("name", "first"));
            writer.await(is("user:joined", "view", "viewer"));
            viewer.joinAndAck("view", "viewer", new JsonObject().put("name", "second").put("status", "x"));
            viewer.leave("view"); // the marker: relayed after whatever the second join made the room say
            writer.await(is("user:left", "view", "viewer"));
            assertThat(writer.count(is("presence:updated", "view", "viewer"))).isZero();
        }
    }

    @Test
    void aSocketWhoseJoinsAreAllRefused_isClosedByTheJoinTimeout(Vertx vertx) {
        FlockServer server = hs(vertx, "FLOCK_JOIN_TIMEOUT_SECONDS", "30");
        try (WsClient c = connect(vertx, server, Tokens.hs256(claims("u").put("rooms", new JsonArray().add("mine"))))) {
            c.join("not-mine", "u", new JsonObject());
            c.await(m -> type(m, "error"));
            clock.advance(Duration.ofSeconds(32));
            assertThat(c.awaitClose()).isEqualTo(1008);
        }
    }

    @Test
    void aPatchOfOnlyAssertedKeys_stillReadmitsAnExpiredRoom(Vertx vertx) {
        FlockServer server = hs(vertx, "FLOCK_PRESENCE_TTL_SECONDS", "10", "FLOCK_JOIN_TIMEOUT_SECONDS", "3600");
        try (WsClient u = connect(vertx, server, Tokens.hs256(claims("u").put("meta", new JsonObject().put("name", "U"))))) {
            u.joinAndAck("doc", "u", new JsonObject());
            clock.advance(Duration.ofSeconds(12)); // no message for the room: the TTL expires it
            int from = u.size();
            u.send(new JsonObject().put("type", "presence:update").put("roomId", "doc").put("metadata", new JsonObject().put("name", "x")));
            u.awaitFrom(from, m -> type(m, "join:ack") && "doc".equals(m.getString("roomId")));
        }
    }

    @Test
    void anExpiredToken_keepsItsRooms_butNewJoinsGetTokenExpired_andNothingCloses(Vertx vertx) {
        FlockServer server = hs(vertx, "FLOCK_JWT_LEEWAY_SECONDS", "0", "FLOCK_PRESENCE_TTL_SECONDS", "3600",
                "FLOCK_JOIN_TIMEOUT_SECONDS", "3600");
        try (WsClient u = connect(vertx, server, Tokens.hs256(claims("u").put("exp", clock.millis() / 1000 + 10)));
             WsClient other = connect(vertx, server, Tokens.hs256(claims("other").put("exp", clock.millis() / 1000 + 7200)))) {
            u.joinAndAck("a", "u", new JsonObject());
            clock.advance(Duration.ofSeconds(11));
            u.join("b", "u", new JsonObject());
            JsonObject error = u.await(m -> type(m, "error"));
            assertThat(error.getString("code")).isEqualTo("TOKEN_EXPIRED");
            assertThat(error.getString("roomId")).isEqualTo("b");
            u.joinAndAck("a", "u", new JsonObject()); // a room it holds: kept
            JsonObject ack = other.joinAndAck("a", "other", new JsonObject());
            assertThat(ack.getJsonArray("users").stream().map(x -> ((JsonObject) x).getString("userId"))).containsExactly("u");
            u.move("a", 0.3, 0.3);
            other.await(is("cursor:updated", "a", "u"));
            assertThat(u.isClosed()).isFalse();
        }
    }

    @Test
    void anSdkRefusedARoomByItsToken_neverReconnects(Vertx vertx) throws InterruptedException {
        FlockServer server = hs(vertx);
        String token = Tokens.hs256(claims("u").put("rooms", new JsonArray().add("open")));
        try (WsClient watcher = connect(vertx, server, Tokens.hs256(claims("w")))) {
            watcher.joinAndAck("open", "w", new JsonObject());
            SdkLikeClient sdk = new SdkLikeClient(vertx, server.port(), "/?token=" + token)
                    .room("open", "u", new JsonObject()).room("secret", "u", new JsonObject()).connect();
            watcher.await(is("user:joined", "open", "u"));
            for (int i = 0; i < 12; i++) { // three real seconds of SDK heartbeats, server time moving 3 s per round
                Thread.sleep(250);
                clock.advance(Duration.ofSeconds(3));
            }
            assertThat(sdk.opens()).isEqualTo(1);
            assertThat(sdk.closes()).isZero();
            assertThat(watcher.count(is("user:left", "open", "u"))).isZero();
            Counter forbidden = server.metrics().registry().find("flock.errors.sent").tag("code", "FORBIDDEN").counter();
            assertThat(forbidden.count()).isEqualTo(1); // heartbeats for the refused room retry nothing
            sdk.close();
            SdkLikeClient expired = new SdkLikeClient(vertx, server.port(), "/?token=" + Tokens.hs256(claims("u").put("exp", 1)))
                    .room("open", "u", new JsonObject()).connect();
            Fleet.awaitTrue("refused upgrades", WsClient.TIMEOUT, () -> auth(server, "expired") >= 2);
            assertThat(expired.opens()).isZero();
            expired.close();
        }
    }

    @Test
    void theAdminShowsVerifiedAndAnonymousMembers(Vertx vertx) {
        FlockServer server = hs(vertx, "FLOCK_AUTH", "optional", "FLOCK_ADMIN_PASSWORD", "pw", "FLOCK_ADMIN_TOKEN", "admin-token");
        try (WsClient v = connect(vertx, server, Tokens.hs256(claims("verified-user")));
             WsClient a = WsClient.connect(vertx, server.port())) {
            v.joinAndAck("doc", "verified-user", new JsonObject());
            a.joinAndAck("doc", "anonymous-user", new JsonObject());
            HttpCalls.Response r = HttpCalls.get(vertx, server.port(), "/api/admin/rooms", Map.of("Authorization", "Bearer admin-token"));
            JsonObject room = new JsonObject(r.body()).getJsonArray("rooms").getJsonObject(0);
            Map<String, String> identities = new java.util.HashMap<>();
            room.getJsonArray("members").forEach(m -> identities.put(((JsonObject) m).getString("userId"), ((JsonObject) m).getString("identity")));
            assertThat(identities).containsEntry("verified-user", "verified").containsEntry("anonymous-user", "anonymous");
        }
    }
}
