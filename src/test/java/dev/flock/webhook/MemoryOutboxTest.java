package dev.flock.webhook;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.protocol.LeaveReason;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.protocol.WebhookEventType;
import dev.flock.support.VirtualClock;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The memory outbox's bounds: events, and the heap its events keep (large metadata from hostile clients). */
class MemoryOutboxTest {

    private final VirtualClock clock = new VirtualClock();

    private static ObjectNode metadata(int bytes) {
        return ProtocolCodec.MAPPER.createObjectNode().put("blob", "x".repeat(bytes));
    }

    private static List<Long> seqs(MemoryOutbox outbox, String subscriber) {
        return outbox.next(subscriber, 1000).result().stream().map(WebhookEvent::seq).toList();
    }

    @Test
    void beyondMaxPendingEvents_theOldestGo_andTheSequenceShowsTheGap() {
        MemoryOutbox outbox = new MemoryOutbox(clock, 3, List.of("u"), EnumSet.allOf(WebhookEventType.class));
        for (int i = 0; i < 5; i++) {
            outbox.record(WebhookEventType.USER_JOINED, "r", "u" + i, null, metadata(10));
        }
        assertThat(seqs(outbox, "u")).containsExactly(3L, 4L, 5L);
        assertThat(outbox.pending("u").result()).isEqualTo(3);
    }

    @Test
    void beyondItsShareOfTheHeap_theOldestGo_whateverMaxPendingSays() {
        // 4 KiB of metadata is estimated at 8 times its JSON on the heap: ~33 KB per event, so 100 KB holds 3
        MemoryOutbox outbox = new MemoryOutbox(clock, 100_000, 100_000, List.of("u"), EnumSet.allOf(WebhookEventType.class));
        for (int i = 0; i < 50; i++) {
            outbox.record(WebhookEventType.USER_LEFT, "r", "u" + i, LeaveReason.LEFT, metadata(4000));
        }
        assertThat(seqs(outbox, "u")).containsExactly(48L, 49L, 50L);
        // small events after large ones: the large ones go first, and the budget holds many small ones again
        for (int i = 0; i < 200; i++) {
            outbox.record(WebhookEventType.ROOM_OCCUPIED, "room-" + i, null, null, null);
        }
        List<Long> left = seqs(outbox, "u");
        assertThat(left).hasSizeBetween(200, 201).last().isEqualTo(250L);
    }

    @Test
    void anEventStaysUntilEverySubscriberAcknowledgedIt_andUnlistedTypesAreNotRecorded() {
        MemoryOutbox outbox = new MemoryOutbox(clock, 100, List.of("a", "b"), EnumSet.of(WebhookEventType.USER_JOINED));
        outbox.record(WebhookEventType.PRESENCE_UPDATED, "r", "x", null, metadata(1)); // not listed: no event, no gap
        outbox.record(WebhookEventType.USER_JOINED, "r", "x", null, metadata(1));
        outbox.record(WebhookEventType.USER_JOINED, "r", "y", null, metadata(1));
        assertThat(seqs(outbox, "a")).containsExactly(1L, 2L);
        outbox.ack("a", outbox.next("a", 1).result());
        assertThat(seqs(outbox, "a")).containsExactly(2L);
        assertThat(seqs(outbox, "b")).containsExactly(1L, 2L);
        outbox.ack("b", outbox.next("b", 10).result());
        assertThat(outbox.pending("b").result()).isZero();
        assertThat(outbox.pending("a").result()).isEqualTo(1);
    }
}
