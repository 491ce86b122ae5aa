package dev.flock.transport;

import dev.flock.protocol.ClientMessage;
import dev.flock.support.VirtualClock;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One connection's slot in one room on its own, read from a {@link VirtualClock} (PROTOCOL.md, "Cursor before
 * join"): up to {@value RoomSlot#PRE_JOIN_MOVES} moves before the join are held for {@value RoomSlot#PRE_JOIN_HOLD_MS}
 * ms; older ones are dropped when the join takes them.
 */
class RoomSlotTest {

    private final VirtualClock clock = new VirtualClock();

    private long now() {
        return clock.monotonicMillis();
    }

    private static ClientMessage.CursorMove move(double x) {
        return new ClientMessage.CursorMove("r", x, 0);
    }

    private void hold(RoomSlot slot, double x) {
        slot.holdPreJoinMove(move(x), now());
    }

    @Test
    void keepsTheLatestThreeMoves_inOrder() {
        RoomSlot slot = new RoomSlot("r", now());
        for (int i = 1; i <= 5; i++) {
            hold(slot, i);
            clock.advance(10);
        }
        assertThat(slot.takeFreshPreJoinMoves(now())).containsExactly(move(3), move(4), move(5));
    }

    @Test
    void fewerThanThree_areAllKept() {
        RoomSlot slot = new RoomSlot("r", now());
        hold(slot, 1);
        hold(slot, 2);
        assertThat(slot.takeFreshPreJoinMoves(now())).containsExactly(move(1), move(2));
    }

    @Test
    void movesOlderThanTheHold_areDroppedOnTake_oneHeldExactlyThatLongIsKept() {
        RoomSlot slot = new RoomSlot("r", now());
        hold(slot, 1); // at 0 ms
        clock.advance(300);
        hold(slot, 2); // at 300 ms
        clock.advance(200);
        hold(slot, 3); // at 500 ms
        clock.advance(301); // 801 ms: 801, 501 and 301 ms old
        assertThat(slot.takeFreshPreJoinMoves(now())).containsExactly(move(3));

        RoomSlot edge = new RoomSlot("r", now());
        hold(edge, 1);
        clock.advance(RoomSlot.PRE_JOIN_HOLD_MS);
        hold(edge, 2);
        assertThat(edge.takeFreshPreJoinMoves(now())).as("exactly 500 ms old: still held").containsExactly(move(1), move(2));

        RoomSlot stale = new RoomSlot("r", now());
        hold(stale, 1);
        clock.advance(RoomSlot.PRE_JOIN_HOLD_MS + 1);
        assertThat(stale.takeFreshPreJoinMoves(now())).isEmpty();
    }

    @Test
    void takeForgetsEveryMove_freshOrNot() {
        RoomSlot slot = new RoomSlot("r", now());
        assertThat(slot.takeFreshPreJoinMoves(now())).isEmpty();
        hold(slot, 1);
        clock.advance(600);
        hold(slot, 2);
        assertThat(slot.takeFreshPreJoinMoves(now())).containsExactly(move(2));
        assertThat(slot.takeFreshPreJoinMoves(now())).isEmpty();
        hold(slot, 3); // held again after a take
        assertThat(slot.takeFreshPreJoinMoves(now())).containsExactly(move(3));
    }

    @Test
    void staleBuffer_onceTheLatestMoveIsOlderThanTheHold_andOnlyWhileBuffering() {
        RoomSlot slot = new RoomSlot("r", now());
        assertThat(slot.staleBuffer(now())).as("buffering, holding nothing").isTrue();
        hold(slot, 1);
        assertThat(slot.staleBuffer(now())).isFalse();
        clock.advance(400);
        hold(slot, 2); // the latest move decides
        clock.advance(RoomSlot.PRE_JOIN_HOLD_MS);
        assertThat(slot.staleBuffer(now())).as("latest move exactly 500 ms old").isFalse();
        clock.advance(1);
        assertThat(slot.staleBuffer(now())).isTrue();

        for (RoomSlot.State state : new RoomSlot.State[]{RoomSlot.State.JOINING, RoomSlot.State.ADMITTED,
                RoomSlot.State.EXPIRED, RoomSlot.State.REFUSED}) {
            RoomSlot other = new RoomSlot("r", now());
            other.state = state;
            clock.advance(10_000);
            assertThat(other.staleBuffer(now())).as(state.name()).isFalse();
        }
    }
}
