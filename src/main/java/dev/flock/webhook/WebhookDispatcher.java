package dev.flock.webhook;

import dev.flock.config.WebhookSettings;
import dev.flock.metrics.FlockMetrics;
import dev.flock.time.Clock;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Delivers the outbox to each {@code FLOCK_WEBHOOK_URL}, on its own event loop. Per URL, one request at a time, in the
 * outbox's order (so the order per room holds): every {@code FLOCK_WEBHOOK_BATCH_MS} the events recorded meanwhile
 * (up to {@link #MAX_BATCH}) leave in one signed request; a 2xx acknowledges them; any other status, a network error
 * or no answer within {@link #TIMEOUT_MS} retries the same body (same delivery id, new signature timestamp) after an
 * exponential backoff with jitter, while the events behind it wait. Events older than
 * {@code FLOCK_WEBHOOK_MAX_AGE_SECONDS} are dropped and counted.
 *
 * <p>Only the holder of the outbox's lease ({@link Outbox#lead}) delivers. The lease is renewed on real time, since
 * it expires on Redis' clock; batching, timeouts and retries run on Flock's {@link Clock}, so tests move them.
 */
public final class WebhookDispatcher extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(WebhookDispatcher.class);
    /** Events per request: 100 events of 4 KiB metadata are 400 KiB of body, and a backlog drains at once anyway. */
    static final int MAX_BATCH = 100;
    static final long TIMEOUT_MS = 5000;
    /** How often an idle URL looks for new events when batching is off. */
    private static final long MIN_POLL_MS = 50;
    private static final long PENDING_REFRESH_MS = 2000;

    private final WebhookSettings settings;
    private final Outbox outbox;
    private final Clock clock;
    private final FlockMetrics metrics;
    private final WebhookSigner signer;
    private final List<Subscription> subscriptions = new ArrayList<>();
    private final AtomicLong pending = new AtomicLong();
    private HttpClient http;
    private boolean leading;
    private boolean stopped;
    private long leaseTimer = -1;
    private long pendingTimer = -1;

    public WebhookDispatcher(WebhookSettings settings, Outbox outbox, Clock clock, FlockMetrics metrics) {
        this.settings = settings;
        this.outbox = outbox;
        this.clock = clock;
        this.metrics = metrics;
        this.signer = new WebhookSigner(settings.secret());
    }

    @Override
    public Future<?> start() {
        http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout((int) TIMEOUT_MS).setKeepAlive(true)
                .setName("flock-webhooks"));
        metrics.webhooks(pending::get);
        for (URI url : settings.urls()) {
            subscriptions.add(new Subscription(url));
        }
        leaseTimer = vertx.setPeriodic(Math.max(100, settings.leaderLeaseMs() / 3), id -> renewLease());
        pendingTimer = clock.setPeriodic(PENDING_REFRESH_MS, id -> refreshPending());
        return renewLease().onComplete(ar -> subscriptions.forEach(Subscription::poll));
    }

    @Override
    public Future<?> stop() {
        stopped = true;
        vertx.cancelTimer(leaseTimer);
        clock.cancelTimer(pendingTimer);
        subscriptions.forEach(Subscription::cancel);
        // a request in flight is let finish (at most its timeout) and, if delivered, acknowledged: closing the client
        // under it would leave delivered events unacknowledged, and the next lease holder would send them again
        List<Future<Void>> inFlight = subscriptions.stream()
                .map(s -> s.inFlight == null ? Future.<Void>succeededFuture() : s.inFlight.future()).toList();
        return Future.join(inFlight).timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS).<Void>mapEmpty()
                .otherwiseEmpty().eventually(() -> leading ? outbox.resign() : Future.succeededFuture())
                .eventually(() -> http.close());
    }

    /** Events waiting for delivery, summed over the URLs, as last counted (fleet-wide in Redis mode). */
    public long pending() {
        return pending.get();
    }

    /** The latest delivery failure (fleet-wide in Redis mode), or null. */
    public Future<String> lastFailure() {
        return outbox.lastFailure().otherwiseEmpty();
    }

    /** Whether this instance delivers now (the lease holder), for the admin dashboard and tests. */
    public boolean leading() {
        return leading;
    }

    private Future<Boolean> renewLease() {
        return outbox.lead().otherwise(false).onSuccess(lead -> {
            if (lead != leading) {
                LOG.info(lead ? "delivering the webhooks of the fleet" : "another instance delivers the webhooks now");
            }
            leading = lead;
        });
    }

    private void refreshPending() {
        List<Future<Long>> counts = subscriptions.stream().map(s -> outbox.pending(s.id).otherwise(0L)).toList();
        Future.all(counts).onSuccess(all -> pending.set(counts.stream().mapToLong(Future::result).sum()));
    }

    private long pollMs() {
        return settings.batchMs() > 0 ? settings.batchMs() : MIN_POLL_MS;
    }

    /** One URL's delivery: a loop of poll → send → (retry…) → acknowledge. */
    private final class Subscription {
        final String id;
        final URI url;
        /** The sequence number of the last event read, to see gaps (events the bounded outbox dropped); -1 = none yet. */
        long lastSeq = -1;
        List<WebhookEvent> batch;
        String deliveryId;
        long firstSentMs;
        byte[] body;
        int attempt;
        long timer = -1;
        /** The request being sent: completes once it is answered (and, when delivered, acknowledged) or timed out. */
        Promise<Void> inFlight;

        Subscription(URI url) {
            this.url = url;
            this.id = url.toString();
        }

        void cancel() {
            clock.cancelTimer(timer);
        }

        void later(long delayMs, Runnable step) {
            if (!stopped) {
                timer = clock.setTimer(Math.max(1, delayMs), t -> step.run());
            }
        }

        void poll() {
            if (stopped) {
                return;
            }
            if (!leading) {
                later(pollMs(), this::poll);
                return;
            }
            outbox.next(id, MAX_BATCH).onComplete(ar -> {
                if (ar.failed() || ar.result().isEmpty()) {
                    if (ar.failed()) {
                        LOG.debug("webhook outbox unreadable {}: {}", kv("url", safe(url)), ar.cause().toString());
                    }
                    later(pollMs(), this::poll);
                    return;
                }
                begin(ar.result());
            });
        }

        void begin(List<WebhookEvent> events) {
            countGap(events);
            batch = events;
            deliveryId = "dlv_" + UUID.randomUUID();
            firstSentMs = clock.millis();
            body = null;
            attempt = 0;
            send();
        }

        void countGap(List<WebhookEvent> events) {
            long first = events.get(0).seq();
            if (lastSeq >= 0 && first > lastSeq + 1) {
                metrics.webhookDropped("overflow", first - lastSeq - 1);
            }
            lastSeq = Math.max(lastSeq, events.get(events.size() - 1).seq());
        }

        void send() {
            if (stopped) {
                return;
            }
            if (!leading) {
                batch = null; // the new lease holder takes these over from the outbox
                later(pollMs(), this::poll);
                return;
            }
            long now = clock.millis();
            long maxAgeMs = settings.maxAgeSeconds() * 1000L;
            List<WebhookEvent> fresh = batch.stream().filter(e -> now - e.timeMs() <= maxAgeMs).toList();
            if (fresh.size() < batch.size()) {
                List<WebhookEvent> old = batch.stream().filter(e -> now - e.timeMs() > maxAgeMs).toList();
                metrics.webhookDropped("max_age", old.size());
                LOG.warn("webhook events dropped undelivered after FLOCK_WEBHOOK_MAX_AGE_SECONDS {} {}",
                        kv("url", safe(url)), kv("events", old.size()));
                outbox.ack(id, old);
                batch = fresh;
                body = null;
                if (fresh.isEmpty()) {
                    poll();
                    return;
                }
            }
            if (body == null) {
                body = WebhookBody.of(deliveryId, firstSentMs, batch);
            }
            post(body, now);
        }

        void post(byte[] payload, long now) {
            long started = System.nanoTime();
            Promise<Void> done = Promise.promise();
            inFlight = done;
            boolean[] over = {false};
            HttpClientRequest[] request = {null};
            long timeout = clock.setTimer(TIMEOUT_MS, t -> {
                if (!over[0]) {
                    over[0] = true;
                    if (request[0] != null) {
                        request[0].reset();
                    }
                    failed("timeout", "no answer within " + TIMEOUT_MS + " ms", started);
                    done.tryComplete();
                }
            });
            RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(id)
                    .putHeader("Content-Type", "application/json")
                    .putHeader("User-Agent", "Flock-Webhooks/1")
                    .putHeader("X-Flock-Delivery", deliveryId)
                    .putHeader(WebhookSigner.HEADER, signer.sign(now / 1000, payload));
            http.request(options).compose(req -> {
                request[0] = req;
                if (over[0]) {
                    req.reset(); // connected after the timeout: the retry sends it, not this late copy
                    return Future.failedFuture("timed out before connecting");
                }
                return req.send(Buffer.buffer(payload));
            }).compose(resp -> {
                resp.handler(ignored -> { }); // the answer's body is not needed, and not kept
                return resp.end().map(v -> resp.statusCode());
            }).onComplete(ar -> {
                if (over[0]) {
                    return;
                }
                over[0] = true;
                clock.cancelTimer(timeout);
                if (ar.failed()) {
                    failed("network_error", ar.cause().toString(), started);
                    done.tryComplete();
                } else if (ar.result() / 100 == 2) {
                    delivered(started, done);
                } else {
                    failed("http_error", "HTTP " + ar.result(), started);
                    done.tryComplete();
                }
            });
        }

        void delivered(long started, Promise<Void> done) {
            metrics.webhookDelivery("delivered", System.nanoTime() - started);
            acknowledge(batch, done);
        }

        /**
         * Acknowledges a delivered batch, retrying until the outbox takes it (an unacknowledged entry would be read again
         * and sent twice, and would hold back the outbox's trimming); then the next poll.
         */
        void acknowledge(List<WebhookEvent> delivered, Promise<Void> done) {
            outbox.ack(id, delivered).onComplete(ar -> {
                if (ar.failed() && !stopped) {
                    later(pollMs(), () -> acknowledge(delivered, done));
                    return;
                }
                done.tryComplete();
                batch = null;
                if (delivered.size() >= MAX_BATCH) {
                    poll(); // a backlog: the next batch at once
                } else {
                    later(pollMs(), this::poll);
                }
            });
        }

        void failed(String result, String description, long started) {
            metrics.webhookDelivery(result, System.nanoTime() - started);
            attempt++;
            long delay = Backoff.delayMs(attempt);
            LOG.warn("webhook delivery failed {} {} {} {}", kv("url", safe(url)), kv("result", description),
                    kv("attempt", attempt), kv("retryInMs", delay));
            outbox.failed(java.time.Instant.ofEpochMilli(clock.millis()) + " " + safe(url) + ": " + description
                    + " (attempt " + attempt + ", " + batch.size() + " events)");
            later(delay, this::send);
        }
    }

    /** The URL without credentials or query (which may carry a token), for logs and the dashboard. */
    static String safe(URI url) {
        return url.getScheme() + "://" + url.getHost() + (url.getPort() > 0 ? ":" + url.getPort() : "")
                + (url.getRawPath() == null ? "" : url.getRawPath());
    }
}
