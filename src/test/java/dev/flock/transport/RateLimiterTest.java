package dev.flock.transport;

import dev.flock.support.VirtualClock;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The per-connection limiter on its own, read from a {@link VirtualClock} as a connection reads its hub's clock: an
 * exact sliding window of 1000 ms (a message is refused when {@code limit} messages were accepted in the 1000 ms
 * before it, the oldest leaving the window exactly 1000 ms after it came), refused messages never counted.
 */
class RateLimiterTest {

    private final VirtualClock clock = new VirtualClock();

    private RateLimiter limiter(int limit) {
        return new RateLimiter(limit);
    }

    private boolean send(RateLimiter limiter) {
        return limiter.tryAcquire(clock.monotonicMillis());
    }

    @Test
    void limitMessagesWithinAnyWindow_theNextIsRefused_andAcceptedOnceTheOldestLeaves() {
        RateLimiter limiter = limiter(1000);
        for (int i = 0; i < 1000; i++) { // one a millisecond: 1000 messages within 0..999 ms
            assertThat(send(limiter)).as("message %d", i + 1).isTrue();
            if (i < 999) {
                clock.advance(1);
            }
        }
        assertThat(send(limiter)).as("the 1001st within the window").isFalse();
        assertThat(send(limiter)).as("a refused message does not count, nor free anything").isFalse();
        clock.advance(1); // 1000 ms after the first: it leaves the window, one seat frees
        assertThat(send(limiter)).isTrue();
        assertThat(send(limiter)).as("the second is still in the window").isFalse();
        clock.advance(1);
        assertThat(send(limiter)).isTrue();
        assertThat(send(limiter)).isFalse();
    }

    @Test
    void aBurstFillsTheWindow_andItEmptiesExactlyOneSecondLater() {
        RateLimiter limiter = limiter(100);
        for (int i = 0; i < 100; i++) {
            assertThat(send(limiter)).isTrue();
        }
        assertThat(send(limiter)).isFalse();
        clock.advance(999);
        assertThat(send(limiter)).as("999 ms later the burst is still within the window").isFalse();
        clock.advance(1);
        for (int i = 0; i < 100; i++) {
            assertThat(send(limiter)).as("message %d after the window", i + 1).isTrue();
        }
        assertThat(send(limiter)).isFalse();
    }

    @Test
    void theRingGrowsBeyondItsEightInitialSlots_keepingTheOrder_evenWhenItHasWrapped() {
        RateLimiter limiter = limiter(40);
        // fill the 8 initial slots at 0..7 ms, let 0..3 leave, and refill so that the ring has wrapped
        for (int t = 0; t < 8; t++) {
            assertThat(send(limiter)).isTrue();
            clock.advance(1);
        }
        clock.advance(1003 - 8); // now 1003 ms: the messages of 0..3 ms have left
        for (int i = 0; i < 4; i++) {
            assertThat(send(limiter)).isTrue(); // the ring is full again, its head in the middle
        }
        // grows (8 -> 16 -> 32 -> 40) from a wrapped ring: 8 + 32 = 40 in the window
        for (int i = 0; i < 32; i++) {
            assertThat(send(limiter)).as("message %d beyond the initial slots", i + 1).isTrue();
        }
        assertThat(send(limiter)).as("the 41st").isFalse();
        // the oldest four (4..7 ms) leave one by one, in order, at 1004..1007 ms
        for (int t = 1004; t <= 1007; t++) {
            clock.advance(1);
            assertThat(send(limiter)).as("at %d ms", t).isTrue();
            assertThat(send(limiter)).as("again at %d ms", t).isFalse();
        }
        // the 36 of 1003 ms leave together at 2003 ms: nothing frees before
        clock.advance(2002 - 1007);
        assertThat(send(limiter)).isFalse();
        clock.advance(1);
        for (int i = 0; i < 36; i++) {
            assertThat(send(limiter)).as("message %d at 2003 ms", i + 1).isTrue();
        }
        assertThat(send(limiter)).isFalse();
    }

    @Test
    void aLimitOfOne_acceptsOneMessagePerSecond() {
        RateLimiter limiter = limiter(1);
        assertThat(send(limiter)).isTrue();
        assertThat(send(limiter)).isFalse();
        clock.advance(999);
        assertThat(send(limiter)).isFalse();
        clock.advance(1);
        assertThat(send(limiter)).isTrue();
        clock.advance(500);
        assertThat(send(limiter)).isFalse();
        clock.advance(500);
        assertThat(send(limiter)).isTrue();
    }

    @Test
    void aLimitBelowTheInitialSlots_isExact() {
        RateLimiter limiter = limiter(3);
        assertThat(send(limiter)).isTrue();
        clock.advance(10);
        assertThat(send(limiter)).isTrue();
        assertThat(send(limiter)).isTrue();
        assertThat(send(limiter)).isFalse();
        clock.advance(990); // the first leaves
        assertThat(send(limiter)).isTrue();
        assertThat(send(limiter)).isFalse();
    }

    /** Against the definition, over random gaps and bursts: accepted iff fewer than limit accepted in (now-1000, now]. */
    @Test
    void matchesTheDefinition_overRandomTraffic() {
        Random random = new Random(42);
        for (int limit : new int[]{1, 2, 7, 8, 9, 100}) {
            RateLimiter limiter = limiter(limit);
            ArrayDeque<Long> accepted = new ArrayDeque<>();
            for (int i = 0; i < 20_000; i++) {
                clock.advance(random.nextInt(10) < 7 ? random.nextInt(3) : random.nextInt(400));
                long now = clock.monotonicMillis();
                while (!accepted.isEmpty() && now - accepted.peekFirst() >= 1000) {
                    accepted.pollFirst();
                }
                boolean expected = accepted.size() < limit;
                assertThat(limiter.tryAcquire(now)).as("limit %d, message %d", limit, i).isEqualTo(expected);
                if (expected) {
                    accepted.addLast(now);
                }
            }
        }
    }

    /** A socket open for more than 2^31 ms (24.8 days) between two bursts is not refused: times are kept whole. */
    @Test
    void aConnectionOpenForWeeks_isNotRefused_afterAQuietSpell() {
        RateLimiter limiter = limiter(2);
        assertThat(send(limiter)).isTrue();
        assertThat(send(limiter)).isTrue();
        clock.advance((1L << 31) + 5);
        assertThat(send(limiter)).isTrue();
        assertThat(send(limiter)).isTrue();
        assertThat(send(limiter)).isFalse();
    }
}
