package dev.flock.admin;

import dev.flock.logging.AuditLog;
import dev.flock.protocol.ValidUnicode;
import dev.flock.security.LoginThrottle;
import dev.flock.security.Secrets;

import io.vertx.core.Future;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;

import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
  * The admin dashboard and its JSON API:
  * <pre>
  *   GET  /admin                   login page, or the dashboard with a session
  *   POST /admin                   form field password (the login page posts here, as the original did)
  *   POST /admin/login             the same, for scripts
  *   POST /admin/logout            session + CSRF
  *   GET  /admin/assets/*          admin.js, admin.css
  *   GET  /api/admin/rooms         session or Bearer token
  *   POST /api/admin/close-room    roomId (form or JSON); session + CSRF, or Bearer token
  *   POST /api/admin/close-all     session + CSRF, or Bearer token
  * </pre>
  * Create one instance per process and mount it on every router (sessions and the login throttle
  * live here and are shared across event loops).
  */
public final class AdminRoutes {

    static final String SESSION_COOKIE = "flock_admin";
    static final String CSRF_HEADER = "X-CSRF-Token";
    static final String CSRF_FIELD = "csrf";
    static final int MAX_ID_LENGTH = 128;
    private static final long BODY_LIMIT = 16 * 1024;
    private static final String PARSED_JSON = "flock.admin.json";

    private final AdminRooms rooms;
    private final AdminConfig config;
    private final SessionStore sessions;
    private final LoginThrottle throttle;
    private final LongSupplier clock;
    private final AuditLog audit;

    /** {@code audit}: where logins, refusals and closes are recorded (one per process, shared with the other routes). */
    public AdminRoutes(AdminRooms rooms, AdminConfig config, AuditLog audit) {
        this(rooms, config, System::currentTimeMillis, audit);
    }

    AdminRoutes(AdminRooms rooms, AdminConfig config, LongSupplier clock, AuditLog audit) {
        this.rooms = rooms;
        this.config = config;
        this.clock = clock;
        this.audit = audit;
        this.sessions = new SessionStore(config.sessionTtl(), clock);
        this.throttle = new LoginThrottle(clock);
    }

    /** Mounts the routes; when the admin is disabled they all answer 404. Mount before any catch-all. */
    public void mount(Router router) {
        router.routeWithRegex("^/(admin|api/admin)(/.*)?$").handler(this::commonHeaders);
        BodyHandler body = BodyHandler.create(false).setBodyLimit(BODY_LIMIT);
        router.get("/admin").handler(this::dashboardOrLogin);
        router.post("/admin").handler(body).handler(ctx -> login(ctx, "admin"));
        router.post("/admin/login").handler(body).handler(ctx -> login(ctx, "../admin"));
        router.post("/admin/logout").handler(body).handler(this::logout);
        router.get("/admin/assets/*").handler(StaticHandler.create("admin-assets"));
        router.get("/api/admin/rooms").handler(this::listRooms);
        router.post("/api/admin/close-room").handler(body).handler(this::closeRoom);
        router.post("/api/admin/close-all").handler(body).handler(this::closeAll);
    }

    private void commonHeaders(RoutingContext ctx) {
        SecurityHeaders.apply(ctx.response().headers(), SecurityHeaders.ADMIN_CSP);
        ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        if (!config.enabled()) {
            ctx.response().setStatusCode(404).end("Not Found");
            return;
        }
        String path = ctx.request().path();
        if (path.endsWith("/")) {
            toCanonicalPath(ctx, path);
            return;
        }
        ctx.next();
    }

    /**
     * vertx-web routes "/admin/" to "/admin", so the page was served there with its relative links ("admin/assets/...",
     * the forms' "admin/logout") pointing one level too deep. Every admin path has one spelling: the trailing
     * slashes go, with a 308 so a POST stays a POST. The Location is relative (one "../" per slash), like the other
     * redirects here, so a proxy's path prefix is kept; starting with "../", it cannot name another host.
     */
    private static void toCanonicalPath(RoutingContext ctx, String path) {
        int end = path.length();
        while (end > 0 && path.charAt(end - 1) == '/') {
            end--;
        }
        String lastSegment = path.substring(path.lastIndexOf('/', end - 1) + 1, end);
        String query = ctx.request().query();
        String location = "../".repeat(path.length() - end) + lastSegment + (query == null ? "" : "?" + query);
        ctx.response().setStatusCode(308).putHeader(HttpHeaders.LOCATION, location).end();
    }

