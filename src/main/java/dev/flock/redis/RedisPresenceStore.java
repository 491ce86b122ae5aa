package dev.flock.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.config.FlockConfig;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.protocol.ServerMessage;
import dev.flock.room.Metadata;
import dev.flock.room.PresenceStore;
import dev.flock.protocol.LeaveReason;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Shared presence in Redis, in the original server's layout (presence hash, members set, cursor hash) plus a
 * connections sorted set per (room, user) of ours. Every decision is one Lua script ({@link Scripts}), run with
 * EVALSHA and an EVAL fallback when Redis does not know the script (first use, or after a restart). The same
 * model and decisions as {@link dev.flock.room.MemoryPresenceStore}; fails while Redis is unreachable (see
 * {@link FailoverPresenceStore}).
 */
public final class RedisPresenceStore implements PresenceStore {

    private static final int MERGE_ATTEMPTS = 8;

    private final RedisLink link;
    private final FlockConfig config;
    private final Scripts scripts;
    private final KeyLayout layout;
    /** Cluster with webhooks: moves a room's recorded events to the outbox after each decision; else null. */
    private volatile WebhookRelay relay;
    /** Our own connection entries ({@code flock:conns:*}): the presence TTL plus the grace, so our expiry decides first. */
    private final long ttlMs;
    /** The keys the original reads too (presence and cursor hashes): exactly the configured TTL, as it writes them. */
    private final long keyTtlMs;

    RedisPresenceStore(RedisLink link, FlockConfig config) {
        this(link, config, Scripts.WITHOUT_EVENTS);
    }

    /** {@code scripts}: which webhook events the decisions record in the outbox stream ({@link Scripts#recording}). */
    RedisPresenceStore(RedisLink link, FlockConfig config, Scripts scripts) {
        this.link = link;
        this.config = config;
        this.scripts = scripts;
        this.layout = scripts.layout();
        this.ttlMs = PresenceStore.connectionTtlMs(config);
        this.keyTtlMs = config.presenceTtlMs();
    }

    @Override
    public Future<Admission> admit(String roomId, String userId, String connectionId, ObjectNode metadata, int limit,
                                   boolean evict) {
        return eval(scripts.admit(), roomId, admitArgs(roomId, userId, connectionId, metadata, limit, evict))
                .map(RedisPresenceStore::admission).onSuccess(a -> relayIf(roomId, recorded(a)));
    }

    private List<String> admitArgs(String roomId, String userId, String connectionId, ObjectNode metadata, int limit,
                                   boolean evict) {
        return List.of(layout.roomArg(roomId), userId, connectionId, json(metadata), Long.toString(ttlMs),
                Integer.toString(limit), evict ? "evict" : "share", Long.toString(keyTtlMs));
    }

    /** admit.lua's reply: {status, stored metadata or nil, pruned}. */
    private static Admission admission(Response r) {
        Admission.Status status = Admission.Status.valueOf(r.get(0).toString().toUpperCase(java.util.Locale.ROOT));
        Response stored = r.get(1);
        ObjectNode storedMetadata = stored == null ? null : parse(stored.toString());
        return new Admission(status, storedMetadata, strings(r.get(2)));
    }

    @Override
    public Future<Admission> admitFirst(String roomId, String userId, String connectionId, ObjectNode metadata, int limit,
                                        boolean evict) {
        return eval(scripts.admitFirst(), roomId, admitArgs(roomId, userId, connectionId, metadata, limit, evict))
                .map(r -> admission(r).withView(snapshotOf(r.get(3)))).onSuccess(a -> relayIf(roomId, recorded(a)));
    }

    @Override
    public Future<Boolean> remove(String roomId, String userId, String connectionId, LeaveReason reason) {
        return eval(scripts.remove(), roomId, List.of(layout.roomArg(roomId), userId, connectionId, reason.wire()))
                .map(r -> r.toInteger() == 1).onSuccess(gone -> relayIf(roomId, gone));
    }

    /** Cluster with webhooks: the relay that moves each decision's events from the room's stream to the outbox. */
    void relayEvents(WebhookRelay relay) {
        this.relay = relay;
    }

    /** Whether an admission wrote an event: a new member, or members pruned on the way. */
    private static boolean recorded(Admission a) {
        return a.status() == Admission.Status.JOINED || !a.pruned().isEmpty();
    }

    private void relayIf(String roomId, boolean recorded) {
        WebhookRelay r = relay;
        if (r != null && recorded) {
            r.relay(roomId);
        }
    }

    /** A graced entry is the connection's id behind {@code ~g:}, scored by the grace's end (see grace.lua). */
    @Override
    public Future<Void> grace(String roomId, String userId, String connectionId, long graceMs) {
        return eval(scripts.grace(), roomId, List.of(layout.roomArg(roomId), userId, connectionId, Long.toString(graceMs))).mapEmpty();
    }

