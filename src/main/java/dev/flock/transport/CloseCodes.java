package dev.flock.transport;

/** The WebSocket close codes Flock uses (PROTOCOL.md, "Close codes"). */
final class CloseCodes {

    /** Server shutdown: the SDK reconnects, to another instance behind a load balancer. */
    static final short GOING_AWAY = 1001;
    /** A frame RFC 6455 forbids (unmasked, reserved opcode or bits, bad fragmentation, invalid close code). */
    static final short PROTOCOL_ERROR = 1002;
    /** A binary frame: Flock speaks JSON text frames only. */
    static final short UNSUPPORTED = 1003;
    /** A text message that is not valid UTF-8. */
    static final short INVALID_PAYLOAD = 1007;
    /** Rate limit (control frames included), a wrong API key, no join within the join timeout, a stalled message. */
    static final short POLICY = 1008;
    /** A message larger than {@code FLOCK_MAX_FRAME_BYTES}. */
    static final short TOO_BIG = 1009;
    /** A slow consumer (bytes queued above the limit for the grace period), or a socket over an admission limit. */
    static final short TRY_AGAIN_LATER = 1013;
    /** {@code evict} mode: a newer connection of the same user took over (the original server's code). */
    static final short SUPERSEDED = 4000;
    /** Extension: shutdown of this instance; the rooms keep the user for the reconnect grace (issue 20). */
    static final short RESTARTING = 4001;

    private CloseCodes() {
    }
}