    // ---- pages ----

    private void dashboardOrLogin(RoutingContext ctx) {
        Optional<SessionStore.Session> session = session(ctx);
        if (session.isEmpty()) {
            html(ctx, 200, AdminPages.login(null));
            return;
        }
        Future.all(rooms.rooms(), rooms.instanceCount(), rooms.webhooks().otherwiseEmpty()).onComplete(ar -> {
            if (ar.failed()) {
                html(ctx, 500, AdminPages.login("Could not read the rooms; see the server log."));
                return;
            }
            List<RoomView> list = ar.result().resultAt(0);
            int instances = ar.result().resultAt(1);
            WebhookStatus hooks = ar.result().resultAt(2);
            html(ctx, 200, AdminPages.dashboard(list, instances, hooks, session.get().csrfToken(), clock.getAsLong()));
        });
    }

    private void login(RoutingContext ctx, String dashboardLocation) {
        String address = clientAddress(ctx.request());
        if (refuseIfLocked(ctx, address, true, "password")) {
            return;
        }
        if (!Secrets.sameSecret(field(ctx, "password"), config.adminPassword())) {
            throttle.failed(address);
            audit.refused("admin_login_failed", address, "admin login failed: wrong password", kv("via", "password"));
            html(ctx, 401, AdminPages.login("Incorrect password"));
            return;
        }
        throttle.succeeded(address);
        audit.action("admin_login", address, "admin login", kv("via", "password"));
        SessionStore.Session session = sessions.create();
        setSessionCookie(ctx, session.id(), sessions.ttl().toSeconds());
        redirect(ctx, dashboardLocation);
    }

    private void logout(RoutingContext ctx) {
        Optional<SessionStore.Session> session = session(ctx);
        if (session.isPresent()) {
            if (!csrfMatches(ctx, session.get())) {
                json(ctx, 403, error("missing or wrong CSRF token"));
                return;
            }
            sessions.remove(session.get().id());
        }
        setSessionCookie(ctx, "", 0);
        redirect(ctx, "../admin");
    }

    // ---- JSON API ----

    private void listRooms(RoutingContext ctx) {
        if (authorize(ctx, false) == null) {
            return;
        }
        Future.all(rooms.rooms(), rooms.instanceCount(), rooms.webhooks().otherwiseEmpty()).onComplete(ar -> {
            if (ar.failed()) {
                json(ctx, 500, error("could not read the rooms"));
                return;
            }
            List<RoomView> list = ar.result().resultAt(0);
            int instances = ar.result().resultAt(1);
            WebhookStatus hooks = ar.result().resultAt(2);
            json(ctx, 200, RoomsJson.of(list, instances, hooks, clock.getAsLong()));
        });
    }

    private void closeRoom(RoutingContext ctx) {
        Auth auth = authorize(ctx, true);
        if (auth == null) {
            return;
        }
        String roomId = field(ctx, "roomId");
        if (!isValidId(roomId)) {
            json(ctx, 400, error("roomId must be 1 to 128 characters of Unicode text without control characters"));
            return;
        }
        String address = clientAddress(ctx.request());
        rooms.userCount(roomId).otherwise(-1).compose(users -> rooms.closeRoom(roomId).map(users)).onComplete(ar -> {
            if (ar.failed()) {
                audit.refused("admin_close_room_failed", address, "admin close of a room failed", kv("via", auth.label),
                        kv("roomId", roomId), kv("error", String.valueOf(ar.cause())));
                json(ctx, 500, error("could not close the room"));
                return;
            }
            audit.action("admin_close_room", address, "admin closed a room", kv("via", auth.label),
                    kv("roomId", roomId), kv("users", ar.result()));
            if (auth == Auth.SESSION_FORM) {
                redirect(ctx, "../../admin");
            } else {
                json(ctx, 200, new JsonObject().put("ok", true).put("roomId", roomId));
            }
        });
    }

