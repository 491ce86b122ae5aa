package dev.flock.bench;

import java.net.URI;
import java.util.List;

/** Everything a run needs, parsed once from the command line. Connection i is the unit of assignment. */
record BenchConfig(
    String mode,
    List<URI> urls,
    int rooms,
    int usersPerRoom,
    int moversPerRoom,
    double hz,
    double warmupSeconds,
    double durationSeconds,
    double connectRate,
    boolean compression,
    List<String> serverPids,
    int holdConnections,
    int sourceAddresses,
    int loops,
    boolean nativeTransport,
    long heartbeatMillis,
    String roomPrefix,
    long maxConnectFailures,
    double joinTimeoutSeconds) {

    boolean fanout() {
        return "fanout".equals(mode);
    }

    int totalConnections() {
        return fanout() ? rooms * usersPerRoom : holdConnections;
    }

    /** Fan-out fills room after room; hold deals connections round-robin so every room gets the same size. */
    int roomOf(int conn) {
        return fanout() ? conn / usersPerRoom : conn % rooms;
    }

    boolean isMover(int conn) {
        return fanout() && conn % usersPerRoom < moversPerRoom;
    }

    int totalMovers() {
        return fanout() ? rooms * moversPerRoom : 0;
    }

    URI urlOf(int conn) {
        return urls.get(conn % urls.size());
    }

    String roomId(int room) {
        return roomPrefix + "r" + room;
    }
}
