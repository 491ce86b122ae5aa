package dev.flock.support;

import dev.flock.time.Clock;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A webhook receiver for tests: a real Vert.x HttpServer on 127.0.0.1, port 0. Records every request (headers, raw
 * body, parsed JSON, the status it answered), answers 200 unless told to fail the next requests with a status or to
 * hold them (never answer). Checks {@code X-Flock-Signature} as a receiver should: HMAC-SHA256 of {@code "<t>.<body>"}
 * with the secret, compared in constant time, and {@code t} not older than {@link #REPLAY_WINDOW_SECONDS} on the
 * clock it is given.
 */
public final class WebhookReceiver implements AutoCloseable {

    public static final long REPLAY_WINDOW_SECONDS = 300;

    /** One request as it arrived; {@code status} = what was answered, -1 = held (no answer). */
    public record Request(MultiMap headers, byte[] body, JsonObject json, int status) {
        public String header(String name) {
            return headers.get(name);
        }

        public String deliveryId() {
            return json.getString("id");
        }

        public List<JsonObject> events() {
            JsonArray a = json.getJsonArray("events");
            List<JsonObject> out = new ArrayList<>();
            for (int i = 0; i < a.size(); i++) {
                out.add(a.getJsonObject(i));
            }
            return out;
        }

        public List<String> eventIds() {
            return events().stream().map(e -> e.getString("id")).toList();
        }

        public List<String> types() {
            return events().stream().map(e -> e.getString("type")).toList();
        }

        public boolean ok() {
            return status / 100 == 2;
        }
    }

    private final Vertx vertx;
    private final HttpServer server;
    private final String secret;
    private final Clock clock;
    private final List<Request> requests = new ArrayList<>();
    private final List<HttpServerRequest> held = new ArrayList<>();
    private int failStatus;
    private int failNext;
    private int holdNext;
    private boolean failAll;

    private WebhookReceiver(Vertx vertx, String secret, Clock clock) {
        this.vertx = vertx;
        this.secret = secret;
        this.clock = clock;
        this.server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(buffer -> {
            byte[] bytes = buffer.getBytes();
            int status;
            synchronized (this) {
                if (holdNext > 0) {
                    holdNext--;
                    status = -1;
                    held.add(req);
                } else if (failAll || failNext > 0) {
                    if (!failAll) {
                        failNext--;
                    }
                    status = failStatus;
                } else {
                    status = 200;
                }
                JsonObject json;
                try {
                    json = new JsonObject(new String(bytes, StandardCharsets.UTF_8));
                } catch (RuntimeException e) {
                    json = new JsonObject();
                }
                requests.add(new Request(req.headers(), bytes, json, status));
                notifyAll();
            }
            if (status > 0) {
                req.response().setStatusCode(status).end();
            }
        }));
    }

    /**
     * On a Vertx of its own: servers on port 0 in one Vertx share a listener, so one next to Flock's in the test's
     * Vertx could take Flock's requests (and Flock the receiver's).
     */
    public static WebhookReceiver start(String secret, Clock clock) {
        WebhookReceiver r = new WebhookReceiver(Vertx.vertx(), secret, clock);
        WsClient.await(r.server.listen(0, "127.0.0.1"));
        return r;
    }

    /** As {@link #start(String, Clock)}, checking the replay window on the wall clock (for tests on real time). */
    public static WebhookReceiver start(String secret) {
        Vertx own = Vertx.vertx();
        WebhookReceiver r = new WebhookReceiver(own, secret, new dev.flock.time.SystemClock(own));
        WsClient.await(r.server.listen(0, "127.0.0.1"));
        return r;
    }

    /** The requests answered 2xx. */
    public List<Request> accepted() {
        return requests().stream().filter(Request::ok).toList();
    }

    /** Every event of every request answered 2xx, in the order received. */
    public List<JsonObject> acceptedEvents() {
        return accepted().stream().flatMap(r -> r.events().stream()).toList();
    }

    public String url() {
        return "http://127.0.0.1:" + server.actualPort() + "/hooks";
    }

    /** The next {@code n} requests are answered with {@code status}. */
    public synchronized WebhookReceiver failNext(int n, int status) {
        failNext = n;
        failStatus = status;
        return this;
    }

    /** Every request is answered with {@code status} (the receiver is "down") until {@link #recover()}. */
    public synchronized WebhookReceiver failAll(int status) {
        failAll = true;
        failStatus = status;
        return this;
    }

    public synchronized WebhookReceiver recover() {
        failAll = false;
        failNext = 0;
        return this;
    }

    /** The next {@code n} requests get no answer at all. */
    public synchronized WebhookReceiver holdNext(int n) {
        holdNext = n;
        return this;
    }

    public synchronized int count() {
        return requests.size();
    }

    public synchronized List<Request> requests() {
        return List.copyOf(requests);
    }

    public synchronized Request request(int i) {
        return requests.get(i);
    }

    /** Every event of the requests answered 2xx, in arrival order. */
    public synchronized List<JsonObject> delivered() {
        List<JsonObject> out = new ArrayList<>();
        requests.stream().filter(Request::ok).forEach(r -> out.addAll(r.events()));
        return out;
    }

    public List<JsonObject> delivered(Predicate<JsonObject> p) {
        return delivered().stream().filter(p).toList();
    }

    /** Waits (bounded) until at least {@code n} requests have arrived; returns the {@code n}-th. */
    public Request await(int n) {
        return await(n, WsClient.TIMEOUT);
    }

    public synchronized Request await(int n, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (requests.size() < n) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("webhook request " + n + " not received within " + timeout + "; got "
                        + requests.size() + ": " + requests.stream().map(r -> r.json().encode()).toList());
            }
            try {
                TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted");
            }
        }
        return requests.get(n - 1);
    }

    /** Whether the request's signature is one this receiver accepts now (on its clock). */
    public boolean verifies(Request r) {
        return verify(r.header("X-Flock-Signature"), r.body(), secret, clock.millis());
    }

    /**
     * The receiver's check of {@code X-Flock-Signature: t=<s>,v1=<hex>}: the HMAC-SHA256 of {@code "<t>.<body>"} with
     * {@code secret} equals v1 (constant-time), and t is at most {@link #REPLAY_WINDOW_SECONDS} before {@code nowMs}.
     */
    public static boolean verify(String header, byte[] body, String secret, long nowMs) {
        if (header == null) {
            return false;
        }
        Long t = null;
        String v1 = null;
        for (String part : header.split(",")) {
            int eq = part.indexOf('=');
            if (eq < 0) {
                return false;
            }
            String k = part.substring(0, eq).trim();
            String v = part.substring(eq + 1).trim();
            if (k.equals("t")) {
                try {
                    t = Long.parseLong(v);
                } catch (NumberFormatException e) {
                    return false;
                }
            } else if (k.equals("v1")) {
                v1 = v;
            }
        }
        if (t == null || v1 == null) {
            return false;
        }
        if (nowMs / 1000 - t > REPLAY_WINDOW_SECONDS) {
            return false;
        }
        byte[] expected;
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update((t + ".").getBytes(StandardCharsets.US_ASCII));
            expected = mac.doFinal(body);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        byte[] given;
        try {
            given = HexFormat.of().parseHex(v1);
        } catch (IllegalArgumentException e) {
            return false;
        }
        return MessageDigest.isEqual(expected, given);
    }

    /** The signature's t (unix seconds). */
    public static long signedAt(Request r) {
        for (String part : r.header("X-Flock-Signature").split(",")) {
            if (part.startsWith("t=")) {
                return Long.parseLong(part.substring(2));
            }
        }
        throw new AssertionError("no t in " + r.header("X-Flock-Signature"));
    }

    /** Answers the held requests now (with 200), e.g. to see a late answer ignored. */
    public void releaseHeld() {
        List<HttpServerRequest> out;
        synchronized (this) {
            out = List.copyOf(held);
            held.clear();
        }
        out.forEach(req -> {
            try {
                req.response().setStatusCode(200).end();
            } catch (RuntimeException ignored) {
                // reset by the sender meanwhile
            }
        });
    }

    @Override
    public void close() {
        try {
            WsClient.await(server.close());
        } catch (RuntimeException ignored) {
            // closing anyway
        } finally {
            WsClient.await(vertx.close());
        }
    }
}
