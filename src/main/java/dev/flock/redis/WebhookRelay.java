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
 * numbers them and remembers each moved entry for {@link #MOVED_TTL_MS} (a marker key in the outbox's slot, so a
 * second move of the same entry appends nothing), then delete them from the room stream. The instance that took a
 * decision moves its room's events right after it; a crash between the steps leaves entries in the room stream, which
 * {@link #tick} finds (a SCAN step on every master per sweep interval) and moves; the markers keep that exactly-once.
 * Each move takes the room stream from its start, so events leave a room in the order its scripts recorded them.
 */
final class WebhookRelay {

    private static final Logger LOG = LoggerFactory.getLogger(WebhookRelay.class);
    /** Entries moved per read; a longer stream is moved in several. */
    static final int BATCH = 100;
    /** How long a moved entry is remembered: far longer than a crash takes to be swept up ({@link #tick}). */
    static final long MOVED_TTL_MS = 600_000;
    private static final String PATTERN = "flock:{*}:webhooks";

    /**
     * KEYS[1] the outbox, KEYS[2] its sequence; ARGV[1] the outbox's MAXLEN, ARGV[2] the marker TTL (ms), ARGV[3] the
     * room stream's key; then per entry: its id in the room stream, the number of its field values, the fields.
     * Returns the number of entries appended.
     */
    private static final String APPEND = """
            local appended, i = 0, 4
            while i <= #ARGV do
              local id, n = ARGV[i], tonumber(ARGV[i + 1])
              local f = {}
              for k = i + 2, i + 1 + n do f[#f + 1] = ARGV[k] end
              i = i + 2 + n
              if redis.call('SET', KEYS[1] .. ':moved:' .. ARGV[3] .. ':' .. id, '1', 'NX', 'PX', ARGV[2]) then
                f[#f + 1] = 'n'
                f[#f + 1] = tostring(redis.call('INCR', KEYS[2]))
                redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], '*', unpack(f))
                appended = appended + 1
              end
            end
            return appended
            """;

    private final RedisLink link;
    private final KeyLayout layout;
    private final int maxPending;
    /** Each master's SCAN cursor over the room streams. */
    private final Map<String, String> cursors = new HashMap<>();
    private boolean sweeping;
    private long timer = -1;

    WebhookRelay(RedisLink link, int maxPending) {
        this.link = link;
        this.layout = link.layout();
        this.maxPending = Math.max(1, maxPending);
    }

    /** Sweeps for left-over room streams every {@code intervalMs} of {@code clock}; on the bridge's loop. */
    void start(Clock clock, long intervalMs) {
        timer = clock.setPeriodic(intervalMs, id -> tick());
    }

    void stop(Clock clock) {
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
            Request append = Request.cmd(Command.EVAL).arg(APPEND).arg(2).arg(layout.webhooks()).arg(layout.webhooks() + ":seq")
                    .arg(maxPending).arg(MOVED_TTL_MS).arg(roomStream);
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
            Request delete = Request.cmd(Command.XDEL).arg(roomStream);
            ids.forEach(delete::arg);
            int read = ids.size();
            return link.send(append).compose(v -> link.send(delete)).compose(v -> read == BATCH && rounds > 1
                    ? move(roomStream, rounds - 1) : Future.succeededFuture());
        });
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
