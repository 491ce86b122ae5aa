package dev.flock.transport;

import dev.flock.protocol.ErrorCode;

/**
 * Why a socket is failed below the protocol (RFC 6455 §7.1.7): the close code it gets, the {@code error} message
 * sent before it (null for none), the close reason and the reason the close metric counts.
 */
record Violation(short closeCode, ErrorCode error, String message, String metricReason) {

    static Violation tooBig(int maxBytes) {
        return new Violation(CloseCodes.TOO_BIG, ErrorCode.INVALID_MESSAGE,
                "message larger than " + maxBytes + " bytes", "too_big");
    }

    static Violation protocol(String detail) {
        return new Violation(CloseCodes.PROTOCOL_ERROR, null, detail, "protocol_error");
    }

    /** Invalid UTF-8 in a text message or a close reason (or a close body Netty finds malformed). */
    static Violation invalidPayload(String detail) {
        return new Violation(CloseCodes.INVALID_PAYLOAD, null, detail, "invalid_utf8");
    }

    static Violation stalled(int timeoutMs) {
        return new Violation(CloseCodes.POLICY, null, "message not completed within " + timeoutMs + " ms", "stalled_frame");
    }

    static Violation rateLimited(int perSecond) {
        return new Violation(CloseCodes.POLICY, ErrorCode.RATE_LIMITED,
                "more than " + perSecond + " messages in one second", "rate_limit");
    }
}
