package dev.flock.support;

import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import java.util.Map;

/**
 * Real HTTP calls from a test thread. The whole request chain runs on an event loop: built on the test thread,
 * a fast response could end before its body handler is attached, and the body would be lost (seen as a 200
 * with an empty body under load).
 */
public final class HttpCalls {

    public record Response(int status, MultiMap headers, String body) {
        public String header(String name) {
            return headers.get(name);
        }
    }

    private HttpCalls() {
    }

    /** Sends {@code body} (null = none; a form unless {@code headers} name a Content-Type). */
    public static Response send(Vertx vertx, HttpClient client, RequestOptions options, String body,
                                Map<String, String> headers) {
        Promise<Response> response = Promise.promise();
        vertx.runOnContext(v -> client.request(options).compose(request -> {
            if (body != null && !headers.containsKey("Content-Type")) {
                request.putHeader("Content-Type", "application/x-www-form-urlencoded");
            }
            headers.forEach(request::putHeader);
            return body == null ? request.send() : request.send(body);
        }).compose(res -> res.body().map(buffer -> new Response(res.statusCode(), res.headers(), buffer.toString())))
                .onComplete(response));
        return WsClient.await(response.future());
    }

    public static Response get(Vertx vertx, int port, String path) {
        return get(vertx, port, path, Map.of());
    }

    /** A GET on a client of its own, with these request headers (an {@code Authorization: Bearer}, say). */
    public static Response get(Vertx vertx, int port, String path, Map<String, String> headers) {
        HttpClient client = vertx.createHttpClient();
        try {
            return send(vertx, client, new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port)
                    .setURI(path), null, headers);
        } finally {
            client.close();
        }
    }
}
