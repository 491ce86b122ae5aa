package dev.flock.transport;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.identity.Identity;
import dev.flock.identity.UpgradeAuth;
import dev.flock.metrics.FlockMetrics.Drop;
import dev.flock.protocol.ClientMessage;
import dev.flock.protocol.ErrorCode;
import dev.flock.protocol.InvalidMessage;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.protocol.ServerMessage;
import dev.flock.room.DeliveryKind;
import dev.flock.room.Metadata;
import dev.flock.room.Peer;
import dev.flock.room.RoomBus;
import dev.flock.room.RoomCommand;
import io.netty.buffer.ByteBuf;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import org.slf4j.Logger;
import static net.logstash.logback.argument.StructuredArguments.kv;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * One client socket: validates its frames, keeps its per-room state ({@link RoomSlot}), hands room traffic
 * to room verticles, and writes what rooms deliver ({@link SocketDelivery}). Runs on one event loop only.
 *
 * <p>Its writes go through its {@link SocketWriter}. Times are the hub clock's monotonic
 * milliseconds, so a test can move them and a wall-clock step expires nobody.
 */
final class ClientConnection implements Peer, FrameChecks.Policy {

    private static final Logger LOG = LoggerFactory.getLogger(ClientConnection.class);
    private static final byte[] HEARTBEAT_ACK = ProtocolCodec.encode(new ServerMessage.HeartbeatAck());
    private static final long REFUSED_RETRY_MS = 5000;
    /** A failed connection whose peer neither reads our close frame nor closes is cut this long after. */
    private static final long FAIL_LINGER_MS = 2000;
    /** A read-only room's dropped cursor and presence messages get at most one FORBIDDEN per this long. */
    private static final long FORBIDDEN_ERROR_INTERVAL_MS = 1000;
    /** Bounds what one socket can make the server hold; the SDK joins a handful of rooms at most. */
    static final int MAX_ROOMS_PER_CONNECTION = 100;

    private final long id;
    private final ServerWebSocket ws;
    private final ConnectionHub hub;
    private final boolean upgradeKeyValid;
    /** What this socket's verified token says; null for an anonymous socket (no token, or FLOCK_AUTH=off). */
    private final Identity identity;
    /** When a FORBIDDEN last went out for a message to a read-only room this socket holds no slot for. */
    private long slotlessForbiddenAt = Long.MIN_VALUE / 2;
    private final long openedAt;
    private final RateLimiter limiter;
    private final SocketWriter out;
    /** Null only for a socket whose pipeline we cannot see into (then Vert.x's own limits apply). */
    private final WireGuard wire;
    private long failedAt = -1;
    /** This socket's seat in {@link Admission}; given back when it is gone. */
    private final Admission.Ticket ticket;
    private final Map<String, RoomSlot> rooms = new HashMap<>(4);
    private long nextSeq;
    private boolean joinedOnce;
    private boolean closing;
    /** Completed once the socket is closed and the connection has left its rooms and its hub. */
    private final Promise<Void> gone = Promise.promise();
    private String closeReason = "client";
    /** Set by a shutdown: whether this socket's rooms keep its user for the reconnect grace. */
    private boolean graceOnRestart;

    ClientConnection(long id, ServerWebSocket ws, ConnectionHub hub, UpgradeAuth.Admitted credentials, Admission.Ticket ticket) {
        this.ticket = ticket;
        this.id = id;
        this.ws = ws;
        this.hub = hub;
        this.upgradeKeyValid = credentials.keyValid();
        this.identity = credentials.identity();
        this.openedAt = hub.clock.monotonicMillis();
        // the limiter runs on the monotonic clock: a wall-clock step back must not rate-limit every socket
        this.limiter = new RateLimiter(hub.config.maxMessagesPerSecond());
        this.out = new SocketWriter(ws, hub);
        this.wire = InboundPipeline.install(ws, hub.config.maxFrameBytes(), hub.clock::monotonicMillis, this);
        ws.textMessageHandler(this::onText);
        ws.binaryMessageHandler(this::onBinary);
        ws.exceptionHandler(e -> LOG.debug("socket error {}: {}", kv("conn", id), e.toString()));
        ws.closeHandler(v -> onClosed());
        if (LOG.isDebugEnabled()) { // the address string costs ~100 bytes per socket otherwise
            LOG.debug("connection opened {} {}", kv("conn", id), kv("remote", String.valueOf(ws.remoteAddress())));
        }
    }

