package dev.flock.transport;

import dev.flock.metrics.FlockMetrics;
import dev.flock.room.Delivery;
import dev.flock.room.DeliveryKind;
import dev.flock.room.Peer;
import io.netty.buffer.ByteBuf;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The room's delivery port over WebSockets: each message is framed once, as one pooled buffer, and handed to every
 * recipient's event loop as one task per loop (not per recipient); each connection then writes a retained duplicate
 * and applies its own flush policy.
 */
public final class SocketDelivery implements Delivery {

    /** The low 16 bits of a timed fan-out's shared int count the loops still to finish, the rest the loops that wrote. */
    private static final int LOOPS = 0xFFFF;
    private static final int WROTE = 1 << 16;

    private final FlockMetrics metrics;

    public SocketDelivery(FlockMetrics metrics) {
        this.metrics = metrics;
    }

    /** Rooms only ever hold the peers this transport gave them: its own connections. */
    static ClientConnection connection(Peer peer) {
        return (ClientConnection) peer;
    }

    @Override
    public Audience newAudience() {
        return new LoopAudience();
    }

    @Override
    public void broadcast(Audience audience, byte[] json, DeliveryKind kind, String aboutUserId, String excludedUserId,
                          long receivedNanos) {
        LoopAudience recipients = (LoopAudience) audience;
        if (recipients.isEmpty()) {
            return;
        }
        ByteBuf frame = TextFrames.frame(json);
        java.util.List<LoopAudience.Group> groups = recipients.groups();
        // timed: the loop that finishes last records, once for the fan-out, if any loop wrote (a sender alone in the
        // room, or with only its own tabs, is no delivery); over several loops one shared int counts both
        AtomicInteger loopsLeft = receivedNanos > 0 && groups.size() > 1 ? new AtomicInteger(groups.size()) : null;
        try {
            for (LoopAudience.Group group : groups) {
                LoopAudience.Entry[] entries = group.entries();
                frame.retain();
                group.context().runOnContext(v -> {
                    boolean wrote = false;
                    try {
                        for (LoopAudience.Entry e : entries) {
                            if (excludedUserId == null || !excludedUserId.equals(e.userId())) {
                                e.connection().deliver(frame, kind, aboutUserId);
                                wrote = true;
                            }
                        }
                    } finally {
                        frame.release();
                    }
                    if (receivedNanos > 0) {
                        if (loopsLeft == null) {
                            if (wrote) {
                                record(kind, System.nanoTime() - receivedNanos);
                            }
                        } else {
                            int left = loopsLeft.addAndGet(wrote ? WROTE - 1 : -1);
                            if ((left & LOOPS) == 0 && left != 0) {
                                record(kind, System.nanoTime() - receivedNanos);
                            }
                        }
                    }
                });
            }
        } finally {
            frame.release();
        }
    }

    /**
     * "Written" is the write to the recipient's channel, before the flush: a cursor frame in a batched socket waits up
     * to FLOCK_FLUSH_INTERVAL_MS more for the loop's flush tick, which this does not include (DECISIONS.md).
     */
    private void record(DeliveryKind kind, long nanos) {
        if (kind == DeliveryKind.CURSOR) {
            metrics.cursorDeliveryNanos(nanos);
        } else {
            metrics.presenceDeliveryNanos(nanos);
        }
    }

    @Override
    public void send(Peer peer, byte[] json, Runnable after) {
        ClientConnection c = connection(peer);
        ByteBuf frame = TextFrames.frame(json);
        c.context().runOnContext(v -> {
            try {
                c.deliver(frame, DeliveryKind.EVENT, null);
            } finally {
                frame.release();
            }
            if (after != null) {
                after.run();
            }
        });
    }

    @Override
    public void run(Peer peer, Runnable action) {
        connection(peer).context().runOnContext(v -> action.run());
    }
}
