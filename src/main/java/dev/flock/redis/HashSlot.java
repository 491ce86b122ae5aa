package dev.flock.redis;

import java.nio.charset.StandardCharsets;

/**
 * The Redis Cluster hash slot of a key or sharded channel: CRC16 (XMODEM) of its hash tag (the part between the first
 * {@code {} and the next {@code }}, when not empty) or of the whole name, modulo 16384, as the cluster specification
 * defines it. Flock needs it for what it routes itself (sharded subscriptions, batched publishes); the Vert.x client
 * routes plain commands on its own.
 */
final class HashSlot {

    static final int SLOTS = 16384;
    private static final int[] TABLE = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int crc = i << 8;
            for (int b = 0; b < 8; b++) {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }
            TABLE[i] = crc & 0xFFFF;
        }
    }

    private HashSlot() {
    }

    static int of(String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        int start = 0;
        int end = k.length;
        for (int i = 0; i < k.length; i++) {
            if (k[i] == '{') {
                for (int j = i + 1; j < k.length; j++) {
                    if (k[j] == '}') {
                        if (j > i + 1) { // "{}" is no tag: the whole key counts
                            start = i + 1;
                            end = j;
                        }
                        break;
                    }
                }
                break;
            }
        }
        int crc = 0;
        for (int i = start; i < end; i++) {
            crc = ((crc << 8) ^ TABLE[((crc >>> 8) ^ k[i]) & 0xFF]) & 0xFFFF;
        }
        return crc % SLOTS;
    }
}
