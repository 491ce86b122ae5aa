package dev.flock.admin;

import dev.flock.security.LoginThrottle;
import dev.flock.support.HttpCalls;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.flock.support.WsClient.await;
import static org.assertj.core.api.Assertions.assertThat;

/** AdminRoutes over real HTTP with an in-memory AdminRooms. */
@ExtendWith(VertxExtension.class)
class AdminRoutesTest {

    private static final String PASSWORD = "correct horse battery staple";
    private static final String TOKEN = "admin-token-0123456789";
    private static final String XSS = "<img src=x onerror=alert(1)>";
    private static final Pattern CSRF_META = Pattern.compile("name=\"flock-csrf\" content=\"([^\"]+)\"");

    private Vertx vertx;
    private HttpClient client;
    private HttpServer server;
    private FakeAdminRooms rooms;
    private final AtomicLong clock = new AtomicLong(1_700_000_000_000L);

    record Response(int status, MultiMap headers, String body) {
        String header(String name) {
            return headers.get(name);
        }

        /** The session cookie pair ("flock_admin=...") from Set-Cookie. */
        String sessionCookie() {
            String setCookie = header("Set-Cookie");
            return setCookie == null ? null : setCookie.substring(0, setCookie.indexOf(';'));
        }
    }

    @BeforeEach
    void setUp(Vertx vertx) {
        this.vertx = vertx;
        this.client = vertx.createHttpClient();
        this.rooms = new FakeAdminRooms();
    }

    @AfterEach
    void tearDown() throws Exception {
        client.close();
        if (server != null) {
            await(server.close());
        }
    }

