package dev.flock.redis;

import dev.flock.protocol.WebhookEventType;
import dev.flock.protocol.LeaveReason;
import dev.flock.webhook.Outbox;
import dev.flock.webhook.WebhookEvent;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The fleet's webhook outbox: the stream {@code flock:webhooks}, which the presence scripts append to in the same
 * step as each decision (so a crash between decision and delivery loses nothing), read through one consumer group per
 * webhook URL. One instance at a time delivers: the holder of the lease {@code flock:webhooks:leader}. Whoever takes
 * the lease claims (XAUTOCLAIM) what earlier holders read and did not acknowledge, and reads that first, so after a
 * crash those events go out again, with the same ids; in the normal case each event is read, and sent, once.
 * Delivered entries are trimmed from the stream (XTRIM MINID) once every group is past them. In a Redis Cluster the
 * stream is {@code flock:{webhooks}} (its lease and last failure in its slot), which {@link WebhookRelay} fills from
 * the rooms' own streams.
 */
final class RedisOutbox implements Outbox {

    /** Claimed per XAUTOCLAIM call when taking the lease over. */
    private static final int CLAIM_COUNT = 500;
    private static final long TRIM_EVERY_NANOS = 1_000_000_000L;
    /** KEYS[1] the lease, ARGV[1] this consumer, ARGV[2] the lease's ms. 1 = still ours (renewed), 2 = newly ours, 0 = another's. */
    private static final String LEASE = """
            local cur = redis.call('GET', KEYS[1])
            if cur == ARGV[1] then
              redis.call('PEXPIRE', KEYS[1], ARGV[2])
              return 1
            end
            if not cur then
              redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
              return 2
            end
            return 0
            """;

    /**
     * Deletes consumers that hold no pending entry, so restarts (each instance has a new id) do not pile consumers up:
     * KEYS[1] the stream, ARGV[1] 'self' (this consumer only: a graceful stop) or 'others' (all but this one: a new
     * lease holder, after claiming what they held), ARGV[2] this consumer, ARGV[3..] the groups.
     */
    private static final String PRUNE_CONSUMERS = """
            for i = 3, #ARGV do
              for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[i])) do
                local f = {}
                for k = 1, #c, 2 do f[c[k]] = c[k + 1] end
                local mine = f['name'] == ARGV[2]
                if f['pending'] == 0 and ((ARGV[1] == 'self') == mine) then
                  redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[i], f['name'])
                end
              end
            end
            return 0
            """;

    private final RedisLink link;
    private final KeyLayout layout;
    /** The outbox stream and its lease and last-failure keys, in the link's layout (a cluster's share one slot). */
    private final String stream;
    private final String leaderKey;
    private final String lastFailureKey;
    private final String consumer;
    private final long leaseMs;
    /** Subscriber (URL) → its consumer group. */
    private final Map<String, String> groups = new HashMap<>();
    private final Set<String> groupsCreated = new HashSet<>();
    private long lastTrimNanos;

    RedisOutbox(RedisLink link, String instanceId, List<String> subscribers, long leaseMs) {
        this.link = link;
        this.layout = link.layout();
        this.stream = layout.webhooks();
        this.leaderKey = layout.webhooksLeader();
        this.lastFailureKey = layout.webhooksLastFailure();
        this.consumer = instanceId;
        this.leaseMs = leaseMs;
        subscribers.forEach(s -> groups.put(s, group(s)));
    }

