package dev.flock.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.config.FlockConfig;
import dev.flock.logging.AuditLog;
import dev.flock.metrics.FlockMetrics;
import dev.flock.protocol.InvalidMessage;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.room.PresenceStore;
import dev.flock.room.RoomDirectory;
import dev.flock.room.RoomInspection;
import dev.flock.security.ClientAddress;
import dev.flock.security.LoginThrottle;
import dev.flock.security.Secrets;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.LongSupplier;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The server API (issue 19; docs/PROTOCOL.md "Server API", {@code /api/v1/openapi.json}): the app's backend reads and
 * acts on rooms, fleet-wide in Redis mode.
 * <pre>
 *   GET    /api/v1/rooms?prefix=&amp;cursor=&amp;limit=          rooms with at least one user, paginated
 *   GET    /api/v1/rooms/{roomId}                          its users
 *   GET    /api/v1/users/{userId}/rooms                    the rooms a user is in
 *   DELETE /api/v1/rooms/{roomId}/users/{userId}           kick
 *   PATCH  /api/v1/rooms/{roomId}/users/{userId}/metadata  server-side presence patch
 *   POST   /api/v1/rooms/{roomId}/close                    close the room
 *   GET    /api/v1/openapi.json                            this API's OpenAPI 3.1 document (no key needed)
 * </pre>
 * Every other route needs {@code Authorization: Bearer <one of FLOCK_SERVER_API_KEY>}, compared in constant time;
 * failures are counted ({@code flock_api_auth_failures_total}) and throttled per client address like the admin's
 * login. No cookie is read or set. Without a key configured every route answers 404. Ids in paths are
 * percent-encoded, one segment each.
 */
public final class ServerApiRoutes {

    private static final Logger LOG = LoggerFactory.getLogger(ServerApiRoutes.class);
    public static final String BASE = "/api/v1";
    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;
    private static final long BODY_LIMIT = 64 * 1024;
    private static final String OPENAPI_RESOURCE = "/api/openapi.json";

    private final RoomDirectory rooms;
    private final FlockConfig config;
    private final FlockMetrics metrics;
    private final ProtocolCodec codec;
    private final LoginThrottle throttle;
    private final byte[] openapi;
    private final AuditLog audit;

    public ServerApiRoutes(RoomDirectory rooms, FlockConfig config, FlockMetrics metrics, ProtocolCodec codec,
                           LongSupplier clock, AuditLog audit) {
        this.rooms = rooms;
        this.config = config;
        this.metrics = metrics;
        if (config.serverApiEnabled()) {
            metrics.apiAuthFailures(); // every refusal reason at 0 from the start
        }
        this.codec = codec;
        this.throttle = new LoginThrottle(clock);
        this.openapi = readOpenApi();
        this.audit = audit;
    }

    /** Mounts the API (answering 404 everywhere while it is off). Mount before any catch-all. */
    public void mount(Router router) {
        BodyHandler body = BodyHandler.create(false).setBodyLimit(BODY_LIMIT);
        String paths = "^" + BASE + "(/.*)?$";
        router.routeWithRegex(paths).handler(this::headers);
        router.routeWithRegex(paths).handler(body).handler(this::handle).failureHandler(this::failure);
        // a path Vert.x cannot normalize (a malformed percent escape such as %zz) fails before any route matches, so
        // no route's failure handler runs: the router's 400 handler gives the API's JSON error for API paths
        router.errorHandler(400, ctx -> {
            String raw = ctx.request().path();
            if (raw != null && (raw.equals(BASE) || raw.startsWith(BASE + "/"))) {
                ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-store").putHeader("X-Content-Type-Options", "nosniff");
                error(ctx, config.serverApiEnabled()
                        ? ApiError.badRequest("the path is not valid percent-encoding")
                        : new ApiError(404, "NOT_FOUND", "the server API is off: set FLOCK_SERVER_API_KEY to enable it"));
            } else if (!ctx.response().ended()) {
                ctx.response().setStatusCode(400).end("Bad Request"); // what Vert.x answers without a handler
            }
        });
    }

    private void headers(RoutingContext ctx) {
        ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-store").putHeader("X-Content-Type-Options", "nosniff");
        if (!config.serverApiEnabled()) {
            error(ctx, new ApiError(404, "NOT_FOUND", "the server API is off: set FLOCK_SERVER_API_KEY to enable it"));
            return;
        }
        ctx.next();
    }