    @Override
    public long id() {
        return id;
    }

    @Override
    public boolean verified() {
        return identity != null;
    }

    /** The loop this connection runs on; rooms reach it through {@link SocketDelivery}. */
    Context context() {
        return hub.context;
    }

    // ---- inbound ------------------------------------------------------------------------------------------

    private void onText(String text) {
        if (closing) {
            return;
        }
        long now = hub.clock.monotonicMillis();
        if (!limiter.tryAcquire(now)) {
            fail(Violation.rateLimited(hub.config.maxMessagesPerSecond()));
            return;
        }
        if (wire == null && InboundPipeline.tooLarge(text, hub.config.maxFrameBytes())) {
            fail(Violation.tooBig(hub.config.maxFrameBytes()));
            return;
        }
        ClientMessage message;
        try {
            message = hub.codec.decode(text);
        } catch (InvalidMessage e) {
            hub.metrics.received("invalid");
            sendError(ErrorCode.INVALID_MESSAGE, e.getMessage(), e.roomId());
            return;
        }
        dispatch(message, now);
    }

    /** Pings and pongs count against the same limit as messages: a ping flood is a message flood. */
    @Override
    public boolean controlFrame() {
        if (closing) {
            return false;
        }
        if (limiter.tryAcquire(hub.clock.monotonicMillis())) {
            return true;
        }
        fail(Violation.rateLimited(hub.config.maxMessagesPerSecond()));
        return false;
    }

    /** The client's address for the audit trail; computed only then (a string per socket would cost every socket). */
    private String clientAddress() {
        return dev.flock.security.ClientAddress.of(ws.headers(), ws.remoteAddress(), hub.config.trustProxy());
    }

    /** Sends the violation's error (if any) and its close frame, then closes without waiting for the peer. */
    @Override
    public void fail(Violation violation) {
        if (closing) {
            return;
        }
        if (violation.error() != null) {
            sendError(violation.error(), violation.message(), null);
        }
        closing = true;
        closeReason = violation.metricReason();
        failedAt = hub.clock.monotonicMillis();
        if (violation.error() == ErrorCode.RATE_LIMITED) {
            hub.audit.refused("rate_limited", clientAddress(), "socket closed for its message rate",
                    kv("maxMessagesPerSecond", hub.config.maxMessagesPerSecond()));
        }
        LOG.debug("failing {} {} {}", kv("conn", id), kv("code", violation.closeCode()), kv("reason", violation.message()));
        out.fail(violation.closeCode(), violation.message());
    }

    private void onBinary(Buffer ignored) {
        if (closing) {
            return;
        }
        hub.metrics.received("binary");
        sendError(ErrorCode.INVALID_MESSAGE, "binary frames are not supported; send JSON text frames", null);
        close(CloseCodes.UNSUPPORTED, "binary frames are not supported", "binary");
    }

    private void dispatch(ClientMessage message, long now) {
        if (message instanceof ClientMessage.Join join) {
            hub.metrics.received("join");
            onJoin(join, now);
        } else if (message instanceof ClientMessage.Heartbeat heartbeat) {
            hub.metrics.received("heartbeat");
            onHeartbeat(heartbeat, now);
        } else if (message instanceof ClientMessage.CursorMove move) {
            hub.metrics.received("cursor:move");
            onCursorMove(move, now);
        } else if (message instanceof ClientMessage.Leave leave) {
            hub.metrics.received("leave");
            onLeave(leave);
        } else {
            hub.metrics.received(message instanceof ClientMessage.CursorLeave ? "cursor:leave" : "presence:update");
            onRoomUpdate(message, now);
        }
    }

