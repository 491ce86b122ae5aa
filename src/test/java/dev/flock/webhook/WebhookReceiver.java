package dev.flock.webhook;

import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real webhook endpoint for the tests: a Vert.x HttpServer on 127.0.0.1, port 0, in its own Vert.x. It keeps every
 * request (delivery id header, body) and answers {@link #status} (200 unless the test says otherwise).
 */
final class WebhookReceiver implements AutoCloseable {

    /** One request as received. */
    record Request(String deliveryHeader, String signature, JsonObject body, int answeredWith) {
        List<JsonObject> events() {
            List<JsonObject> out = new ArrayList<>();
            JsonArray a = body.getJsonArray("events");
            for (int i = 0; i < a.size(); i++) {
                out.add(a.getJsonObject(i));
            }
            return out;
        }
    }

    final AtomicInteger status = new AtomicInteger(200);
    private final Vertx vertx = Vertx.vertx();
    private final HttpServer server;
    private final List<Request> requests = new ArrayList<>();

    WebhookReceiver() {
        server = WsClient.await(vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(buf -> {
            int answer = status.get();
            synchronized (this) {
                requests.add(new Request(req.getHeader("X-Flock-Delivery"), req.getHeader("X-Flock-Signature"),
                        new JsonObject(buf), answer));
            }
            req.response().setStatusCode(answer).end();
        })).listen(0, "127.0.0.1"));
    }

    String url() {
        return "http://127.0.0.1:" + server.actualPort() + "/hooks";
    }

    synchronized List<Request> requests() {
        return List.copyOf(requests);
    }

    /** The requests answered 2xx. */
    List<Request> accepted() {
        return requests().stream().filter(r -> r.answeredWith() / 100 == 2).toList();
    }

    /** Every event of every accepted request, in the order received. */
    List<JsonObject> acceptedEvents() {
        return accepted().stream().flatMap(r -> r.events().stream()).toList();
    }

    @Override
    public void close() {
        WsClient.await(vertx.close());
    }
}