    /** A body over the limit, or anything that failed before {@link #handle}: the same JSON error shape. */
    private void failure(RoutingContext ctx) {
        int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
        if (status == 413) {
            error(ctx, new ApiError(413, "PAYLOAD_TOO_LARGE", "the body is larger than " + BODY_LIMIT + " bytes"));
        } else if (status >= 500) {
            LOG.warn("server API request failed", ctx.failure());
            error(ctx, new ApiError(500, "INTERNAL_ERROR", "the request could not be handled; see the server log"));
        } else {
            error(ctx, new ApiError(status, "BAD_REQUEST", "the request could not be read"));
        }
    }

    private void handle(RoutingContext ctx) {
        try {
            List<String> path = PathIds.segments(ctx.request().path(), BASE);
            HttpMethod method = ctx.request().method();
            if (path.size() == 1 && path.get(0).equals("openapi.json")) {
                allow(ctx, method, HttpMethod.GET);
                ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(Buffer.buffer(openapi));
                return;
            }
            if (!authorized(ctx)) {
                return;
            }
            route(ctx, method, path).onComplete(ar -> {
                if (ar.failed()) {
                    error(ctx, ar.cause());
                }
            });
        } catch (IllegalArgumentException e) {
            error(ctx, ApiError.badRequest("the query string is not valid percent-encoding"));  // Netty's query decoder
        } catch (RuntimeException e) {
            error(ctx, e);
        }
    }

    private Future<Void> route(RoutingContext ctx, HttpMethod method, List<String> p) {
        int n = p.size();
        if (n == 1 && p.get(0).equals("rooms")) {
            allow(ctx, method, HttpMethod.GET);
            return listRooms(ctx);
        }
        if (n == 2 && p.get(0).equals("rooms")) {
            allow(ctx, method, HttpMethod.GET);
            return getRoom(ctx, id(p.get(1), "roomId"));
        }
        if (n == 3 && p.get(0).equals("rooms") && p.get(2).equals("close")) {
            allow(ctx, method, HttpMethod.POST);
            return closeRoom(ctx, id(p.get(1), "roomId"));
        }
        if (n == 4 && p.get(0).equals("rooms") && p.get(2).equals("users")) {
            allow(ctx, method, HttpMethod.DELETE);
            return kick(ctx, id(p.get(1), "roomId"), id(p.get(3), "userId"));
        }
        if (n == 5 && p.get(0).equals("rooms") && p.get(2).equals("users") && p.get(4).equals("metadata")) {
            allow(ctx, method, HttpMethod.PATCH);
            return patch(ctx, id(p.get(1), "roomId"), id(p.get(3), "userId"));
        }
        if (n == 3 && p.get(0).equals("users") && p.get(2).equals("rooms")) {
            allow(ctx, method, HttpMethod.GET);
            return roomsOf(ctx, id(p.get(1), "userId"));
        }
        throw ApiError.notFound("no such route: " + method.name() + " " + ctx.request().path());
    }

    // ---- routes ----------------------------------------------------------------------------------------------

    /**
     * Rooms in id order (String order), after {@code cursor}: the cursor is the last room id of the previous page, so a
     * room that exists throughout a walk is listed exactly once however rooms come and go meanwhile.
     */
    private Future<Void> listRooms(RoutingContext ctx) {
        String prefix = ctx.request().getParam("prefix", "");
        String after = cursor(ctx.request().getParam("cursor"));
        int limit = limit(ctx.request().getParam("limit"));
        return rooms.roomIds().compose(ids -> {
            List<String> candidates = ids.stream().filter(id -> id.startsWith(prefix) && (after == null || id.compareTo(after) > 0))
                    .sorted().toList();
            return page(candidates, 0, limit, new ArrayList<>()).map(page -> {
                ObjectNode body = ProtocolCodec.MAPPER.createObjectNode();
                ArrayNode list = body.putArray("rooms");
                for (RoomInspection r : page.rooms) {
                    list.addObject().put("roomId", r.roomId()).put("users", r.members().size());
                }
                if (page.lastExamined != null && page.more) {
                    body.put("nextCursor", Base64.getUrlEncoder().withoutPadding()
                            .encodeToString(page.lastExamined.getBytes(StandardCharsets.UTF_8)));
                } else {
                    body.putNull("nextCursor");
                }
                json(ctx, 200, body);
                return null;
            });
        });
    }

    private record Page(List<RoomInspection> rooms, String lastExamined, boolean more) {
    }

