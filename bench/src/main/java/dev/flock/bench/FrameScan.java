package dev.flock.bench;

import io.vertx.core.buffer.Buffer;

/**
 * Byte scans over server frames, so the receive path never builds a JSON tree or a String.
 * Only {@code error} frames (rare) are fully parsed, elsewhere.
 */
final class FrameScan {
    static final int OTHER = 0;
    static final int CURSOR_UPDATED = 1;
    static final int HEARTBEAT_ACK = 2;
    static final int JOIN_ACK = 3;
    static final int ERROR = 4;

    private static final byte[] TYPE_KEY = ascii("\"type\":\"");
    private static final byte[] CURSOR_UPDATED_VALUE = ascii("cursor:updated\"");
    private static final byte[] HEARTBEAT_ACK_VALUE = ascii("heartbeat:ack\"");
    private static final byte[] JOIN_ACK_VALUE = ascii("join:ack\"");
    private static final byte[] ERROR_VALUE = ascii("error\"");
    private static final byte[] X_KEY = ascii("\"x\":");
    /** Senders write x as "0." followed by 1,000,000,000 + microseconds: ten digits after the point. */
    static final int STAMP_DIGITS = 10;
    static final long STAMP_OFFSET = 1_000_000_000L;

    private FrameScan() {
    }

    /** The message type, from the first {@code "type":"} key (servers write it first, so this is short). */
    static int kind(Buffer frame) {
        int at = indexOf(frame, TYPE_KEY, 0);
        if (at < 0) {
            return OTHER;
        }
        int v = at + TYPE_KEY.length;
        if (startsWith(frame, v, CURSOR_UPDATED_VALUE)) {
            return CURSOR_UPDATED;
        }
        if (startsWith(frame, v, HEARTBEAT_ACK_VALUE)) {
            return HEARTBEAT_ACK;
        }
        if (startsWith(frame, v, JOIN_ACK_VALUE)) {
            return JOIN_ACK;
        }
        if (startsWith(frame, v, ERROR_VALUE)) {
            return ERROR;
        }
        return OTHER;
    }

    /**
     * The sender's timestamp (µs since the generator's clock base) carried in position.x, or -1 when x is
     * not in the generator's format. Tolerates a server that re-serialises x through a double:
     * trailing zeros may be gone and rounding noise may follow the tenth digit.
     */
    static long sentMicros(Buffer frame) {
        int at = indexOf(frame, X_KEY, 0);
        if (at < 0) {
            return -1;
        }
        int i = at + X_KEY.length;
        int len = frame.length();
        while (i < len && frame.getByte(i) == ' ') {
            i++;
        }
        if (i + 2 > len || frame.getByte(i) != '0' || frame.getByte(i + 1) != '.') {
            return -1;
        }
        i += 2;
        long digits = 0;
        int count = 0;
        while (i < len && count < STAMP_DIGITS) {
            byte b = frame.getByte(i);
            if (b < '0' || b > '9') {
                break;
            }
            digits = digits * 10 + (b - '0');
            count++;
            i++;
        }
        if (count == 0) {
            return -1;
        }
        for (int k = count; k < STAMP_DIGITS; k++) {
            digits *= 10;
        }
        if (i < len) {
            byte next = frame.getByte(i);
            if (next >= '5' && next <= '9') {
                digits++; // double noise such as ...4999999 rounds back up
            }
        }
        return digits - STAMP_OFFSET;
    }

    static int indexOf(Buffer frame, byte[] needle, int from) {
        int last = frame.length() - needle.length;
        byte first = needle[0];
        for (int i = from; i <= last; i++) {
            if (frame.getByte(i) == first && startsWith(frame, i, needle)) {
                return i;
            }
        }
        return -1;
    }

    private static boolean startsWith(Buffer frame, int at, byte[] prefix) {
        if (at + prefix.length > frame.length()) {
            return false;
        }
        for (int k = 0; k < prefix.length; k++) {
            if (frame.getByte(at + k) != prefix[k]) {
                return false;
            }
        }
        return true;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
