package dev.flock.bench;

import java.net.URI;
import java.util.Arrays;
import java.util.List;

/**
 * The options of {@code LoadGen storm} (docs/BENCHMARKS.md, "Storm"). Client i of a round joins room
 * {@code i % rooms} as user {@code u<i>} (the same users every round: a reconnect storm), from source address
 * {@code 127.0.0.(sourceBase + i % sourceAddresses)}; with several --url the members of one room alternate
 * between the instances, as fanout mode spreads them for Redis mode.
 */
record StormConfig(
    List<URI> urls,
    int conns,
    int usersPerRoom,
    double connectRate,
    int rounds,
    List<String> serverPids,
    int sourceBase,
    int sourceAddresses,
    int loops,
    boolean nativeTransport,
    boolean compression,
    String roomPrefix,
    double joinTimeoutSeconds,
    double closeTimeoutSeconds,
    double quietTimeoutSeconds,
    int generatorWarmup,
    String label) {

    /** The server allows 500 sockets per client address (FLOCK_MAX_CONNECTIONS_PER_IP): stay below with room to spare. */
    static final int PER_SOURCE = 450;

    static StormConfig parse(String[] argv) {
        Args a = new Args(argv);
        a.positional(); // "storm"
        List<URI> urls = LoopbackUrls.parse(a.opt("--url", "ws://127.0.0.1:8787/"));
        int conns = a.intOpt("--conns", 10_000);
        int users = a.intOpt("--users", 10);
        boolean allAtOnce = a.flag("--all-at-once");
        double rate = a.doubleOpt("--connect-rate", 2000);
        int rounds = a.intOpt("--rounds", 1);
        String pids = a.opt("--server-pid", "");
        int sourceBase = a.intOpt("--source-base", 2);
        int sourceAddrs = a.intOpt("--source-addrs", Math.max(4, (conns + PER_SOURCE - 1) / PER_SOURCE));
        int loops = a.intOpt("--loops", Runtime.getRuntime().availableProcessors());
        boolean nativeTransport = a.flag("--native");
        boolean compression = !a.flag("--no-compression");
        String prefix = a.opt("--room-prefix", "storm-" + Long.toHexString(System.nanoTime() & 0xffffff) + "-");
        double joinTimeout = a.doubleOpt("--join-timeout", 30 + (rate > 0 && !allAtOnce ? conns / rate : 0));
        double closeTimeout = a.doubleOpt("--close-timeout", 30);
        double quietTimeout = a.doubleOpt("--quiet-timeout", 20);
        int generatorWarmup = a.intOpt("--generator-warmup", 2000);
        String label = a.opt("--label", "");
        a.rejectUnknown();
        if (allAtOnce) {
            rate = 0;
        }
        if (conns < 1 || users < 1 || rate < 0 || rounds < 1 || rounds > 100 || loops < 1 || sourceAddrs < 0
            || sourceBase < 1 || sourceBase + sourceAddrs > 255 || joinTimeout <= 0 || joinTimeout > 3600
            || closeTimeout <= 0 || closeTimeout > 600 || quietTimeout < 0 || quietTimeout > 600 || generatorWarmup < 0
            || generatorWarmup > 20_000) {
            throw Args.fail("out-of-range option (conns, users, loops >= 1; connect-rate >= 0; 1 <= rounds <= 100; "
                + "source-base + source-addrs <= 255; timeouts > 0 and bounded)");
        }
        if (sourceAddrs > 0 && urls.stream().anyMatch(u -> !LoopbackUrls.host(u).startsWith("127."))) {
            throw Args.fail("--source-addrs binds 127.0.0.x: give --url as ws://127.0.0.1:port/ (or --source-addrs 0)");
        }
        List<String> serverPids = pids.isBlank() ? List.of() : Arrays.stream(pids.split(",")).map(String::trim).toList();
        StormConfig cfg = new StormConfig(urls, conns, users, rate, rounds, serverPids, sourceBase, sourceAddrs, loops,
            nativeTransport, compression, prefix, joinTimeout, closeTimeout, quietTimeout, generatorWarmup, label);
        if (cfg.perSourceUpperBound() > 500) {
            throw Args.fail("up to " + cfg.perSourceUpperBound() + " connections per source address, above the "
                + "server's 500 per client address: give more --source-addrs");
        }
        LoadGen.checkFileLimit(conns);
        return cfg;
    }

    /** The same clients, all at once, against the generator's own warm-up server (GeneratorWarmup). */
    StormConfig toWarmup(URI url, int clients) {
        return new StormConfig(List.of(url), clients, usersPerRoom, 0, 1, List.of(), sourceBase, sourceAddresses, loops,
            nativeTransport, compression, roomPrefix + "warmup-", 30, 30, 0, 0, label);
    }

    int rooms() {
        return Math.max(1, (conns + usersPerRoom - 1) / usersPerRoom);
    }

    int roomOf(int client) {
        return client % rooms();
    }

    String roomId(int room) {
        return roomPrefix + "r" + room;
    }

    /** Members of one room are clients r, r + rooms, r + 2·rooms, ...: they alternate over the instances. */
    URI urlOf(int client) {
        return urls.get((client / rooms()) % urls.size());
    }

    /** Index into a worker's clients per source address, or 0 when sockets are not bound. */
    int sourceOf(int client) {
        return sourceAddresses == 0 ? 0 : client % sourceAddresses;
    }

    /** Offset of client i's connect from the round's start: i / rate, or 0 when all arrive at once. */
    long scheduleOffsetNanos(int client) {
        return connectRate == 0 ? 0 : (long) (client * 1e9 / connectRate);
    }

    int perSourceUpperBound() {
        return sourceAddresses == 0 ? conns : (conns + sourceAddresses - 1) / sourceAddresses;
    }
}
