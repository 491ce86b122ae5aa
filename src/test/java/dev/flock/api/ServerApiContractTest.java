package dev.flock.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flock.FlockServer;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.support.TestServers;
import dev.flock.support.VirtualClock;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OpenAPI document against the running server: every documented operation is called over real HTTP, with a room
 * populated over real WebSockets, and each documented response is provoked and checked against its schema; routes the
 * document does not name are not served.
 */
@ExtendWith(VertxExtension.class)
class ServerApiContractTest {

    private static final String KEY = "contract-key-0123456789";
    /** Documented statuses the contract test cannot provoke on a healthy in-memory server (503: Redis down). */
    private static final Set<String> NOT_PROVOKED = Set.of("500", "503");
    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "options", "head", "patch", "trace");

    private Vertx vertx;
    private FlockServer server;
    private ApiClient api;
    private ApiClient anonymous;
    private JsonNode doc;
    private SchemaCheck schemas;
    private final List<WsClient> clients = new ArrayList<>();
    private final AtomicInteger forwarded = new AtomicInteger();

    @BeforeEach
    void setUp(Vertx vertx) throws Exception {
        this.vertx = vertx;
        // a client address per throttling check (X-Forwarded-For, trusted), so one check's lockout does not touch the others
        server = TestServers.start(vertx, new VirtualClock(), "FLOCK_SERVER_API_KEY", KEY, "FLOCK_TRUST_PROXY", "true");
        api = new ApiClient(vertx, server.port(), KEY);
        anonymous = new ApiClient(vertx, server.port(), null);
        try (InputStream in = ServerApiRoutes.class.getResourceAsStream("/api/openapi.json")) {
            doc = ProtocolCodec.MAPPER.readTree(in);
        }
        schemas = new SchemaCheck(doc);
    }

    @AfterEach
    void tearDown() {
        clients.forEach(WsClient::close);
        api.close();
        anonymous.close();
        WsClient.await(server.close());
    }

    @Test
    void docsCopyEqualsTheResource_andTheServedDocumentIsTheResource() throws Exception {
        byte[] resource;
        try (InputStream in = ServerApiRoutes.class.getResourceAsStream("/api/openapi.json")) {
            resource = in.readAllBytes();
        }
        assertThat(Files.readAllBytes(Path.of("docs/openapi.json"))).isEqualTo(resource);
        assertThat(Files.readAllBytes(Path.of("src/main/resources/api/openapi.json"))).isEqualTo(resource);
        ApiClient.Response served = anonymous.get("/api/v1/openapi.json");
        assertThat(served.status()).isEqualTo(200);
        assertThat(served.header("Content-Type")).startsWith("application/json");
        assertThat(served.json()).isEqualTo(doc);
        assertThat(doc.get("openapi").asText()).isEqualTo("3.1.0");
        JsonNode scheme = doc.at("/components/securitySchemes/bearerAuth");
        assertThat(scheme.get("type").asText()).isEqualTo("http");
        assertThat(scheme.get("scheme").asText()).isEqualTo("bearer");
        assertThat(doc.at("/security/0").has("bearerAuth")).isTrue();
    }

    @Test
    void everyDocumentedResponseOfEveryOperationIsWhatTheServerAnswers() {
        List<String> covered = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields();
        assertThat(doc.get("paths").size()).isEqualTo(7);
        while (paths.hasNext()) {
            Map.Entry<String, JsonNode> path = paths.next();
            Iterator<Map.Entry<String, JsonNode>> ops = path.getValue().fields();
            while (ops.hasNext()) {
                Map.Entry<String, JsonNode> op = ops.next();
                assertThat(METHODS).contains(op.getKey());
                Iterator<String> statuses = op.getValue().get("responses").fieldNames();
                while (statuses.hasNext()) {
                    String status = statuses.next();
                    if (NOT_PROVOKED.contains(status)) {
                        continue;
                    }
                    provoke(path.getKey(), HttpMethod.valueOf(op.getKey().toUpperCase()), op.getValue(), status);
                    covered.add(op.getKey() + " " + path.getKey() + " " + status);
                }
            }
        }
        // the statuses the brief asks for, on every operation that has them
        assertThat(covered).contains("get /api/v1/rooms 200", "get /api/v1/rooms 400", "get /api/v1/rooms 401",
                "get /api/v1/rooms/{roomId} 404", "delete /api/v1/rooms/{roomId}/users/{userId} 204",
                "patch /api/v1/rooms/{roomId}/users/{userId}/metadata 200", "post /api/v1/rooms/{roomId}/close 204",
                "get /api/v1/users/{userId}/rooms 404", "get /api/v1/openapi.json 200");
    }

    /** Sets up, sends and checks one documented response of one operation. */
    private void provoke(String template, HttpMethod method, JsonNode op, String status) {
        boolean secured = !op.has("security") || op.get("security").size() > 0;
        String opId = op.get("operationId").asText();
        Map<String, String> ids = new HashMap<>();
        String body = op.has("requestBody") ? "{\"status\":\"busy\"}" : null;
        String query = "";
        Map<String, String> headers = new HashMap<>(Map.of("Authorization", "Bearer " + KEY));
        switch (status) {
            case "200", "204" -> {
                String room = "room-" + opId;
                populate(room, "alice", "bob");
                ids.put("roomId", room);
                ids.put("userId", "alice");
                if (opId.equals("listRooms")) {
                    query = "?limit=1000";
                }
            }
            case "400" -> {
                populate("room-" + opId, "alice");
                ids.put("roomId", "room-" + opId);
                ids.put("userId", "alice");
                if (opId.equals("listRooms")) {
                    query = "?limit=0";
                } else if (opId.equals("patchMetadata")) {
                    body = "[\"not\", \"an\", \"object\"]";
                } else {
                    ids.put(pathParams(template).get(0), "bad%01id"); // a control character
                }
            }
            case "401" -> {
                assertThat(secured).as(opId + " documents 401 but needs no key").isTrue();
                ids.put("roomId", "any");
                ids.put("userId", "any");
                headers.put("Authorization", "Bearer wrong-key");
            }
            case "404" -> {
                ids.put("roomId", "no-such-room-" + opId);
                ids.put("userId", "nobody");
            }
            case "413" -> {
                populate("room-" + opId, "alice");
                ids.put("roomId", "room-" + opId);
                ids.put("userId", "alice");
                body = "{\"pad\":\"" + "x".repeat(70 * 1024) + "\"}";
            }
            case "429" -> {
                assertThat(secured).isTrue();
                ids.put("roomId", "any");
                ids.put("userId", "any");
                headers.put("Authorization", "Bearer wrong-key");
            }
            default -> throw new AssertionError(opId + " documents " + status + ", which this test does not know how to provoke");
        }
        String uri = template;
        for (String p : pathParams(template)) {
            String v = ids.get(p);
            assertThat(v).as("value for path parameter " + p).isNotNull();
            uri = uri.replace("{" + p + "}", v.contains("%") ? v : ApiClient.seg(v));
        }
        uri += query;
        if (status.equals("429")) {
            headers.put("X-Forwarded-For", "10.0.0." + forwarded.incrementAndGet());
            // three free failures, the fourth sets the lock (LoginThrottle); the next attempt is refused
            for (int i = 0; i < 4; i++) {
                assertThat(api.call(method, uri, body, headers).status()).isEqualTo(401);
            }
        } else {
            // every check from one address of its own, so earlier 401s never lock this one out
            headers.put("X-Forwarded-For", "10.0.1." + forwarded.incrementAndGet());
        }
        ApiClient.Response r = api.call(method, uri, body, headers);
        String what = method + " " + uri + " (" + opId + ")";
        assertThat(r.status()).as(what + ": " + r.body()).isEqualTo(Integer.parseInt(status));
        JsonNode documented = schemas.resolve(op.get("responses").get(status));
        checkHeaders(documented, r, what);
        JsonNode content = documented.path("content").path("application/json").path("schema");
        if (content.isMissingNode()) {
            assertThat(r.body()).as(what + " documents no body").isEmpty();
            return;
        }
        assertThat(r.header("Content-Type")).as(what).startsWith("application/json");
        List<String> problems = schemas.problems(content, r.json());
        assertThat(problems).as(what + " body " + r.body()).isEmpty();
        if (status.equals("200") && opId.equals("getRoom")) {
            // the documented optional properties are really there when they apply
            JsonNode alice = findUser(r.json(), "alice");
            assertThat(alice.has("cursor")).as(r.body()).isTrue();
            assertThat(alice.has("verified")).as(r.body()).isTrue(); // false: an unsigned join
            assertThat(alice.get("connections").asInt()).isEqualTo(1);
        }
        if (status.equals("200") && opId.equals("listRooms")) {
            assertThat(r.json().get("rooms").size()).isPositive();
        }
    }

    private void checkHeaders(JsonNode response, ApiClient.Response r, String what) {
        response.path("headers").fieldNames().forEachRemaining(h -> {
            assertThat(r.header(h)).as(what + " header " + h).isNotNull();
            JsonNode schema = schemas.resolve(response.get("headers").get(h)).path("schema");
            JsonNode value = schema.path("type").asText().equals("integer")
                    ? ProtocolCodec.MAPPER.getNodeFactory().numberNode(Long.parseLong(r.header(h)))
                    : ProtocolCodec.MAPPER.getNodeFactory().textNode(r.header(h));
            assertThat(schemas.problems(schema, value)).as(what + " header " + h).isEmpty();
        });
    }

    private static JsonNode findUser(JsonNode room, String userId) {
        for (JsonNode u : room.get("users")) {
            if (u.get("userId").asText().equals(userId)) {
                return u;
            }
        }
        throw new AssertionError(userId + " not in " + room);
    }

    private static List<String> pathParams(String template) {
        List<String> out = new ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\{([^}]+)}").matcher(template);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /** Users in a room over real WebSockets, each with metadata, the first with a cursor. */
    private void populate(String room, String... users) {
        for (int i = 0; i < users.length; i++) {
            WsClient c = WsClient.connect(vertx, server.port());
            clients.add(c);
            c.joinAndAck(room, users[i], new JsonObject().put("name", users[i]));
            if (i == 0) {
                c.move(room, 0.25, 0.75);
            }
        }
        if (users.length > 1) {
            // the cursor has been applied once the last user sees it: as cursor:updated, or in its join:ack
            clients.get(clients.size() - 1).await(m -> WsClient.is("cursor:updated", room, users[0]).test(m)
                    || (WsClient.type(m, "join:ack") && room.equals(m.getString("roomId"))
                    && m.getJsonArray("users").stream().anyMatch(u -> u instanceof JsonObject o
                    && users[0].equals(o.getString("userId")) && o.containsKey("cursor"))));
        }
    }

    @Test
    void routesTheDocumentDoesNotNameAreNotServed() {
        populate("r", "alice");
        Set<String> documentedGets = new LinkedHashSet<>();
        doc.get("paths").fieldNames().forEachRemaining(documentedGets::add);
        for (String uri : List.of("/api/v1", "/api/v1/", "/api/v1/nope", "/api/v1/rooms/r/users",
                "/api/v1/rooms/r/users/alice/metadata/x", "/api/v1/rooms/r/close/x", "/api/v1/users/alice",
                "/api/v1/users/alice/rooms/r", "/api/v1/rooms/r/members", "/api/v1/openapi.yaml", "/api/v1/room/r",
                "/api/v2/rooms", "/api/v1/users", "/api/v1/rooms/r/users/alice/close")) {
            ApiClient.Response r = api.get(uri);
            assertThat(r.status()).as(uri + ": " + r.body()).isIn(404);
            if (uri.startsWith("/api/v1")) {
                assertThat(r.error()).as(uri).isEqualTo("NOT_FOUND");
                assertThat(r.json().get("message").isTextual()).isTrue();
            }
        }
        // a documented path with a method it does not document: 405 naming the documented one
        Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields();
        while (paths.hasNext()) {
            Map.Entry<String, JsonNode> path = paths.next();
            Set<String> documented = new LinkedHashSet<>();
            path.getValue().fieldNames().forEachRemaining(documented::add);
            String uri = path.getKey().replace("{roomId}", "r").replace("{userId}", "alice");
            for (String m : List.of("get", "post", "put", "delete", "patch")) {
                if (documented.contains(m)) {
                    continue;
                }
                ApiClient.Response r = api.call(HttpMethod.valueOf(m.toUpperCase()), uri, m.equals("get") || m.equals("delete") ? null : "{}");
                assertThat(r.status()).as(m + " " + uri + ": " + r.body()).isEqualTo(405);
                assertThat(r.error()).isEqualTo("METHOD_NOT_ALLOWED");
                assertThat(r.header("Allow")).isEqualTo(String.join(",", documented).toUpperCase());
            }
        }
    }
}