    private void onJoin(ClientMessage.Join join, long now) {
        if (identity == null && hub.apiKeys.required() && !upgradeKeyValid && !hub.apiKeys.accepts(join.apiKey())) {
            sendError(ErrorCode.INVALID_API_KEY, join.apiKey() == null ? "an API key is required" : "invalid API key", null);
            hub.audit.refused("join_refused", clientAddress(), "join refused: API key", kv("key", join.apiKey() == null
                    ? "missing" : "wrong"));
            close(CloseCodes.POLICY, "invalid API key", "invalid_key");
            return;
        }
        RoomSlot slot = rooms.get(join.roomId());
        if (identity != null) {
            join = asVerified(join, slot, now);
            if (join == null) {
                return; // a refused join is no join: the join timeout still closes a socket that never gets one
            }
        }
        joinedOnce = true;
        if (slot == null) {
            if (rooms.size() >= MAX_ROOMS_PER_CONNECTION) {
                sendError(ErrorCode.INVALID_MESSAGE, "more than " + MAX_ROOMS_PER_CONNECTION
                        + " rooms on one connection; leave one first", join.roomId());
                return;
            }
            slot = new RoomSlot(join.roomId(), now);
            rooms.put(join.roomId(), slot);
        }
        slot.lastSeenMs = now;
        startJoin(slot, join, now);
    }

    private void onHeartbeat(ClientMessage.Heartbeat heartbeat, long now) {
        writeNow(HEARTBEAT_ACK);
        RoomSlot slot = rooms.get(heartbeat.roomId());
        if (slot == null) {
            return;
        }
        slot.lastSeenMs = now;
        if (slot.state == RoomSlot.State.EXPIRED) {
            startJoin(slot, slot.join, now);
        } else if (slot.state == RoomSlot.State.REFUSED && now - slot.lastJoinAttemptMs >= REFUSED_RETRY_MS) {
            // a retry is a new join: the token must still allow it
            ClientMessage.Join retry = identity == null ? slot.join : asVerified(slot.join, slot, now);
            if (retry != null) {
                startJoin(slot, retry, now);
            }
        } else if (slot.inRoom()) {
            send(slot, new RoomCommand.Relay(this, heartbeat)); // keeps the connection alive in the presence store
        }
    }

    private void onCursorMove(ClientMessage.CursorMove move, long now) {
        RoomSlot slot = rooms.get(move.roomId());
        if (readOnly(move.roomId(), slot, now)) {
            return;
        }
        if (slot == null) {
            slot = new RoomSlot(move.roomId(), now);
            rooms.put(move.roomId(), slot);
        }
        slot.lastSeenMs = now;
        switch (slot.state) {
            case BUFFERING -> {
                if (!slot.holdPreJoinMove(move, now)) {
                    hub.metrics.dropped(Drop.BEFORE_JOIN); // the oldest of the held moves made room for it
                }
            }
            case EXPIRED -> {
                startJoin(slot, slot.join, now);
                send(slot, new RoomCommand.Relay(this, move));
            }
            case JOINING, ADMITTED -> send(slot, new RoomCommand.Relay(this, move));
            case REFUSED -> hub.metrics.dropped(Drop.NOT_JOINED);
        }
    }

    /** cursor:leave and presence:update: relayed when in the room; a presence update also re-admits. */
    private void onRoomUpdate(ClientMessage message, long now) {
        RoomSlot slot = rooms.get(message.roomId());
        if (readOnly(message.roomId(), slot, now)) {
            return;
        }
        if (slot == null) {
            hub.metrics.dropped(Drop.NOT_JOINED);
            return;
        }
        slot.lastSeenMs = now;
        if (slot.state == RoomSlot.State.EXPIRED && message instanceof ClientMessage.PresenceUpdate) {
            startJoin(slot, slot.join, now);
        }
        if (identity != null && message instanceof ClientMessage.PresenceUpdate update) {
            ObjectNode patch = identity.unlocked(update.patch()); // the token's meta is not the client's to change
            if (patch.isEmpty()) {
                hub.metrics.dropped(Drop.LOCKED_METADATA);
                return;
            }
            message = patch == update.patch() ? update : new ClientMessage.PresenceUpdate(update.roomId(), patch);
        }
        if (slot.inRoom()) {
            send(slot, new RoomCommand.Relay(this, message));
        } else {
            hub.metrics.dropped(Drop.NOT_JOINED);
        }
    }