    /** Reads candidates until {@code limit} rooms with users are found; rooms that emptied meanwhile are skipped. */
    private Future<Page> page(List<String> candidates, int from, int limit, List<RoomInspection> found) {
        if (found.size() >= limit || from >= candidates.size()) {
            String last = from == 0 ? null : candidates.get(from - 1);
            return Future.succeededFuture(new Page(found, last, from < candidates.size()));
        }
        List<String> chunk = candidates.subList(from, Math.min(candidates.size(), from + (limit - found.size())));
        List<Future<RoomInspection>> reads = chunk.stream().map(rooms::room).toList();
        return Future.all(reads).compose(all -> {
            for (Future<RoomInspection> f : reads) {
                if (!f.result().members().isEmpty()) {
                    found.add(f.result());
                }
            }
            return page(candidates, from + chunk.size(), limit, found);
        });
    }

    private Future<Void> getRoom(RoutingContext ctx, String roomId) {
        return present(roomId).map(room -> {
            ObjectNode body = ProtocolCodec.MAPPER.createObjectNode().put("roomId", roomId);
            ArrayNode users = body.putArray("users");
            for (RoomInspection.MemberInspection m : room.members()) {
                ObjectNode u = users.addObject().put("userId", m.userId());
                u.set("metadata", m.metadata());
                if (m.cursor() != null) {
                    u.putObject("cursor").put("x", m.cursor().x()).put("y", m.cursor().y())
                            .put("timestamp", m.cursor().timestamp());
                }
                u.put("connections", m.fleetConnections());
                if (m.verified() != null) {
                    u.put("verified", m.verified());
                }
                if (m.reconnecting()) {
                    u.put("reconnecting", true);
                }
            }
            json(ctx, 200, body);
            return null;
        });
    }

    private Future<Void> roomsOf(RoutingContext ctx, String userId) {
        return rooms.roomsOf(userId).map(list -> {
            if (list.isEmpty()) {
                throw ApiError.notFound("user " + quoted(userId) + " is not present in any room");
            }
            ObjectNode body = ProtocolCodec.MAPPER.createObjectNode().put("userId", userId);
            ArrayNode out = body.putArray("rooms");
            list.stream().sorted().distinct().forEach(out::add);
            json(ctx, 200, body);
            return null;
        });
    }

    private Future<Void> kick(RoutingContext ctx, String roomId, String userId) {
        return presentUser(roomId, userId).compose(v -> rooms.kick(roomId, userId)).map(v -> {
            LOG.info("user kicked by the server API roomId={} userId={}", roomId, userId);
            ctx.response().setStatusCode(204).end();
            return null;
        });
    }

    private Future<Void> patch(RoutingContext ctx, String roomId, String userId) {
        ObjectNode patch = metadataPatch(ctx);
        return presentUser(roomId, userId).compose(v -> rooms.patch(roomId, userId, patch)).recover(err -> {
            if (err instanceof RoomDirectory.NotPresent) {
                return Future.failedFuture(ApiError.notFound("user " + quoted(userId) + " is not in room " + quoted(roomId)));
            }
            if (err instanceof PresenceStore.MetadataTooLarge) {
                return Future.failedFuture(ApiError.badRequest("the merged metadata would exceed "
                        + config.maxMetadataBytes() + " bytes; nothing was changed"));
            }
            return Future.failedFuture(err);
        }).map(merged -> {
            ObjectNode body = ProtocolCodec.MAPPER.createObjectNode().put("roomId", roomId).put("userId", userId);
            body.set("metadata", merged);
            json(ctx, 200, body);
            return null;
        });
    }

    private Future<Void> closeRoom(RoutingContext ctx, String roomId) {
        return present(roomId).compose(room -> rooms.closeRoom(roomId)).map(v -> {
            LOG.info("room closed by the server API roomId={}", roomId);
            ctx.response().setStatusCode(204).end();
            return null;
        });
    }

    /** The room, fleet-wide; a 404 when nobody is in it. */
    private Future<RoomInspection> present(String roomId) {
        return rooms.room(roomId).map(room -> {
            if (room.members().isEmpty()) {
                throw ApiError.notFound("room " + quoted(roomId) + " has no users");
            }
            return room;
        });
    }

    private Future<Void> presentUser(String roomId, String userId) {
        return present(roomId).map(room -> {
            if (room.members().stream().noneMatch(m -> m.userId().equals(userId))) {
                throw ApiError.notFound("user " + quoted(userId) + " is not in room " + quoted(roomId));
            }
            return null;
        });
    }

    // ---- input ------------------------------------------------------------------------------------------------

    private String id(String raw, String field) {
        try {
            return codec.validId(raw, field);
        } catch (InvalidMessage e) {
            throw ApiError.badRequest(e.getMessage().replace("field \"", "path parameter \""));
        }
    }

