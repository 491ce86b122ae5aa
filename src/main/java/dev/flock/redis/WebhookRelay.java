package dev.flock.redis;

import dev.flock.time.Clock;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Redis Cluster with webhooks (issue 23): moves the events a room's scripts recorded in the room's own stream
 * {@code flock:{<roomId>}:webhooks} (in the room's slot, so each is written in the step of its decision) to the fleet's
 * outbox {@code flock:{webhooks}} (another slot), which {@link RedisOutbox} delivers from as on one Redis.
 *
 * <p>A move is three steps: read the room stream's oldest entries, append them to the outbox with one script that
 * numbers them and remembers the last moved entry's id of that room stream for {@link #MOVED_TTL_MS} (one key per room
 * stream, in the outbox's slot: an entry at or before it is never appended again), then delete them from the room
 * stream (and the stream once empty). The instance that took a decision moves its room's events right after it; a
 * crash between the steps leaves entries in the room stream, which {@link #tick} finds (a SCAN step on every master per
 * sweep interval) and moves; the remembered id keeps that exactly-once. Each move takes the room stream from its start,
 * so events leave a room in the order its scripts recorded them (stream ids grow with the node's clock, also across a
 * stream deleted and written again).
 */
final class WebhookRelay {

    private static final Logger LOG = LoggerFactory.getLogger(WebhookRelay.class);
    /** Entries moved per read; a longer stream is moved in several. */
    static final int BATCH = 100;
    /** How long a room stream's last moved id is remembered (renewed by every move): a day, far longer than a sweep. */
    static final long MOVED_TTL_MS = 86_400_000;
    private static final String PATTERN = "flock:{*}:webhooks";

    /**
     * KEYS[1] the outbox, KEYS[2] its sequence, KEYS[3] the room stream's last moved id; ARGV[1] the outbox's MAXLEN,
     * ARGV[2] how long the last moved id is kept (ms); then per entry, oldest first: its id in the room stream, the
     * number of its field values, the fields. Appends the entries after the last moved id; returns how many.
     */
    private static final String APPEND = """
            local function after(a, b)
              if not b then return true end
              local am, as = string.match(a, '^(%d+)-(%d+)$')
              local bm, bs = string.match(b, '^(%d+)-(%d+)$')
              am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
              return am > bm or (am == bm and as > bs)
            end
            local last = redis.call('GET', KEYS[3])
            local appended, i = 0, 3
            while i <= #ARGV do
              local id, n = ARGV[i], tonumber(ARGV[i + 1])
              local f = {}
              for k = i + 2, i + 1 + n do f[#f + 1] = ARGV[k] end
              i = i + 2 + n
              if after(id, last) then
                f[#f + 1] = 'n'
                f[#f + 1] = tostring(redis.call('INCR', KEYS[2]))
                redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], '*', unpack(f))
                appended = appended + 1
                last = id
              end
            end
            if last then
              redis.call('SET', KEYS[3], last, 'PX', ARGV[2])
            end
            return appended
            """;

    /** KEYS[1] a room stream; ARGV the moved ids. Deletes them, and the stream once nothing is left in it. */
    private static final String DELETE = """
            redis.call('XDEL', KEYS[1], unpack(ARGV))
            if redis.call('XLEN', KEYS[1]) == 0 then
              redis.call('DEL', KEYS[1])
            end
            return 0
            """;

    private final RedisLink link;
    private final KeyLayout layout;
    private final int maxPending;
    private final Clock clock;
    private final long sweepIntervalMs;
    /** Each master's SCAN cursor over the room streams. */
    private final Map<String, String> cursors = new HashMap<>();
    private boolean sweeping;
    private long timer = -1;

    /** {@code sweepIntervalMs} of {@code clock}: how often {@link #tick} looks for left-over room streams. */
    WebhookRelay(RedisLink link, int maxPending, Clock clock, long sweepIntervalMs) {
        this.link = link;
        this.layout = link.layout();
        this.maxPending = Math.max(1, maxPending);
        this.clock = clock;
        this.sweepIntervalMs = sweepIntervalMs;
    }

    /** Starts the sweep for left-over room streams; on the bridge's loop. */
    void start() {
        timer = clock.setPeriodic(sweepIntervalMs, id -> tick());
    }

    void stop() {
        if (timer >= 0) {
            clock.cancelTimer(timer);
        }
    }

    /** Moves the events recorded in the room's stream to the outbox; never fails (a later move or sweep retries). */
    Future<Void> relay(String roomId) {
        return move(layout.roomWebhooks(roomId), 10).otherwiseEmpty();
    }

    private Future<Void> move(String roomStream, int rounds) {
        return link.send(Request.cmd(Command.XRANGE).arg(roomStream).arg("-").arg("+").arg("COUNT").arg(BATCH)).compose(r -> {
            if (r == null || r.size() == 0) {
                return Future.succeededFuture();
            }
            Request append = Request.cmd(Command.EVAL).arg(APPEND).arg(3).arg(layout.webhooks()).arg(layout.webhooks() + ":seq")
                    .arg(movedKey(roomStream)).arg(maxPending).arg(MOVED_TTL_MS);
            List<String> ids = new ArrayList<>(r.size());
            for (Response entry : r) {
                String id = entry.get(0).toString();
                Response fields = entry.get(1);
                ids.add(id);
                append.arg(id).arg(fields == null ? 0 : fields.size());
                if (fields != null) {
                    for (Response f : fields) {
                        append.arg(f.toString());
                    }
                }
            }
            Request delete = Request.cmd(Command.EVAL).arg(DELETE).arg(1).arg(roomStream);
            ids.forEach(delete::arg);
            int read = ids.size();
            return link.send(append).compose(v -> link.send(delete)).compose(v -> read == BATCH && rounds > 1
                    ? move(roomStream, rounds - 1) : Future.succeededFuture());
        });
    }

    /** Where a room stream's last moved id is kept: {@code flock:{webhooks}:moved:<room stream>}, the outbox's slot. */
    String movedKey(String roomStream) {
        return layout.webhooks() + ":moved:" + roomStream;
    }

    /** One SCAN step on every master for room streams an interrupted move left, and moves what they hold. */
    void tick() {
        if (sweeping || !link.connected()) {
            return;
        }
        sweeping = true;
        link.scanStep(PATTERN, BATCH, cursors)
                .compose(keys -> Future.join(keys.stream().map(k -> move(k, 10)).toList()))
                .onFailure(err -> LOG.debug("webhook room streams not swept: {}", err.toString()))
                .onComplete(ar -> sweeping = false);
    }
}