    private void closeAll(RoutingContext ctx) {
        Auth auth = authorize(ctx, true);
        if (auth == null) {
            return;
        }
        String address = clientAddress(ctx.request());
        usersInEveryRoom().compose(users -> rooms.closeAll().map(closed -> new int[] {closed, users})).onComplete(ar -> {
            if (ar.failed()) {
                audit.refused("admin_close_all_failed", address, "admin close of every room failed", kv("via", auth.label),
                        kv("error", String.valueOf(ar.cause())));
                json(ctx, 500, error("could not close the rooms"));
                return;
            }
            audit.action("admin_close_all", address, "admin closed every room", kv("via", auth.label),
                    kv("rooms", ar.result()[0]), kv("users", ar.result()[1]));
            if (auth == Auth.SESSION_FORM) {
                redirect(ctx, "../../admin");
            } else {
                json(ctx, 200, new JsonObject().put("ok", true).put("closed", ar.result()[0]));
            }
        });
    }

    // ---- authentication ----

    /**
     * How many users every room holds just before a close-all, fleet-wide, for the audit line (a close removes users,
     * the sockets stay); -1 when the rooms cannot be read, which does not stop the close.
     */
    private Future<Integer> usersInEveryRoom() {
        return rooms.rooms().map(list -> list.stream().mapToInt(r -> r.members().size()).sum()).otherwise(-1);
    }

    /** How a request was authorised (the label is what the audit log says); a form post is answered with a redirect. */
    private enum Auth {
        BEARER("token"), SESSION_JSON("session"), SESSION_FORM("session");

        final String label;

        Auth(String label) {
            this.label = label;
        }
    }

    /** Answers the request itself (401/403/429) and returns null when it is not authorised. */
    private Auth authorize(RoutingContext ctx, boolean changesState) {
        String authorization = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
        if (authorization != null) {
            return authorizeBearer(ctx, authorization);
        }
        Optional<SessionStore.Session> session = session(ctx);
        if (session.isEmpty()) {
            json(ctx, 401, error("sign in at /admin or send Authorization: Bearer <FLOCK_ADMIN_TOKEN>"));
            return null;
        }
        if (changesState && !csrfMatches(ctx, session.get())) {
            json(ctx, 403, error("missing or wrong CSRF token"));
            return null;
        }
        return isForm(ctx.request()) ? Auth.SESSION_FORM : Auth.SESSION_JSON;
    }

    private Auth authorizeBearer(RoutingContext ctx, String authorization) {
        String address = clientAddress(ctx.request());
        if (refuseIfLocked(ctx, address, false, "token")) {
            return null;
        }
        String token = authorization.regionMatches(true, 0, "Bearer ", 0, 7) ? authorization.substring(7).trim() : null;
        if (config.adminToken() == null || !Secrets.sameSecret(token, config.adminToken())) {
            throttle.failed(address);
            audit.refused("admin_login_failed", address, "admin request refused: wrong or unconfigured admin token",
                    kv("via", "token"), kv("path", ctx.normalizedPath()));
            ctx.response().putHeader("WWW-Authenticate", "Bearer");
            json(ctx, 401, error("wrong or unconfigured admin token"));
            return null;
        }
        return Auth.BEARER;
    }

    private boolean refuseIfLocked(RoutingContext ctx, String address, boolean htmlAnswer, String via) {
        long seconds = throttle.retryAfterSeconds(address);
        if (seconds == 0) {
            return false;
        }
        audit.refused("admin_login_throttled", address, "admin login throttled after repeated failures",
                kv("via", via), kv("retryAfterSeconds", seconds));
        ctx.response().putHeader(HttpHeaders.RETRY_AFTER, Long.toString(seconds));
        String message = "Too many failed attempts; try again in " + seconds + " s.";
        if (htmlAnswer) {
            html(ctx, 429, AdminPages.login(message));
        } else {
            json(ctx, 429, error(message));
        }
        return true;
    }