    private void onLeave(ClientMessage.Leave leave) {
        RoomSlot slot = rooms.remove(leave.roomId());
        if (slot == null) {
            hub.metrics.dropped(Drop.NOT_JOINED);
        } else if (slot.inRoom()) {
            send(slot, new RoomCommand.Relay(this, leave));
        } else {
            hub.metrics.dropped(Drop.BEFORE_JOIN, slot.discardPreJoinMoves()); // a leave before the join: moves held for it
        }
    }

    // ---- what a verified token allows ---------------------------------------------------------------------

    /**
     * A join checked against this socket's token and given the token's metadata; null (with the error sent) when the
     * token forbids it. The socket stays open: a per-room refusal never closes it, or the SDK would reconnect in a
     * loop. A token that expired keeps the rooms its socket already holds.
     */
    private ClientMessage.Join asVerified(ClientMessage.Join join, RoomSlot slot, long now) {
        boolean holdsRoom = slot != null && slot.join != null && slot.state != RoomSlot.State.REFUSED;
        Identity.JoinRefusal refusal = identity.refuses(join.roomId(), join.userId(), holdsRoom, hub.clock.millis());
        if (refusal == null) {
            // in a read-only room a second join must not do what presence:update may not: it keeps the first metadata
            ObjectNode joined = holdsRoom && identity.readOnlyIn(join.roomId()) ? slot.join.metadata() : join.metadata();
            ObjectNode metadata = identity.asserted(joined);
            if (metadata == joined || Metadata.fits(metadata, hub.config.maxMetadataBytes())) {
                return metadata == join.metadata() ? join : new ClientMessage.Join(join.roomId(), join.userId(), metadata, join.apiKey());
            }
            refusal = new Identity.JoinRefusal(ErrorCode.INVALID_MESSAGE, "metadata with the token's meta is larger than "
                    + hub.config.maxMetadataBytes() + " bytes");
        }
        sendError(refusal.code(), refusal.message(), join.roomId());
        if (slot != null && !slot.inRoom()) {
            rooms.remove(join.roomId()); // held pre-join moves or a refused seat: nothing of it may go on
            hub.metrics.dropped(Drop.BEFORE_JOIN, slot.discardPreJoinMoves());
        }
        return null;
    }

    /**
     * A cursor or presence message to a room the token makes read-only: dropped, with at most one FORBIDDEN per room
     * per second (one per second in all for rooms this socket holds no slot for).
     */
    private boolean readOnly(String roomId, RoomSlot slot, long now) {
        if (identity == null || !identity.readOnlyIn(roomId)) {
            return false;
        }
        hub.metrics.dropped(Drop.READ_ONLY);
        if (slot != null) {
            slot.lastSeenMs = now; // a message for the room all the same: its sender is alive
        }
        long last = slot != null ? slot.forbiddenAt : slotlessForbiddenAt;
        if (now - last >= FORBIDDEN_ERROR_INTERVAL_MS) {
            if (slot != null) {
                slot.forbiddenAt = now;
            } else {
                slotlessForbiddenAt = now;
            }
            sendError(ErrorCode.FORBIDDEN, "this connection's token makes this room read-only", roomId);
        }
        return true;
    }

    // ---- to the room verticle -----------------------------------------------------------------------------

    /** Sends the join (and the held cursor moves after it) once the room verticle listens. */
    private void startJoin(RoomSlot slot, ClientMessage.Join join, long now) {
        slot.join = join;
        slot.state = RoomSlot.State.JOINING;
        slot.seq = ++nextSeq;
        slot.lastJoinAttemptMs = now;
        if (slot.waiting == null) {
            slot.waiting = new ArrayDeque<>(4);
        }
        // queue behind anything already waiting, so commands reach the room in the order they came
        slot.waiting.add(new RoomCommand.Join(this, slot.seq, join));
        int held = slot.heldPreJoinMoves();
        ClientMessage.CursorMove[] fresh = slot.takeFreshPreJoinMoves(now);
        hub.metrics.dropped(Drop.BEFORE_JOIN, held - fresh.length); // older than the hold time
        for (ClientMessage.CursorMove move : fresh) {
            slot.waiting.add(new RoomCommand.Relay(this, move));
        }
        long seq = slot.seq;
        hub.registry.routeJoin(slot.roomId).onComplete(ar -> hub.context.runOnContext(v -> routed(slot, seq, ar.failed())));
    }

