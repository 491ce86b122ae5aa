package dev.flock.logging;

import ch.qos.logback.classic.Level;
import dev.flock.support.LogCapture;
import dev.flock.support.VirtualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The audit trail's bound: a flood from many addresses takes every address slot, yet another event still shows. */
class AuditLogTest {

    @Test
    void afterEveryAddressSlotIsTaken_eachEventStillGetsItsOwnLine_withRemoteVarious() {
        VirtualClock clock = new VirtualClock();
        AuditLog audit = new AuditLog(clock);
        try (LogCapture logs = LogCapture.of(AuditLog.LOGGER)) {
            for (int i = 0; i < AuditLog.MAX_SERIES + 50; i++) { // one flood, from more addresses than there are slots
                audit.refused("api_key_refused", "2001:db8::" + Integer.toHexString(i), "server API key refused");
            }
            audit.refused("admin_login_failed", "198.51.100.7", "admin login failed");
            audit.refused("admin_login_failed", "198.51.100.8", "admin login failed");

            var lines = logs.atLeast(Level.WARN);
            // one line per tracked address, one for the flood's overflow, one for the other event's overflow
            assertThat(lines).hasSize(AuditLog.MAX_SERIES + 2);
            var adminLine = lines.stream().filter(e -> e.getFormattedMessage().contains("event=admin_login_failed")).toList();
            assertThat(adminLine).hasSize(1);
            assertThat(adminLine.get(0).getFormattedMessage()).contains("remote=" + AuditLog.VARIOUS);

            clock.advance(Duration.ofSeconds(AuditLog.WINDOW_SECONDS));
            var summaries = logs.messages(Level.WARN).stream().filter(m -> m.contains("more like it")).toList();
            assertThat(summaries).hasSize(2).anySatisfy(m -> assertThat(m).contains("event=api_key_refused")
                    .contains("(and 49 more like it")).anySatisfy(m -> assertThat(m).contains("event=admin_login_failed")
                    .contains("(and 1 more like it"));
        }
    }
}
