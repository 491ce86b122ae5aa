package dev.flock.transport;

import dev.flock.protocol.ClientMessage;
import dev.flock.room.RoomBus;
import dev.flock.room.RoomCommand;
import io.vertx.core.Vertx;

import java.util.ArrayDeque;

/**
 * One connection's state in one room (PROTOCOL.md, "A connection's state per room"): the last join it
 * sent, where that join stands, when the room last heard from it, and what waits to be sent.
 */
final class RoomSlot {

    /**
     * PROTOCOL.md's per-room states. "Left" and "closed by an operator" have no slot; "never joined" has none
     * either, or a {@code BUFFERING} one while it holds pre-join cursor moves.
     */
    enum State { BUFFERING, JOINING, ADMITTED, EXPIRED, REFUSED }

    static final int PRE_JOIN_MOVES = 3;
    static final long PRE_JOIN_HOLD_MS = 500;

    final String roomId;
    State state = State.BUFFERING;
    /** The last join received for this room, replayed on re-admission. */
    ClientMessage.Join join;
    long seq;
    long lastSeenMs;
    long lastJoinAttemptMs;
    /** When a FORBIDDEN last went out for this room (read-only under the socket's token). */
    long forbiddenAt = Long.MIN_VALUE / 2;
    /** Commands waiting for the room verticle to listen on its address; null when it does. */
    ArrayDeque<RoomCommand> waiting;
    /** Cursor moves sent before the join, with their arrival times. */
    private ClientMessage.CursorMove[] preJoin;
    private long[] preJoinAt;
    private int preJoinCount;

    RoomSlot(String roomId, long nowMs) {
        this.roomId = roomId;
        this.lastSeenMs = nowMs;
    }

    /** To the room verticle, or behind the commands waiting for it to listen (they keep their order). */
    void send(Vertx vertx, RoomCommand command) {
        if (waiting != null) {
            waiting.add(command);
        } else {
            RoomBus.send(vertx, roomId, command);
        }
    }

    /** The room verticle listens now: what waited goes to it, in order. */
    void sendWaiting(Vertx vertx) {
        ArrayDeque<RoomCommand> queue = waiting;
        waiting = null;
        for (RoomCommand c : queue) {
            RoomBus.send(vertx, roomId, c);
        }
    }

    boolean inRoom() {
        return state == State.JOINING || state == State.ADMITTED;
    }

    /** Keeps the latest {@value #PRE_JOIN_MOVES} moves; false when the oldest held one was dropped for it. */
    boolean holdPreJoinMove(ClientMessage.CursorMove move, long nowMs) {
        boolean kept = true;
        if (preJoin == null) {
            preJoin = new ClientMessage.CursorMove[PRE_JOIN_MOVES];
            preJoinAt = new long[PRE_JOIN_MOVES];
        }
        if (preJoinCount == PRE_JOIN_MOVES) {
            System.arraycopy(preJoin, 1, preJoin, 0, PRE_JOIN_MOVES - 1);
            System.arraycopy(preJoinAt, 1, preJoinAt, 0, PRE_JOIN_MOVES - 1);
            preJoinCount--;
            kept = false;
        }
        preJoin[preJoinCount] = move;
        preJoinAt[preJoinCount] = nowMs;
        preJoinCount++;
        return kept;
    }

    int heldPreJoinMoves() {
        return preJoinCount;
    }

    /** Forgets the held moves (they will never be relayed); returns how many there were. */
    int discardPreJoinMoves() {
        int n = preJoinCount;
        preJoin = null;
        preJoinAt = null;
        preJoinCount = 0;
        return n;
    }

    /** Hands over the moves still within the hold time, and forgets them all. */
    ClientMessage.CursorMove[] takeFreshPreJoinMoves(long nowMs) {
        int fresh = 0;
        ClientMessage.CursorMove[] out = new ClientMessage.CursorMove[preJoinCount];
        for (int i = 0; i < preJoinCount; i++) {
            if (nowMs - preJoinAt[i] <= PRE_JOIN_HOLD_MS) {
                out[fresh++] = preJoin[i];
            }
        }
        preJoin = null;
        preJoinAt = null;
        preJoinCount = 0;
        return java.util.Arrays.copyOf(out, fresh);
    }

    /** A buffering slot whose moves have all gone stale holds nothing worth keeping. */
    boolean staleBuffer(long nowMs) {
        return state == State.BUFFERING && (preJoinCount == 0 || nowMs - preJoinAt[preJoinCount - 1] > PRE_JOIN_HOLD_MS);
    }
}