    private void routed(RoomSlot slot, long seq, boolean failed) {
        if (slot.seq != seq || slot.waiting == null) {
            return; // a newer join took over this slot's queue
        }
        if (failed) {
            // what queued behind the join never reaches a room: cursor moves (the held pre-join ones among them) are
            // dropped before a join that never happened, anything else for a room it never joined
            int moves = 0;
            int others = 0;
            for (RoomCommand c : slot.waiting) {
                if (c instanceof RoomCommand.Relay r) {
                    if (r.message() instanceof ClientMessage.CursorMove) {
                        moves++;
                    } else if (!(r.message() instanceof ClientMessage.Heartbeat)) { // heartbeats are never drops
                        others++;
                    }
                }
            }
            hub.metrics.dropped(Drop.BEFORE_JOIN, moves);
            hub.metrics.dropped(Drop.NOT_JOINED, others);
            slot.waiting = null;
            if (rooms.get(slot.roomId) == slot) {
                rooms.remove(slot.roomId);
            }
            sendError(ErrorCode.INTERNAL_ERROR, "the room could not be opened; try again", slot.roomId);
            return;
        }
        slot.sendWaiting(hub.vertx);
    }

    private void send(RoomSlot slot, RoomCommand command) {
        slot.send(hub.vertx, command);
    }

    // ---- from the room verticle (on this loop) ------------------------------------------------------------

    @Override
    public void joinResult(String roomId, long seq, JoinResult result) {
        RoomSlot slot = rooms.get(roomId);
        if (slot == null) {
            if (result == JoinResult.ADMITTED) {
                // the slot went away meanwhile (an operator close, or the socket left): the room must not keep us
                RoomBus.send(hub.vertx, roomId, new RoomCommand.Disconnect(this));
            }
            return;
        }
        if (slot.seq != seq) {
            return; // superseded by a later join, which the room processes after this one
        }
        switch (result) {
            case ADMITTED -> slot.state = RoomSlot.State.ADMITTED;
            case ROOM_FULL -> slot.state = RoomSlot.State.REFUSED;
            case REJECTED -> rooms.remove(roomId);
        }
    }

    @Override
    public void removed(String roomId, Removal reason) {
        RoomSlot slot = rooms.get(roomId);
        if (slot != null && slot.inRoom()) {
            rooms.remove(roomId);
        }
        if (reason == Removal.SUPERSEDED) {
            close(CloseCodes.SUPERSEDED, "replaced by a newer connection of the same user", "superseded");
        }
    }

    /** Writes a pre-framed WebSocket frame; retains what it keeps and never releases {@code frame}. */
    void deliver(ByteBuf frame, DeliveryKind kind, String aboutUserId) {
        if (!closing) {
            out.deliver(frame, kind, aboutUserId);
        }
    }

    private void writeNow(byte[] payload) {
        out.writeNow(payload);
    }

    private void sendError(ErrorCode code, String message, String roomId) {
        hub.metrics.errorSent(code);
        writeNow(ProtocolCodec.encode(new ServerMessage.Error(code, message, roomId)));
    }

    // ---- lifecycle ----------------------------------------------------------------------------------------

