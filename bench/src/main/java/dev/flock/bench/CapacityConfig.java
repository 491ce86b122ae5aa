package dev.flock.bench;

import java.net.URI;
import java.util.List;

/**
 * The options of {@code LoadGen capacity}. Connection indexes are global ({@code firstConn} ..
 * {@code firstConn + conns - 1}) so that several generator processes can share one run: the room, the user id and
 * the source address of a connection follow from its global index alone.
 */
record CapacityConfig(
    List<URI> urls,
    int conns,
    int firstConn,
    int rooms,
    double connectRate,
    double holdSeconds,
    long heartbeatMillis,
    int sourceBase,
    int sourceAddresses,
    int maxPerSource,
    boolean compression,
    boolean vertxDeflate,
    List<String> serverPids,
    int loops,
    boolean nativeTransport,
    String roomPrefix,
    double settleTimeoutSeconds,
    double handshakeTimeoutSeconds,
    double probeTimeoutSeconds,
    String label,
    TokenMinter tokens) {

    /** The upgrade's path, with the signed token of the connection's user ({@code u<index>}) when the run uses tokens. */
    String pathOf(int globalIndex) {
        String path = LoopbackUrls.path(urlOf(globalIndex));
        return tokens == null ? path : path + (path.contains("?") ? "&" : "?") + "token=" + tokens.tokenOf(globalIndex);
    }

    int roomOf(int globalIndex) {
        return globalIndex % rooms;
    }

    String roomId(int room) {
        return roomPrefix + "r" + room;
    }

    URI urlOf(int globalIndex) {
        return urls.get(globalIndex % urls.size());
    }

    /** 127.0.0.(sourceBase + i % sourceAddresses), or null when the client sockets are not bound. */
    String sourceOf(int globalIndex) {
        return sourceAddresses == 0 ? null : "127.0.0." + (sourceBase + globalIndex % sourceAddresses);
    }

    /** Connections on the busiest source address, counting every index below {@code firstConn + conns}. */
    int perSourceUpperBound() {
        int total = firstConn + conns;
        return sourceAddresses == 0 ? total : (total + sourceAddresses - 1) / sourceAddresses;
    }
}
