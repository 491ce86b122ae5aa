package dev.flock.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.support.HttpCalls;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** Real HTTP calls to one Flock instance's server API, with its key (or other headers) as the test asks. */
final class ApiClient implements AutoCloseable {

    record Response(int status, MultiMap headers, String body) {
        String header(String name) {
            return headers.get(name);
        }

        JsonNode json() {
            try {
                return ProtocolCodec.MAPPER.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + body, e);
            }
        }

        String error() {
            return json().path("error").asText(null);
        }
    }

    private final Vertx vertx;
    private final HttpClient client;
    private final int port;
    private final String key;

    ApiClient(Vertx vertx, int port, String key) {
        this.vertx = vertx;
        this.client = vertx.createHttpClient();
        this.port = port;
        this.key = key;
    }

    /** One path segment, percent-encoded as UTF-8 (a space as %20, '/' as %2F). */
    static String seg(String id) {
        return URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
    }

    Response get(String uri) {
        return call(HttpMethod.GET, uri, null);
    }

    Response call(HttpMethod method, String uri, String body) {
        Map<String, String> headers = new HashMap<>();
        if (key != null) {
            headers.put("Authorization", "Bearer " + key);
        }
        return call(method, uri, body, headers);
    }

    /** With exactly these headers (no key unless they hold one). */
    Response call(HttpMethod method, String uri, String body, Map<String, String> headers) {
        Map<String, String> all = new HashMap<>(headers);
        if (body != null) {
            all.putIfAbsent("Content-Type", "application/json");
        }
        HttpCalls.Response r = HttpCalls.send(vertx, client, new RequestOptions().setMethod(method).setHost("127.0.0.1")
                .setPort(port).setURI(uri), body, all);
        return new Response(r.status(), r.headers(), r.body());
    }

    @Override
    public void close() {
        client.close();
    }
}