    /** Once a second: TTLs per room, the join timeout, stalled messages, stale pre-join moves, slow consumers. */
    void scan(long now) {
        if (closing) {
            if (failedAt >= 0 && now - failedAt >= FAIL_LINGER_MS) {
                cutFailed();
            }
            return;
        }
        if (wire != null && wire.stalled(now, hub.config.frameTimeoutMs())) {
            fail(Violation.stalled(hub.config.frameTimeoutMs()));
            return;
        }
        if (!joinedOnce && now - openedAt > hub.config.joinTimeoutSeconds() * 1000L) {
            close(CloseCodes.POLICY, "no join within " + hub.config.joinTimeoutSeconds() + " s", "idle");
            return;
        }
        long ttl = hub.config.presenceTtlMs();
        for (Iterator<RoomSlot> it = rooms.values().iterator(); it.hasNext(); ) {
            RoomSlot slot = it.next();
            if (slot.inRoom() && now - slot.lastSeenMs > ttl) {
                slot.state = RoomSlot.State.EXPIRED;
                send(slot, new RoomCommand.Expire(this));
                LOG.debug("presence expired {} {} {}", kv("conn", id), kv("roomId", slot.roomId), kv("userId", slot.join.userId()));
            } else if (slot.staleBuffer(now)) {
                it.remove();
                hub.metrics.dropped(Drop.BEFORE_JOIN, slot.discardPreJoinMoves()); // no join came in time for them
            }
        }
        checkSlowConsumer(now);
    }

    private void checkSlowConsumer(long now) {
        if (out.slowFor(now, hub.config.slowConsumerMaxBytes(), hub.config.slowConsumerGraceMs())) {
            LOG.info("closing slow consumer {} {}", kv("conn", id), kv("queuedBytes", out.queuedBytes()));
            close(CloseCodes.TRY_AGAIN_LATER, "slow consumer", "slow_consumer");
            // the close frame waits behind everything queued, which this peer does not read: leave the rooms at once
            out.abort(this::onClosed);
        }
    }

    /** A failed connection whose peer has not closed its half: the transport is closed under it, once. */
    private void cutFailed() {
        failedAt = -1;
        out.abort(this::onClosed);
    }

    /**
     * Shutdown: closes with 4001 "server restarting", which the reconnect grace covers (the client comes back to
     * another instance and its rooms see nothing); completes once the connection is gone (the hub's count dropped).
     */
    Future<Void> goAway(String reason, boolean graced) {
        graceOnRestart = graced;
        if (closing && failedAt >= 0) {
            cutFailed(); // failed and waiting for its peer's FIN, which the hub's scan no longer bounds
        }
        Future<Void> closed = closing ? Future.succeededFuture() : close(CloseCodes.RESTARTING, reason, "shutdown");
        return closed.transform(ar -> gone.future());
    }

    private Future<Void> close(short code, String reason, String metricReason) {
        if (closing) {
            return Future.succeededFuture();
        }
        closing = true;
        closeReason = metricReason;
        out.stop();
        LOG.debug("closing {} {} {}", kv("conn", id), kv("code", code), kv("reason", reason));
        return ws.close(code, reason);
    }

    /** Leaves every room once, whichever of the socket's close paths gets here first. */
    private void onClosed() {
        if (gone.future().isComplete()) {
            return;
        }
        closing = true;
        out.stop();
        boolean graced = endedWithoutGoodbye();
        for (RoomSlot slot : rooms.values()) {
            if (slot.inRoom() || slot.waiting != null) {
                send(slot, new RoomCommand.Disconnect(this, graced));
            }
            hub.metrics.dropped(Drop.BEFORE_JOIN, slot.discardPreJoinMoves()); // the socket went before their join
        }
        rooms.clear();
        hub.forget(this);
        ticket.release();
        hub.metrics.connectionClosed(closeReason);
        LOG.debug("connection closed {} {}", kv("conn", id), kv("reason", closeReason));
        gone.complete();
    }

    /**
     * Whether the rooms should keep this user for the reconnect grace: the client went without a clean goodbye (the
     * TCP connection ended without its close frame, which Vert.x reports as 1006, or its close code is not 1000, 1001
     * or 1005), or this server is restarting (4001). Not when the server closed the socket for a reason of its own.
     */
    private boolean endedWithoutGoodbye() {
        if ("shutdown".equals(closeReason)) {
            return graceOnRestart;
        }
        if (!"client".equals(closeReason)) {
            return false;
        }
        Short code = ws.closeStatusCode();
        return code == null || (code != 1000 && code != 1001 && code != 1005);
    }

    @Override
    public String toString() {
        return "conn-" + id;
    }
}