    private Optional<SessionStore.Session> session(RoutingContext ctx) {
        Cookie cookie = ctx.request().getCookie(SESSION_COOKIE);
        return cookie == null ? Optional.empty() : sessions.find(cookie.getValue());
    }

    private boolean csrfMatches(RoutingContext ctx, SessionStore.Session session) {
        String given = ctx.request().getHeader(CSRF_HEADER);
        if (given == null) {
            given = field(ctx, CSRF_FIELD);
        }
        return Secrets.sameSecret(given, session.csrfToken());
    }

    /** Written by hand so the attributes read exactly as documented (Netty spells HttpOnly "HTTPOnly"). */
    private void setSessionCookie(RoutingContext ctx, String value, long maxAgeSeconds) {
        String cookie = SESSION_COOKIE + "=" + value + "; Path=/; Max-Age=" + maxAgeSeconds + "; HttpOnly; SameSite=Strict"
                + (isHttps(ctx.request()) ? "; Secure" : "");
        ctx.response().headers().add(HttpHeaders.SET_COOKIE, cookie);
    }

    private boolean isHttps(HttpServerRequest request) {
        if (request.isSSL()) {
            return true;
        }
        String proto = config.trustProxy() ? request.getHeader("X-Forwarded-Proto") : null;
        return proto != null && firstListItem(proto).equalsIgnoreCase("https");
    }

    /** Behind a trusted proxy the last X-Forwarded-For entry is the one the proxy itself added. */
    private String clientAddress(HttpServerRequest request) {
        return dev.flock.security.ClientAddress.of(request, config.trustProxy());
    }

    // ---- request and response helpers ----

    /** A string field of a form or JSON body; null when absent, not a string, or the JSON is bad. */
    private static String field(RoutingContext ctx, String name) {
        if (isJson(ctx.request())) {
            JsonObject body = jsonBody(ctx);
            return body != null && body.getValue(name) instanceof String s ? s : null;
        }
        return ctx.request().getFormAttribute(name);
    }

    private static JsonObject jsonBody(RoutingContext ctx) {
        if (!ctx.data().containsKey(PARSED_JSON)) {
            JsonObject parsed;
            try {
                parsed = ctx.body().available() && !ctx.body().isEmpty() ? ctx.body().asJsonObject() : null;
            } catch (DecodeException | ClassCastException e) {
                parsed = null;
            }
            ctx.put(PARSED_JSON, parsed);
        }
        return ctx.get(PARSED_JSON);
    }

    private static boolean isJson(HttpServerRequest request) {
        String type = request.getHeader(HttpHeaders.CONTENT_TYPE);
        return type != null && type.toLowerCase().startsWith("application/json");
    }

    private static boolean isForm(HttpServerRequest request) {
        String type = request.getHeader(HttpHeaders.CONTENT_TYPE);
        return type != null && type.toLowerCase().startsWith("application/x-www-form-urlencoded");
    }

    static boolean isValidId(String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_ID_LENGTH) {
            return false;
        }
        // a lone surrogate would close room "...?" in Redis (the codec refuses such ids for the same reason)
        return id.chars().noneMatch(Character::isISOControl) && ValidUnicode.problem(id) == null;
    }

    private static String firstListItem(String header) {
        int comma = header.indexOf(',');
        return (comma < 0 ? header : header.substring(0, comma)).trim();
    }

    private static JsonObject error(String message) {
        return new JsonObject().put("error", message);
    }

    private static void html(RoutingContext ctx, int status, String body) {
        ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "text/html; charset=utf-8").end(body);
    }

    private static void json(RoutingContext ctx, int status, JsonObject body) {
        ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
                .end(body.encode());
    }

    private static void redirect(RoutingContext ctx, String location) {
        ctx.response().setStatusCode(303).putHeader(HttpHeaders.LOCATION, location).end();
    }
}