    @Override
    public Future<Boolean> endGrace(String roomId, String userId, String connectionId, LeaveReason reason) {
        return remove(roomId, userId, GRACED + connectionId, reason);
    }

    /** The prefix of a graced entry in the connections set. */
    static final String GRACED = "~g:";

    @Override
    public Future<ObjectNode> merge(String roomId, String userId, ObjectNode base, ObjectNode patch) {
        return mergeAttempt(roomId, userId, json(base), base, patch, 1);
    }

    /** Compare-and-set: merge into what we believe stored; when another instance changed it first, merge into theirs. */
    private Future<ObjectNode> mergeAttempt(String roomId, String userId, String expected, ObjectNode base, ObjectNode patch,
                                            int attempt) {
        ObjectNode merged = Metadata.merged(base, patch);
        if (!Metadata.fits(merged, config.maxMetadataBytes())) {
            return Future.failedFuture(new MetadataTooLarge());
        }
        return eval(scripts.merge(), roomId, List.of(layout.roomArg(roomId), userId, expected, json(merged))).compose(r -> {
            int code = r.get(0).toInteger();
            if (code != 0) {
                relayIf(roomId, code == 1);
                return Future.succeededFuture(merged);
            }
            String current = r.get(1).toString();
            if (attempt >= MERGE_ATTEMPTS) {
                return Future.failedFuture(new IllegalStateException("metadata merge kept conflicting"));
            }
            return mergeAttempt(roomId, userId, current, parse(current), patch, attempt + 1);
        });
    }

    @Override
    public Future<List<String>> refresh(String roomId, List<Touch> touches, List<CursorWrite> cursors, boolean rewrite) {
        List<String> args = new ArrayList<>(4 + touches.size() * 3 + cursors.size() * 4);
        args.add(layout.roomArg(roomId));
        args.add(Long.toString(ttlMs));
        args.add(Long.toString(keyTtlMs));
        args.add(rewrite ? "1" : "0");
        args.add(Integer.toString(touches.size()));
        for (Touch t : touches) {
            args.add(t.userId());
            args.add(t.connectionId());
            args.add(rewrite ? json(t.metadata()) : "");
        }
        for (CursorWrite c : cursors) {
            args.add(c.userId());
            if (c.cursor() == null) {
                args.add("");
                args.add("");
                args.add("");
            } else {
                args.add(number(c.cursor().x()));
                args.add(number(c.cursor().y()));
                args.add(Long.toString(c.cursor().timestamp()));
            }
        }
        // the activity's refresh may wait for the next publish batch (RedisLink.sendSoon) and ride in its write; a
        // rewrite (after Redis lost the room) is awaited by the room and leaves at once
        String members = layout.members(roomId);
        return eval(scripts.refresh(), List.of(members), args, rewrite ? link::send : r -> link.sendSoon(members, r))
                .map(RedisPresenceStore::strings)
                .onSuccess(recreated -> relayIf(roomId, rewrite)); // a rewrite may make users members again
    }

    @Override
    public Future<List<Snapshot>> snapshot(String roomId) {
        return eval(scripts.snapshot(), roomId, List.of(layout.roomArg(roomId))).map(RedisPresenceStore::snapshotOf);
    }

    /** snapshot.lua's reply (an empty table arrives as an empty array, or as nil from some proxies). */
    private static List<Snapshot> snapshotOf(Response r) {
        if (r == null) {
            return List.of();
        }
        List<Snapshot> out = new ArrayList<>(r.size());
        for (Response u : r) {
            out.add(new Snapshot(u.get(0).toString(), parse(u.get(1).toString()),
                    cursor(u.get(2).toString(), u.get(3).toString(), u.get(4).toString()), u.get(5).toInteger(),
                    u.get(6).toInteger() == 1));
        }
        return out;
    }

    @Override
    public Future<List<String>> sweep(String roomId, String userId) {
        List<String> args = userId == null ? List.of(layout.roomArg(roomId)) : List.of(layout.roomArg(roomId), userId);
        return eval(scripts.sweep(), roomId, args).map(RedisPresenceStore::strings)
                .onSuccess(removed -> relayIf(roomId, !removed.isEmpty()));
    }

    @Override
    public Future<Takeover> takeover(String roomId, String userId, List<String> connectionIds, String publisher,
                                     boolean joined) {
        // the publisher's instance key is in another slot of a cluster: asked first, outside the script (it only
        // tells an instance of ours, alive, from an original one)
        Future<Boolean> ours = publisher == null || publisher.isEmpty() ? Future.succeededFuture(false)
                : link.send(Request.cmd(Command.EXISTS).arg(Keys.instance(publisher))).map(r -> r.toInteger() == 1);
        return ours.compose(isOurs -> {
            List<String> args = new ArrayList<>(4 + connectionIds.size());
            args.add(layout.roomArg(roomId));
            args.add(userId);
            args.add(isOurs ? "1" : "0");
            args.add(joined ? "1" : "0");
            args.addAll(connectionIds);
            return eval(scripts.takeover(), roomId, args).map(r -> new Takeover(r.toInteger() > 0, isOurs));
        });
    }