    private void start(AdminConfig config) throws Exception {
        Router router = Router.router(vertx);
        new AdminRoutes(rooms, config, clock::get, new dev.flock.logging.AuditLog(new dev.flock.support.VirtualClock())).mount(router);
        server = await(vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
    }

    private void startEnabled() throws Exception {
        start(new AdminConfig(PASSWORD, TOKEN, Duration.ofMinutes(30), false));
    }

    // ---- tests ----

    @Test
    void everyRouteIs404WithoutPassword() throws Exception {
        start(new AdminConfig(null, TOKEN, null, false));
        assertThat(get("/admin", Map.of()).status()).isEqualTo(404);
        assertThat(post("/admin/login", form("password", ""), Map.of()).status()).isEqualTo(404);
        assertThat(get("/api/admin/rooms", Map.of("Authorization", "Bearer " + TOKEN)).status()).isEqualTo(404);
        assertThat(post("/api/admin/close-all", "", Map.of("Authorization", "Bearer " + TOKEN)).status()).isEqualTo(404);
    }

    @Test
    void trailingSlash_redirectsToTheCanonicalPath_relatively() throws Exception {
        startEnabled();
        // relative, as the other redirects: behind a proxy that mounts the admin under a prefix it stays there
        Map<String, String> redirects = Map.of(
                "/admin/", "../admin",
                "/admin//", "../../admin",
                "/admin/login/", "../login",
                "/api/admin/rooms/?pretty=1", "../rooms?pretty=1");
        for (Map.Entry<String, String> e : redirects.entrySet()) {
            Response response = get(e.getKey(), Map.of());
            assertThat(response.status()).as(e.getKey()).isEqualTo(308);
            assertThat(response.header("Location")).as(e.getKey()).isEqualTo(e.getValue());
            assertThat(response.header("Cache-Control")).isEqualTo("no-store");
        }
        assertThat(URI.create("http://flock.example/admin/").resolve("../admin").getPath()).isEqualTo("/admin");
        // 308 keeps the method and body: a login posted to the slashed path still signs in after the redirect
        assertThat(post("/admin/", form("password", PASSWORD), Map.of()).status()).isEqualTo(308);
        // the page itself, whose relative links need the canonical path, is served only there
        assertThat(get("/admin", Map.of()).body()).contains("href=\"admin/assets/admin.css\"");
    }

    @Test
    void trailingSlash_isStill404WhenTheAdminIsOff() throws Exception {
        start(new AdminConfig(null, TOKEN, null, false));
        assertThat(get("/admin/", Map.of()).status()).isEqualTo(404);
        assertThat(get("/api/admin/rooms/", Map.of()).status()).isEqualTo(404);
    }

    @Test
    void emptyPasswordAlsoDisables() throws Exception {
        start(new AdminConfig("", null, null, false));
        assertThat(get("/admin", Map.of()).status()).isEqualTo(404);
    }

    @Test
    void wrongPasswordIsRefusedWithoutCookie() throws Exception {
        startEnabled();
        Response response = login("wrong");
        assertThat(response.status()).isEqualTo(401);
        assertThat(response.header("Set-Cookie")).isNull();
        assertThat(response.body()).contains("Incorrect password");
    }

    @Test
    void loginSetsRandomHttpOnlyStrictCookieAndShowsDashboard() throws Exception {
        startEnabled();
        Response first = login(PASSWORD);
        assertThat(first.status()).isEqualTo(303);
        String setCookie = first.header("Set-Cookie");
        assertThat(setCookie).startsWith("flock_admin=").contains("HttpOnly").contains("SameSite=Strict")
                .contains("Path=/").doesNotContain("Secure");
        Response second = login(PASSWORD);
        // 256-bit random tokens: never the same twice, never derived from the password.
        assertThat(first.sessionCookie()).isNotEqualTo(second.sessionCookie());
        assertThat(first.sessionCookie().length()).isGreaterThanOrEqualTo("flock_admin=".length() + 43);

        Response dashboard = get("/admin", first.sessionCookie());
        assertThat(dashboard.status()).isEqualTo(200);
        assertThat(dashboard.body()).contains("Close all rooms").contains("flock-csrf");
    }

    @Test
    void originalLoginPathWorksToo() throws Exception {
        startEnabled();
        assertThat(post("/admin", form("password", PASSWORD), Map.of()).status()).isEqualTo(303);
    }

    @Test
    void cookieIsSecureOnlyBehindTrustedHttpsProxy() throws Exception {
        start(new AdminConfig(PASSWORD, null, null, true));
        Response proxied = post("/admin/login", form("password", PASSWORD), Map.of("X-Forwarded-Proto", "https"));
        assertThat(proxied.header("Set-Cookie")).contains("Secure");
        Response plain = login(PASSWORD);
        assertThat(plain.header("Set-Cookie")).doesNotContain("Secure");
    }

    @Test
    void forwardedProtoIgnoredWithoutTrustProxy() throws Exception {
        startEnabled();
        Response response = post("/admin/login", form("password", PASSWORD), Map.of("X-Forwarded-Proto", "https"));
        assertThat(response.header("Set-Cookie")).doesNotContain("Secure");
    }

    @Test
    void dashboardEscapesUserStringsAndDropsInvalidColours() throws Exception {
        startEnabled();
        rooms.rooms.add(new RoomView(XSS, List.of(
                new MemberView("u\"1", Map.of("name", XSS, "color", "red;background:url(x)", "note", "</script><script>x()</script>"), null),
                new MemberView("u2", Map.of("name", "Ann", "color", "#12abEF"), clock.get() - 2_000))));
        String body = get("/admin", sessionCookie()).body();
        assertThat(body).doesNotContain("<img").doesNotContain("<script>x()").doesNotContain("u\"1")
                .doesNotContain("style=").doesNotContain("data-color=\"red");
        assertThat(body).contains("&lt;img src=x onerror=alert(1)&gt;").contains("u&quot;1")
                .contains("data-color=\"#12abEF\"").contains("2s ago");
    }

    @Test
    void everyAdminResponseCarriesSecurityHeaders() throws Exception {
        startEnabled();
        for (Response response : List.of(get("/admin", Map.of()), login("wrong"), get("/api/admin/rooms", Map.of()))) {
            assertThat(response.header("Content-Security-Policy")).contains("script-src 'self'").doesNotContain("unsafe-inline");
            assertThat(response.header("X-Content-Type-Options")).isEqualTo("nosniff");
            assertThat(response.header("Referrer-Policy")).isEqualTo("no-referrer");
            assertThat(response.header("X-Frame-Options")).isEqualTo("DENY");
        }
    }

    @Test
    void stateChangesWithoutCsrfAreForbidden() throws Exception {
        startEnabled();
        rooms.rooms.add(new RoomView("doc:1", List.of()));
        String cookie = sessionCookie();
        assertThat(post("/api/admin/close-room", form("roomId", "doc:1"), Map.of("Cookie", cookie)).status()).isEqualTo(403);
        assertThat(post("/api/admin/close-room", form("roomId", "doc:1") + "&csrf=forged", Map.of("Cookie", cookie)).status())
                .isEqualTo(403);
        assertThat(post("/api/admin/close-all", "", Map.of("Cookie", cookie)).status()).isEqualTo(403);
        assertThat(rooms.closed).isEmpty();
    }

    @Test
    void dashboardFormWithCsrfClosesTheRoom() throws Exception {
        startEnabled();
        rooms.rooms.add(new RoomView("doc:1", List.of()));
        String cookie = sessionCookie();
        String csrf = csrfOf(get("/admin", cookie).body());
        Response response = post("/api/admin/close-room", form("roomId", "doc:1") + "&" + form("csrf", csrf), Map.of("Cookie", cookie));
        assertThat(response.status()).isEqualTo(303);
        assertThat(rooms.closed).containsExactly("doc:1");
    }

    @Test
    void jsonCloseWithCsrfHeader() throws Exception {
        startEnabled();
        String cookie = sessionCookie();
        String csrf = csrfOf(get("/admin", cookie).body());
        Response response = post("/api/admin/close-room", new JsonObject().put("roomId", "a b").encode(),
                Map.of("Cookie", cookie, "X-CSRF-Token", csrf, "Content-Type", "application/json"));
        assertThat(response.status()).isEqualTo(200);
        assertThat(new JsonObject(response.body()).getString("roomId")).isEqualTo("a b");
        assertThat(rooms.closed).containsExactly("a b");
    }

    @Test
    void bearerTokenWorksForTheApiWithoutCsrf() throws Exception {
        startEnabled();
        rooms.rooms.add(new RoomView("r1", List.of(new MemberView("u1", Map.of("name", "Bo", "color", "nope"), clock.get()))));
        rooms.rooms.add(new RoomView("r2", List.of()));
        Map<String, String> bearer = Map.of("Authorization", "Bearer " + TOKEN);

        Response list = get("/api/admin/rooms", bearer);
        assertThat(list.status()).isEqualTo(200);
        assertThat(list.header("Content-Type")).startsWith("application/json");
        JsonObject json = new JsonObject(list.body());
        assertThat(json.getJsonObject("totals").getInteger("rooms")).isEqualTo(2);
        assertThat(json.getJsonObject("totals").getInteger("activeCursors")).isEqualTo(1);
        JsonObject member = json.getJsonArray("rooms").getJsonObject(0).getJsonArray("members").getJsonObject(0);
        assertThat(member.getString("name")).isEqualTo("Bo");
        assertThat(member.getValue("color")).isNull();

        Response closeAll = post("/api/admin/close-all", "", bearer);
        assertThat(closeAll.status()).isEqualTo(200);
        assertThat(new JsonObject(closeAll.body()).getInteger("closed")).isEqualTo(2);
    }

    @Test
    void webhooks_showTheirPendingCountAndLastFailure_onlyWhenConfigured() throws Exception {
        startEnabled();
        Map<String, String> bearer = Map.of("Authorization", "Bearer " + TOKEN);
        assertThat(new JsonObject(get("/api/admin/rooms", bearer).body()).getValue("webhooks")).isNull();

        rooms.webhooks = new WebhookStatus(42, "2026-12-01T10:00:00Z https://hooks.example/in: HTTP 503 (attempt 3, 7 events)");
        JsonObject hooks = new JsonObject(get("/api/admin/rooms", bearer).body()).getJsonObject("webhooks");
        assertThat(hooks.getLong("pending")).isEqualTo(42);
        assertThat(hooks.getString("lastFailure")).contains("HTTP 503");

        String page = AdminPages.dashboard(List.of(), 1, rooms.webhooks, "csrf", clock.get());
        assertThat(page).contains("id=\"stat-webhooks\">42<", "Last webhook failure: 2026-12-01T10:00:00Z https://hooks.example/in: HTTP 503");
        assertThat(AdminPages.dashboard(List.of(), 1, null, "csrf", clock.get())).doesNotContain("stat-webhooks", "webhook failure");
        rooms.webhooks = new WebhookStatus(0, "<script>x</script>");
        assertThat(AdminPages.dashboard(List.of(), 1, rooms.webhooks, "csrf", clock.get())).doesNotContain("<script>x");
    }

    @Test
    void apiRefusesMissingOrWrongCredentials() throws Exception {
        startEnabled();
        assertThat(get("/api/admin/rooms", Map.of()).status()).isEqualTo(401);
        assertThat(get("/api/admin/rooms", Map.of("Authorization", "Bearer wrong")).status()).isEqualTo(401);
        assertThat(get("/api/admin/rooms", Map.of("Cookie", "flock_admin=forged")).status()).isEqualTo(401);
        assertThat(post("/api/admin/close-room", form("roomId", "x"), Map.of("Authorization", "Basic " + TOKEN)).status())
                .isEqualTo(401);
        assertThat(rooms.closed).isEmpty();
    }

    @Test
    void bearerIsDisabledWithoutToken() throws Exception {
        start(new AdminConfig(PASSWORD, null, null, false));
        assertThat(get("/api/admin/rooms", Map.of("Authorization", "Bearer ")).status()).isEqualTo(401);
        assertThat(get("/api/admin/rooms", Map.of("Authorization", "Bearer null")).status()).isEqualTo(401);
    }

    @Test
    void badRoomIdIsRejected() throws Exception {
        startEnabled();
        Map<String, String> bearer = Map.of("Authorization", "Bearer " + TOKEN);
        assertThat(post("/api/admin/close-room", "", bearer).status()).isEqualTo(400);
        assertThat(post("/api/admin/close-room", form("roomId", "a\u0001b"), bearer).status()).isEqualTo(400);
        assertThat(post("/api/admin/close-room", form("roomId", "x".repeat(129)), bearer).status()).isEqualTo(400);
        assertThat(rooms.closed).isEmpty();
    }

    @Test
    void roomIdThatIsNotUnicodeText_isRejected() throws Exception {
        startEnabled();
        Map<String, String> json = Map.of("Authorization", "Bearer " + TOKEN, "Content-Type", "application/json");
        // JSON escapes, as a script would send them: a lone surrogate, then a noncharacter
        assertThat(post("/api/admin/close-room", "{\"roomId\":\"team\\ud800\"}", json).status()).isEqualTo(400);
        assertThat(post("/api/admin/close-room", "{\"roomId\":\"team\\uffff\"}", json).status()).isEqualTo(400);
        assertThat(rooms.closed).isEmpty();
        assertThat(post("/api/admin/close-room", "{\"roomId\":\"team\\ud83d\\ude00\"}", json).status()).isEqualTo(200);
        assertThat(rooms.closed).containsExactly("team\uD83D\uDE00");
    }

    @Test
    void repeatedFailuresAreAnswered429EvenForTheRightPassword() throws Exception {
        startEnabled();
        int unauthorized = 0;
        Response response = null;
        for (int attempt = 0; attempt < 10; attempt++) {
            response = login("guess-" + attempt);
            if (response.status() != 401) {
                break;
            }
            unauthorized++;
        }
        assertThat(response.status()).isEqualTo(429);
        assertThat(unauthorized).isGreaterThanOrEqualTo(LoginThrottle.FREE_FAILURES);
        assertThat(Integer.parseInt(response.header("Retry-After"))).isPositive();
        assertThat(login(PASSWORD).status()).isEqualTo(429);

        clock.addAndGet(LoginThrottle.MAX_LOCK_MILLIS);
        assertThat(login(PASSWORD).status()).isEqualTo(303);
    }

    @Test
    void sessionsExpireAndLogoutEndsThem() throws Exception {
        startEnabled();
        String cookie = sessionCookie();
        assertThat(get("/api/admin/rooms", Map.of("Cookie", cookie)).status()).isEqualTo(200);
        clock.addAndGet(Duration.ofMinutes(31).toMillis());
        assertThat(get("/api/admin/rooms", Map.of("Cookie", cookie)).status()).isEqualTo(401);

        String other = sessionCookie();
        String csrf = csrfOf(get("/admin", other).body());
        assertThat(post("/admin/logout", form("csrf", "wrong"), Map.of("Cookie", other)).status()).isEqualTo(403);
        Response logout = post("/admin/logout", form("csrf", csrf), Map.of("Cookie", other));
        assertThat(logout.status()).isEqualTo(303);
        assertThat(logout.header("Set-Cookie")).contains("Max-Age=0");
        assertThat(get("/api/admin/rooms", Map.of("Cookie", other)).status()).isEqualTo(401);
    }

    // ---- helpers ----

    private String sessionCookie() throws Exception {
        Response response = login(PASSWORD);
        assertThat(response.status()).isEqualTo(303);
        return response.sessionCookie();
    }

    private Response login(String password) throws Exception {
        return post("/admin/login", form("password", password), Map.of());
    }

    private static String csrfOf(String dashboard) {
        Matcher matcher = CSRF_META.matcher(dashboard);
        assertThat(matcher.find()).as("dashboard has a CSRF token").isTrue();
        return matcher.group(1);
    }

    private static String form(String name, String value) {
        return name + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private Response get(String path, String cookie) throws Exception {
        return get(path, Map.of("Cookie", cookie));
    }

    private Response get(String path, Map<String, String> headers) throws Exception {
        return send(HttpMethod.GET, path, null, headers);
    }

    private Response post(String path, String body, Map<String, String> headers) throws Exception {
        return send(HttpMethod.POST, path, body, headers);
    }

    private Response send(HttpMethod method, String path, String body, Map<String, String> headers) throws Exception {
        RequestOptions options = new RequestOptions().setMethod(method).setHost("127.0.0.1")
                .setPort(server.actualPort()).setURI(path);
        HttpCalls.Response r = HttpCalls.send(vertx, client, options, body, headers);
        return new Response(r.status(), r.headers(), r.body());
    }
}