    private static String cursor(String raw) {
        if (raw == null || raw.isEmpty()) {
            return null;
        }
        try {
            return new String(Base64.getUrlDecoder().decode(raw), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("cursor is not a cursor this API returned (nextCursor)");
        }
    }

    private static int limit(String raw) {
        if (raw == null || raw.isEmpty()) {
            return DEFAULT_LIMIT;
        }
        try {
            int n = Integer.parseInt(raw);
            if (n >= 1 && n <= MAX_LIMIT) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw ApiError.badRequest("limit must be an integer from 1 to " + MAX_LIMIT);
    }

    /** The body: a JSON object, within the metadata limit, as a client's presence:update carries. */
    private ObjectNode metadataPatch(RoutingContext ctx) {
        Buffer raw = ctx.body() == null ? null : ctx.body().buffer();
        if (raw == null || raw.length() == 0) {
            throw ApiError.badRequest("the body must be a JSON object: the metadata patch");
        }
        JsonNode node;
        try {
            node = ProtocolCodec.MAPPER.readTree(raw.getBytes());
        } catch (IOException e) {
            throw ApiError.badRequest("the body is not valid JSON");
        }
        if (!(node instanceof ObjectNode patch)) {
            throw ApiError.badRequest("the body must be a JSON object: the metadata patch");
        }
        if (ProtocolCodec.serializedSize(patch) > config.maxMetadataBytes()) {
            throw ApiError.badRequest("the patch is larger than " + config.maxMetadataBytes() + " bytes");
        }
        return patch;
    }

    private static void allow(RoutingContext ctx, HttpMethod method, HttpMethod allowed) {
        if (!method.equals(allowed)) {
            ctx.response().putHeader(HttpHeaders.ALLOW, allowed.name());
            throw new ApiError(405, "METHOD_NOT_ALLOWED", "use " + allowed.name() + " here");
        }
    }

    // ---- authentication ---------------------------------------------------------------------------------------

    private boolean authorized(RoutingContext ctx) {
        String address = ClientAddress.of(ctx.request(), config.trustProxy());
        long seconds = throttle.retryAfterSeconds(address);
        if (seconds > 0) {
            metrics.apiAuthFailed("locked_out");
            audit.refused("api_key_throttled", address, "server API request throttled after repeated wrong keys",
                    kv("retryAfterSeconds", seconds));
            ctx.response().putHeader(HttpHeaders.RETRY_AFTER, Long.toString(seconds));
            error(ctx, new ApiError(429, "TOO_MANY_REQUESTS", "too many requests with a wrong key; try again in "
                    + seconds + " s"));
            return false;
        }
        String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
        String key = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : null;
        boolean match = false;
        for (String k : config.serverApiKeys()) {
            match |= Secrets.sameSecret(key, k); // every key compared: the time does not tell which one matched
        }
        if (match) {
            throttle.succeeded(address);
            return true;
        }
        throttle.failed(address);
        metrics.apiAuthFailed(key == null ? "missing" : "wrong");
        audit.refused("api_key_refused", address, "server API request refused", kv("key", key == null ? "missing" : "wrong"));
        ctx.response().putHeader("WWW-Authenticate", "Bearer");
        error(ctx, new ApiError(401, "UNAUTHORIZED", key == null
                ? "send Authorization: Bearer <FLOCK_SERVER_API_KEY>" : "wrong server API key"));
        return false;
    }

    // ---- output -----------------------------------------------------------------------------------------------

    private static void error(RoutingContext ctx, Throwable cause) {
        if (ctx.response().ended()) {
            return;
        }
        if (cause instanceof ApiError e) {
            ObjectNode body = ProtocolCodec.MAPPER.createObjectNode().put("error", e.code).put("message", e.getMessage());
            json(ctx, e.status, body);
            return;
        }
        if (cause instanceof IllegalStateException) {
            // Redis unreachable: the fleet cannot be read or told
            json(ctx, 503, ProtocolCodec.MAPPER.createObjectNode().put("error", "UNAVAILABLE")
                    .put("message", "the shared store is unreachable; try again"));
            return;
        }
        LOG.warn("server API request failed: {}", cause.toString());
        json(ctx, 500, ProtocolCodec.MAPPER.createObjectNode().put("error", "INTERNAL_ERROR")
                .put("message", "the request could not be handled; see the server log"));
    }

    private static void json(RoutingContext ctx, int status, ObjectNode body) {
        if (ctx.response().ended()) {
            return;
        }
        ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(body.toString());
    }

    private static String quoted(String id) {
        return "\"" + id + "\"";
    }

    private static byte[] readOpenApi() {
        try (InputStream in = ServerApiRoutes.class.getResourceAsStream(OPENAPI_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the OpenAPI document " + OPENAPI_RESOURCE + " is missing from the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + OPENAPI_RESOURCE, e);
        }
    }
}