    /** {@code url:<first 16 hex of SHA-256(url)>}: the same URL has the same group on every instance. */
    static String group(String url) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(url.getBytes(StandardCharsets.UTF_8));
            return "url:" + HexFormat.of().formatHex(h, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public Future<Boolean> lead() {
        return ensureGroups().compose(v -> link.send(Request.cmd(Command.EVAL).arg(LEASE).arg(1).arg(leaderKey)
                .arg(consumer).arg(leaseMs))).compose(r -> {
            int state = r.toInteger();
            if (state == 0) {
                return Future.succeededFuture(false);
            }
            // newly ours: everything earlier holders read and did not acknowledge; still ours: whatever another
            // instance read after losing the lease (idle for a lease at least), and what an earlier failed claim left
            Future<Void> claimed = claimAll(state == 2 ? 0 : leaseMs);
            return (state == 2 ? claimed.compose(v -> pruneConsumers("others")) : claimed).map(true);
        });
    }

    /** Each URL's group exists from the start (id 0: it sees every entry still in the stream, none is skipped). */
    private Future<Void> ensureGroups() {
        List<Future<Void>> all = new ArrayList<>();
        for (String g : groups.values()) {
            if (groupsCreated.contains(g)) {
                continue;
            }
            all.add(link.send(Request.cmd(Command.XGROUP).arg("CREATE").arg(stream).arg(g).arg("0").arg("MKSTREAM"))
                    .<Void>mapEmpty().recover(err -> String.valueOf(err.getMessage()).startsWith("BUSYGROUP")
                            ? Future.succeededFuture() : Future.failedFuture(err))
                    .onSuccess(v -> groupsCreated.add(g)));
        }
        return Future.all(all).mapEmpty();
    }

    /** Entries read (by any consumer) and not acknowledged for {@code minIdleMs} become ours; {@link #next} sends them first. */
    private Future<Void> claimAll(long minIdleMs) {
        List<Future<Void>> all = new ArrayList<>();
        groups.values().forEach(g -> all.add(claimFrom(g, "0-0", minIdleMs)));
        return Future.all(all).mapEmpty();
    }

    private Future<Void> claimFrom(String group, String start, long minIdleMs) {
        return link.send(Request.cmd(Command.XAUTOCLAIM).arg(stream).arg(group).arg(consumer).arg(minIdleMs)
                .arg(start).arg("COUNT").arg(CLAIM_COUNT).arg("JUSTID")).compose(r -> {
            String next = r.get(0).toString();
            return "0-0".equals(next) ? Future.succeededFuture() : claimFrom(group, next, minIdleMs);
        });
    }

    @Override
    public Future<Void> resign() {
        Future<Void> done = link.send(Request.cmd(Command.EVAL)
                .arg("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0")
                .arg(1).arg(leaderKey).arg(consumer)).compose(r -> pruneConsumers("self"));
        return done.recover(err -> Future.succeededFuture());
    }

    private Future<Void> pruneConsumers(String which) {
        Request r = Request.cmd(Command.EVAL).arg(PRUNE_CONSUMERS).arg(1).arg(stream).arg(which).arg(consumer);
        groups.values().forEach(r::arg);
        Future<Void> done = link.send(r).mapEmpty();
        return done.recover(err -> Future.succeededFuture()); // bookkeeping only: the next holder tries again
    }

    /**
     * Our own pending entries first (read before and not acknowledged: a batch given up when the lease seemed lost, a
     * read whose answer timed out, a claim), then new ones: so an entry once read is never skipped.
     */
    @Override
    public Future<List<WebhookEvent>> next(String subscriber, int max) {
        String g = groups.get(subscriber);
        return read(g, "0", max).compose(events -> events.isEmpty() ? read(g, ">", max) : Future.succeededFuture(events));
    }

    private Future<List<WebhookEvent>> read(String group, String from, int max) {
        return link.send(Request.cmd(Command.XREADGROUP).arg("GROUP").arg(group).arg(consumer).arg("COUNT").arg(max)
                .arg("STREAMS").arg(stream).arg(from)).recover(err -> {
            if (String.valueOf(err.getMessage()).startsWith("NOGROUP")) {
                groupsCreated.clear(); // Redis lost the stream (a restart without persistence, a flush): the next lead() re-creates it
            }
            return Future.failedFuture(err);
        }).compose(r -> {
            List<WebhookEvent> events = new ArrayList<>();
            List<String> gone = new ArrayList<>();
            if (r != null && r.size() > 0) {
                Response entries = streamEntries(r);
                for (Response entry : entries) {
                    String id = entry.get(0).toString();
                    Response fields = entry.get(1);
                    WebhookEvent e = fields == null ? null : event(id, fields, layout);
                    if (e == null) {
                        gone.add(id); // trimmed away (MAXLEN) while pending, or not an event of ours
                    } else {
                        events.add(e);
                    }
                }
            }
            if (gone.isEmpty()) {
                return Future.succeededFuture(events);
            }
            return xack(group, gone).map(events);
        });
    }

    /** XREADGROUP answers {stream: entries} (RESP3 map) or [[stream, entries]] (RESP2). */
    private Response streamEntries(Response r) {
        Response byStream = field(r, stream);
        return byStream != null ? byStream : r.get(0).get(1);
    }

    /** A field of a reply that is a map in RESP3 and a flat [name, value, ...] array in RESP2; null when nil or absent. */
    static Response field(Response r, String name) {
        if (r.isMap()) {
            return r.get(name);
        }
        for (int i = 0; i + 1 < r.size(); i += 2) {
            Response k = r.get(i);
            if (k != null && k.size() == 0 && name.equals(k.toString())) {
                return r.get(i + 1);
            }
        }
        return null;
    }

    static WebhookEvent event(String streamId, Response fields, KeyLayout layout) {
        Map<String, String> f = new HashMap<>();
        for (int i = 0; i + 1 < fields.size(); i += 2) { // stream entry fields are a flat array in RESP2 and RESP3
            f.put(fields.get(i).toString(), fields.get(i + 1).toString());
        }
        WebhookEventType type = WebhookEventType.of(f.get("type"));
        String room = f.get("room");
        if (type == null || room == null) {
            return null;
        }
        String reason = f.get("reason");
        LeaveReason leave = null;
        if (reason != null) {
            try {
                leave = LeaveReason.valueOf(reason.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                leave = null;
            }
        }
        String meta = f.get("meta");
        return new WebhookEvent("evt_" + streamId, parseLong(f.get("n")), type, layout.decodeRoom(room), f.get("user"), leave,
                meta == null ? null : RedisPresenceStore.parse(meta), parseLong(f.get("t")));
    }

    private static long parseLong(String s) {
        try {
            return s == null ? 0 : Long.parseLong(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    @Override
    public Future<Void> ack(String subscriber, List<WebhookEvent> events) {
        if (events.isEmpty()) {
            return Future.succeededFuture();
        }
        List<String> ids = events.stream().map(e -> e.id().substring("evt_".length())).toList();
        return xack(groups.get(subscriber), ids).compose(v -> trimNowAndThen());
    }

    private Future<Void> xack(String group, List<String> ids) {
        Request r = Request.cmd(Command.XACK).arg(stream).arg(group);
        ids.forEach(r::arg);
        return link.send(r).mapEmpty();
    }

    /** At most once a second: drop the entries every group of ours has acknowledged. */
    private Future<Void> trimNowAndThen() {
        long now = System.nanoTime();
        if (now - lastTrimNanos < TRIM_EVERY_NANOS) {
            return Future.succeededFuture();
        }
        lastTrimNanos = now;
        Future<Void> trimmed = link.send(Request.cmd(Command.XINFO).arg("GROUPS").arg(stream)).compose(r -> {
            List<Future<String>> needed = new ArrayList<>();
            for (Response g : r) {
                String name = field(g, "name").toString();
                if (!groups.containsValue(name)) {
                    continue; // a URL no longer configured here holds nothing back
                }
                long pendingCount = field(g, "pending").toLong();
                String lastDelivered = field(g, "last-delivered-id").toString();
                if (pendingCount == 0) {
                    needed.add(Future.succeededFuture(lastDelivered));
                } else {
                    needed.add(link.send(Request.cmd(Command.XPENDING).arg(stream).arg(name))
                            .map(p -> p.get(1) == null ? lastDelivered : p.get(1).toString()));
                }
            }
            return Future.all(needed).compose(all -> {
                String min = null;
                for (Future<String> f : needed) {
                    if (min == null || compareIds(f.result(), min) < 0) {
                        min = f.result();
                    }
                }
                if (min == null || "0-0".equals(min)) {
                    return Future.succeededFuture();
                }
                // MINID keeps entries at or after it: the oldest still needed (or the last delivered) stays
                return link.send(Request.cmd(Command.XTRIM).arg(stream).arg("MINID").arg(min)).<Void>mapEmpty();
            });
        });
        return trimmed.recover(err -> Future.succeededFuture());
    }

    static int compareIds(String a, String b) {
        String[] x = a.split("-", 2);
        String[] y = b.split("-", 2);
        int c = Long.compare(Long.parseLong(x[0]), Long.parseLong(y[0]));
        return c != 0 ? c : Long.compare(Long.parseLong(x.length > 1 ? x[1] : "0"), Long.parseLong(y.length > 1 ? y[1] : "0"));
    }

    @Override
    public Future<Long> pending(String subscriber) {
        String g = groups.get(subscriber);
        return link.send(Request.cmd(Command.XINFO).arg("GROUPS").arg(stream)).compose(r -> {
            for (Response info : r) {
                if (g.equals(field(info, "name").toString())) {
                    long pendingCount = field(info, "pending").toLong();
                    Response lag = field(info, "lag");
                    if (lag != null) {
                        return Future.succeededFuture(pendingCount + lag.toLong());
                    }
                    return link.send(Request.cmd(Command.XLEN).arg(stream)).map(Response::toLong);
                }
            }
            return Future.succeededFuture(0L);
        });
    }

    @Override
    public Future<Void> failed(String description) {
        Future<Void> written = link.send(Request.cmd(Command.SET).arg(lastFailureKey).arg(description)).mapEmpty();
        return written.recover(err -> Future.succeededFuture());
    }

    @Override
    public Future<String> lastFailure() {
        return link.send(Request.cmd(Command.GET).arg(lastFailureKey)).map(r -> r == null ? null : r.toString());
    }
}
