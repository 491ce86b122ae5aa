package dev.flock.transport;

import dev.flock.metrics.FlockMetrics;
import dev.flock.room.Delivery;
import dev.flock.room.DeliveryKind;
import dev.flock.room.Peer;
import io.netty.buffer.ByteBuf;

/**
 * The room's delivery port over WebSockets: each message is framed once, as one pooled buffer, and handed to every
 * recipient's event loop as one task per loop (not per recipient); each connection then writes a retained duplicate
 * and applies its own flush policy.
 */
public final class SocketDelivery implements Delivery {

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
        try {
            for (LoopAudience.Group group : recipients.groups()) {
                LoopAudience.Entry[] entries = group.entries();
                frame.retain();
                group.context().runOnContext(v -> {
                    try {
                        for (LoopAudience.Entry e : entries) {
                            if (excludedUserId == null || !excludedUserId.equals(e.userId())) {
                                e.connection().deliver(frame, kind, aboutUserId);
                            }
                        }
                    } finally {
                        frame.release();
                    }
                    if (receivedNanos > 0) {
                        metrics.fanoutNanos(System.nanoTime() - receivedNanos);
                    }
                });
            }
        } finally {
            frame.release();
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