    /**
     * Claims at most {@code limit} rooms in which every connection of ours expired (crash leftovers, or rooms only an
     * original instance writes to); each comes up again one connection TTL later unless a sweep unlists it.
     */
    Future<List<String>> claimDueRooms(int limit) {
        return eval(scripts.due(), List.of(Keys.ROOM_INDEX), List.of("", Long.toString(ttlMs), Integer.toString(limit)))
                .map(r -> strings(r).stream().map(Keys::decode).toList());
    }

    /**
     * Which of {@code roomIds} the user is present in (see rooms-of.lua); the caller keeps each call's list short. In a
     * cluster the rooms are in different slots: one call per room, sent together.
     */
    Future<List<String>> roomsOf(String userId, List<String> roomIds) {
        if (layout == KeyLayout.CLUSTER && roomIds.size() > 1) {
            List<Future<List<String>>> each = roomIds.stream().map(r -> roomsOf(userId, List.of(r))).toList();
            return Future.all(each).map(all -> each.stream().flatMap(f -> f.result().stream()).toList());
        }
        List<String> args = new ArrayList<>(2 + roomIds.size());
        args.add("");
        args.add(userId);
        roomIds.forEach(r -> args.add(layout.roomArg(r)));
        List<String> keys = roomIds.stream().map(layout::members).toList();
        return eval(scripts.roomsOf(), keys, args).map(r -> strings(r).stream().map(layout::decodeRoom).toList());
    }

    // ---- scripts -------------------------------------------------------------------------------------------------

    /**
     * A link set-up step: loads every script into a fresh (or restarted) Redis' script cache in one pipelined write, so
     * the first decisions of a storm after a connect hit with EVALSHA instead of each paying a NOSCRIPT and an EVAL with
     * the whole text (issue 22). Never fails the connect: a Redis that refuses SCRIPT (an ACL) still runs EVAL.
     */
    Future<Void> loadScripts(io.vertx.redis.client.RedisConnection commands) {
        List<Request> loads = scripts.all().stream().map(s -> Request.cmd(Command.SCRIPT).arg("LOAD").arg(s.text())).toList();
        return RedisLink.within(commands.batch(loads)).<Void>mapEmpty().recover(err -> Future.succeededFuture());
    }

    /** A script about one room: KEYS[1] is its members key. */
    private Future<Response> eval(Scripts.Script script, String roomId, List<String> args) {
        return eval(script, List.of(layout.members(roomId)), args);
    }

    private Future<Response> eval(Scripts.Script script, List<String> keys, List<String> args) {
        return eval(script, keys, args, link::send);
    }

    /** {@code first} sends the EVALSHA ({@link RedisLink#send} or {@link RedisLink#sendSoon}); a fallback EVAL leaves at once. */
    private Future<Response> eval(Scripts.Script script, List<String> keys, List<String> args,
                                  java.util.function.Function<Request, Future<Response>> first) {
        return first.apply(request(Command.EVALSHA, script.sha(), keys, args)).recover(err -> {
            String message = err.getMessage();
            if (message != null && message.startsWith("NOSCRIPT")) {
                return link.send(request(Command.EVAL, script.text(), keys, args));
            }
            return Future.failedFuture(err);
        });
    }

    private static Request request(Command command, String scriptOrSha, List<String> keys, List<String> args) {
        Request r = Request.cmd(command).arg(scriptOrSha).arg(keys.size());
        for (String k : keys) {
            r.arg(k);
        }
        for (String a : args) {
            r.arg(a);
        }
        return r;
    }

    private static List<String> strings(Response r) {
        if (r == null || r.size() == 0) {
            return List.of();
        }
        List<String> out = new ArrayList<>(r.size());
        for (Response s : r) {
            out.add(s.toString());
        }
        return out;
    }

    private static ServerMessage.Cursor cursor(String x, String y, String ts) {
        if (x.isEmpty() || y.isEmpty()) {
            return null;
        }
        try {
            long timestamp = ts.isEmpty() ? 0 : (long) Double.parseDouble(ts);
            return new ServerMessage.Cursor(Double.parseDouble(x), Double.parseDouble(y), timestamp);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String number(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    static String json(ObjectNode metadata) {
        try {
            return ProtocolCodec.MAPPER.writeValueAsString(metadata);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static ObjectNode parse(String json) {
        try {
            JsonNode n = ProtocolCodec.MAPPER.readTree(json);
            return n instanceof ObjectNode o ? o : ProtocolCodec.MAPPER.createObjectNode();
        } catch (IOException e) {
            return ProtocolCodec.MAPPER.createObjectNode();
        }
    }
}
