package dev.flock.room;

import dev.flock.metrics.FlockMetrics;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.protocol.ServerMessage;
import dev.flock.transport.TextFrames;
import io.netty.buffer.ByteBuf;

/**
 * Delivers server messages to local connections: encodes and frames each message once, then hands the same
 * buffer to every recipient's event loop (one task per loop, not per recipient).
 */
final class Fanout {

    private Fanout() {
    }

    /**
     * Sends an encoded message to every local member except the connections of {@code excludedUserId} (null =
     * nobody); the same bytes may also be published to other instances. With {@code metrics}, records the time
     * from {@code receivedNanos} to each loop's last write.
     */
    static void broadcast(byte[] json, DeliveryKind kind, String aboutUserId, Recipients recipients,
                          String excludedUserId, FlockMetrics metrics, long receivedNanos) {
        if (recipients.groups().isEmpty()) {
            return;
        }
        ByteBuf frame = TextFrames.frame(json);
        try {
            for (Recipients.Group group : recipients.groups()) {
                Recipients.Entry[] entries = group.entries();
                frame.retain();
                group.context().runOnContext(v -> {
                    try {
                        for (Recipients.Entry e : entries) {
                            if (excludedUserId == null || !excludedUserId.equals(e.userId())) {
                                e.peer().deliver(frame, kind, aboutUserId);
                            }
                        }
                    } finally {
                        frame.release();
                    }
                    if (metrics != null) {
                        metrics.fanoutNanos(System.nanoTime() - receivedNanos);
                    }
                });
            }
        } finally {
            frame.release();
        }
    }

    /** Sends to one connection, then runs {@code after} on its loop (state changes that must follow the frame). */
    static void sendTo(Peer peer, ServerMessage message, Runnable after) {
        ByteBuf frame = TextFrames.frame(ProtocolCodec.encode(message));
        peer.context().runOnContext(v -> {
            try {
                peer.deliver(frame, DeliveryKind.EVENT, null);
            } finally {
                frame.release();
            }
            if (after != null) {
                after.run();
            }
        });
    }
}
