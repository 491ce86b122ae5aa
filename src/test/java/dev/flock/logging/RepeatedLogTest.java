package dev.flock.logging;

import ch.qos.logback.classic.Level;
import dev.flock.support.LogCapture;
import dev.flock.support.VirtualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;
import static org.assertj.core.api.Assertions.assertThat;

/** The first error of a kind at once, then one line per 10 s window with the count, on a clock the test moves. */
class RepeatedLogTest {

    private static final String LOGGER = "dev.flock.logging.RepeatedLogTest";

    private final VirtualClock clock = new VirtualClock();
    private final RepeatedLog log = new RepeatedLog(LoggerFactory.getLogger(LOGGER), clock, 10);
    private final LogCapture captured = LogCapture.of(LOGGER);

    @AfterEach
    void close() {
        captured.close();
    }

    @Test
    void firstAtOnce_repeatsAsOneLinePerWindow() {
        IllegalStateException cause = new IllegalStateException("boom");
        for (int i = 0; i < 1000; i++) {
            log.error("boom", "route failed", cause);
        }
        assertThat(captured.messages(Level.ERROR)).containsExactly("route failed");
        assertThat(captured.atLeast(Level.ERROR).get(0).getThrowableProxy().getMessage()).isEqualTo("boom");

        clock.advance(9_999);
        assertThat(captured.messages(Level.ERROR)).hasSize(1);
        clock.advance(1);
        assertThat(captured.messages(Level.ERROR)).containsExactly("route failed",
                "route failed (and 999 more like it in the last 10 s)");

        log.error("boom", "route failed", cause);
        log.error("boom", "route failed", cause);
        clock.advance(10_000);
        assertThat(captured.messages(Level.ERROR)).hasSize(3)
                .last().isEqualTo("route failed (and 2 more like it in the last 10 s)");
    }

    @Test
    void aQuietWindowEndsTheSeries_theNextOneIsLoggedAtOnce() {
        log.error("boom", "route failed", null);
        clock.advance(10_000); // no repeat: no summary line
        clock.advance(60_000);
        assertThat(captured.messages(Level.ERROR)).containsExactly("route failed");
        assertThat(clock.pendingTimers()).isZero();

        log.error("boom", "route failed again", null);
        assertThat(captured.messages(Level.ERROR)).containsExactly("route failed", "route failed again");
    }

    @Test
    void kindsAreCountedApart() {
        for (int i = 0; i < 3; i++) {
            log.error("a", "A failed", null);
            log.error("b", "B failed", null);
        }
        clock.advance(10_000);
        assertThat(captured.messages(Level.ERROR)).containsExactlyInAnyOrder("A failed", "B failed",
                "A failed (and 2 more like it in the last 10 s)", "B failed (and 2 more like it in the last 10 s)");
    }

    @Test
    void kindsBeyondTheBoundShareOneSeries() {
        for (int i = 0; i < RepeatedLog.MAX_KINDS + 50; i++) {
            log.error("kind " + i, "failed " + i, null);
        }
        // every kind up to the bound logs its first, the 50 beyond it share the series of "(other kinds)"
        assertThat(captured.messages(Level.ERROR)).hasSize(RepeatedLog.MAX_KINDS + 1);
    }

    @Test
    void atAnotherLevel_withStructuredArguments_theSummaryRepeatsThem() {
        for (int i = 0; i < 4; i++) {
            log.log(org.slf4j.event.Level.WARN, "refused 10.0.0.1", null, "refused {}", kv("remote", "10.0.0.1"));
        }
        clock.advance(10_000);
        assertThat(captured.messages(Level.WARN)).containsExactly("refused remote=10.0.0.1",
                "refused remote=10.0.0.1 (and 3 more like it in the last 10 s)");
        assertThat(captured.atLeast(Level.WARN)).allMatch(e -> e.getLevel() == Level.WARN);
        assertThat(captured.atLeast(Level.WARN).get(1).getArgumentArray()[0]).isEqualTo(kv("remote", "10.0.0.1"));
    }

    @Test
    void aPlainMessageIsNeverReadAsAFormat() {
        log.error("k", "GET /a{}b failed with 500", null);
        log.error("k", "GET /a{}b failed with 500", null);
        clock.advance(10_000);
        assertThat(captured.messages(Level.ERROR)).containsExactly("GET /a{}b failed with 500",
                "GET /a{}b failed with 500 (and 1 more like it in the last 10 s)");
    }

    @Test
    void aSeriesThatEnded_givesItsPlaceBack_soNewKindsAreNotLumpedTogetherForever() {
        RepeatedLog small = new RepeatedLog(LoggerFactory.getLogger(LOGGER), clock, 10, 2);
        small.error("a", "A", null);
        small.error("b", "B", null);
        small.error("c", "C", null); // beyond the bound: the shared series
        small.error("d", "D", null); // counted in it
        clock.advance(10_000);
        assertThat(captured.messages(Level.ERROR)).containsExactly("A", "B", "C", "C (and 1 more of other kinds in the last 10 s)");
        clock.advance(10_000); // every series ended
        small.error("e", "E", null);
        small.error("f", "F", null);
        assertThat(captured.messages(Level.ERROR)).endsWith("E", "F");
    }
}
