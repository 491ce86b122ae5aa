package dev.flock.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real Redis Cluster for tests, from {@code redis-server} processes on free loopback ports: three masters, each
 * with one replica, created by {@code redis-cli --cluster create} (so the slots are split the way an operator's
 * cluster splits them: 0-5460, 5461-10922, 10923-16383). Nodes consider a peer down after {@value #NODE_TIMEOUT_MS}
 * ms (production default: 15 s), so the replica of a killed master takes over within a few seconds.
 *
 * <p>Each node has its cluster bus on a port of its own ({@code --cluster-port}), not port + 10000, which a free
 * ephemeral port may not have room for. {@link #start} returns once every node reports {@code cluster_state:ok},
 * knows all six nodes, and every master has its replica online. Each node writes its cluster configuration file and
 * log into a temporary directory, removed by {@link #close}.
 */
public final class ClusterSet implements AutoCloseable {

    static final int NODE_TIMEOUT_MS = 1000;
    private static final int MASTERS = 3;
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration MIGRATE_TIMEOUT = Duration.ofSeconds(30);
    private static final int SLOTS = 16384;

    private final String binary;
    private final String cli;
    private final Path dir;
    /** Null without TLS ({@link #startTls}). */
    private final TestCertificates certs;
    private final List<Node> nodes = new ArrayList<>();
    /** The masters as created, in port order of creation: what {@link #url} names. */
    private final List<Integer> initialMasters = new ArrayList<>();
    /** For each master {@link #killMaster} killed, the ports of its replicas at that moment. */
    private final Map<Integer, List<Integer>> replicasOfKilled = new HashMap<>();

    /** A cluster node: its client port, its bus port, its id; {@code process} is null once killed. */
    private static final class Node {
        final int port;
        final int busPort;
        /** The TLS client port; 0 without TLS. */
        final int tlsPort;
        String id;
        Process process;

        Node(int port, int busPort, int tlsPort) {
            this.tlsPort = tlsPort;
            this.port = port;
            this.busPort = busPort;
        }

        boolean alive() {
            return process != null;
        }
    }

    /** One line of {@code CLUSTER NODES}: id, client port, flags, master's id ({@code -} for a master), slot ranges. */
    private record View(String id, int port, Set<String> flags, String masterId, List<String> slots) {
        boolean master() {
            return flags.contains("master") && !flags.contains("fail");
        }

        static List<View> parse(String text) {
            List<View> out = new ArrayList<>();
            for (String line : text.split("\n")) {
                String[] f = line.trim().split(" ");
                if (f.length < 8) {
                    continue;
                }
                String addr = f[1]; // ip:port@cport[,hostname]
                int colon = addr.lastIndexOf(':', addr.indexOf('@') < 0 ? addr.length() : addr.indexOf('@'));
                int at = addr.indexOf('@');
                int port = Integer.parseInt(addr.substring(colon + 1, at < 0 ? addr.length() : at));
                out.add(new View(f[0], port, Set.of(f[2].split(",")), f[3],
                        List.of(Arrays.copyOfRange(f, 8, f.length))));
            }
            return out;
        }
    }

    private ClusterSet(String binary, String cli, Path dir, TestCertificates certs) {
        this.certs = certs;
        this.binary = binary;
        this.cli = cli;
        this.dir = dir;
    }

    /** Three masters and three replicas, one replica per master, all 16384 slots covered. */
    public static ClusterSet start() {
        return start(false);
    }

    /**
     * As {@link #start()}, every node also listening with TLS ({@link TestCertificates}, a certificate for 127.0.0.1),
     * the cluster bus and replication on TLS too: {@link #url} then lists the TLS ports ({@code rediss-cluster://}), and
     * the nodes answer {@code CLUSTER SLOTS} with their TLS ports on a TLS connection, their plain ones on a plain one
     * (which this class's own commands use).
     */
    public static ClusterSet startTls() {
        return start(true);
    }

    private static ClusterSet start(boolean tls) {
        String binary = RedisServer.binaryOrSkip();
        String cli = findCli(binary);
        Path dir;
        try {
            dir = Files.createTempDirectory("flock-cluster");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ClusterSet set = new ClusterSet(binary, cli, dir, tls ? TestCertificates.make(dir) : null);
        try {
            set.startNodes();
            return set;
        } catch (RuntimeException | Error e) {
            set.close();
            throw e;
        }
    }

    private static String findCli(String serverBinary) {
        List<String> candidates = new ArrayList<>();
        Path sibling = Path.of(serverBinary).resolveSibling("redis-cli");
        candidates.add(sibling.toString());
        candidates.addAll(List.of("/usr/bin/redis-cli", "/usr/local/bin/redis-cli"));
        return candidates.stream().filter(c -> Files.isExecutable(Path.of(c))).findFirst()
                .orElseThrow(() -> new IllegalStateException("no redis-cli binary (looked at " + candidates
                        + "): a Redis Cluster cannot be created without it; install redis-tools"));
    }

    private void startNodes() {
        Set<Integer> ports = new LinkedHashSet<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        int perNode = certs == null ? 2 : 3; // a client port, a bus port (and a TLS port) per node, all distinct
        while (ports.size() < MASTERS * 2 * perNode) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("cannot find " + MASTERS * 2 * perNode + " distinct free ports");
            }
            ports.add(JarProcess.freePort());
        }
        Integer[] p = ports.toArray(Integer[]::new);
        for (int i = 0; i < MASTERS * 2; i++) {
            Node node = new Node(p[perNode * i], p[perNode * i + 1], certs == null ? 0 : p[perNode * i + 2]);
            nodes.add(node);
            launch(node);
        }
        for (Node node : nodes) {
            awaitPing(node.port);
            node.id = (String) command(node.port, "CLUSTER", "MYID");
        }
        create();
        awaitReady();
        for (View v : view()) {
            if (v.master()) {
                initialMasters.add(v.port());
            }
        }
        initialMasters.sort(Integer::compare);
        if (initialMasters.size() != MASTERS) {
            throw new IllegalStateException("expected " + MASTERS + " masters, found " + initialMasters);
        }
    }

    private void launch(Node node) {
        List<String> cmd = List.of(binary, "--port", String.valueOf(node.port), "--bind", "127.0.0.1",
                "--protected-mode", "no", "--save", "", "--appendonly", "no", "--dir", dir.toString(),
                "--dbfilename", "dump-" + node.port + ".rdb",
                "--repl-diskless-sync-delay", "0", // a full sync starts at once, not 5 s later waiting for more replicas
                "--cluster-enabled", "yes", "--cluster-port", String.valueOf(node.busPort),
                "--cluster-config-file", "nodes-" + node.port + ".conf",
                "--cluster-node-timeout", String.valueOf(NODE_TIMEOUT_MS));
        if (certs != null) {
            cmd = new ArrayList<>(cmd);
            cmd.addAll(List.of("--tls-port", String.valueOf(node.tlsPort), "--tls-cluster", "yes", "--tls-replication", "yes"));
            cmd.addAll(List.of(certs.serverArgs()));
        }
        try {
            node.process = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("node-" + node.port + ".log").toFile()).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + binary, e);
        }
    }

    /** {@code redis-cli --cluster create}: slots split in three, a replica per master, configuration epochs set. */
    private void create() {
        List<String> cmd = new ArrayList<>(List.of(cli, "--cluster", "create"));
        nodes.forEach(n -> cmd.add("127.0.0.1:" + n.port));
        cmd.addAll(List.of("--cluster-replicas", "1", "--cluster-yes"));
        Path log = dir.resolve("redis-cli-create.log");
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            p.getOutputStream().close(); // nothing to answer: --cluster-yes
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + cli, e);
        }
        boolean done;
        try {
            done = p.waitFor(READY_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IllegalStateException(e);
        }
        if (!done) {
            Processes.kill(p);
            throw new IllegalStateException("redis-cli --cluster create did not finish within " + READY_TIMEOUT
                    + ":\n" + readLog(log));
        }
        String out = readLog(log);
        if (p.exitValue() != 0 || !out.contains("All 16384 slots covered")) {
            throw new IllegalStateException("redis-cli --cluster create failed (exit " + p.exitValue() + "):\n" + out);
        }
    }

    private static String readLog(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private void awaitPing(int port) {
        Processes.awaitPing(port, () -> command(port, "PING"));
    }

    /**
     * Every node: {@code cluster_state:ok}, all slots assigned, all six nodes known, three masters in its view; every
     * master with a replica online, every replica's link to its master up.
     */
    private void awaitReady() {
        Fleet.awaitTrue("every cluster node is ok, knows the others, and each master has its replica in sync",
                READY_TIMEOUT, () -> {
                    try {
                        int masters = 0;
                        for (Node n : nodes) {
                            String info = (String) command(n.port, "CLUSTER", "INFO");
                            if (!info.contains("cluster_state:ok") || !info.contains("cluster_slots_assigned:" + SLOTS)
                                    || !info.contains("cluster_known_nodes:" + nodes.size())) {
                                return false;
                            }
                            // and every node's view names the replicas as such (gossip carries a replica's role
                            // to the other nodes a moment after it took it)
                            if (View.parse((String) command(n.port, "CLUSTER", "NODES")).stream().filter(View::master)
                                    .count() != MASTERS) {
                                return false;
                            }
                            String repl = (String) command(n.port, "INFO", "replication");
                            if (repl.contains("role:master")) {
                                masters++;
                                if (!repl.contains("connected_slaves:1") || !repl.contains("state=online")) {
                                    return false;
                                }
                            } else if (!repl.contains("master_link_status:up")) {
                                return false;
                            }
                        }
                        return masters == MASTERS;
                    } catch (RuntimeException e) {
                        return false;
                    }
                });
    }

    /** The URL Flock is given: the three masters the cluster was created with. */
    public String url() {
        StringBuilder sb = new StringBuilder(certs == null ? "redis-cluster://" : "rediss-cluster://");
        for (int i = 0; i < initialMasters.size(); i++) {
            int port = initialMasters.get(i);
            sb.append(i == 0 ? "" : ",").append("127.0.0.1:").append(certs == null ? port : node(port).tlsPort);
        }
        return sb.toString();
    }

    /** The certificates every node uses; null without TLS. */
    public TestCertificates certificates() {
        return certs;
    }

    /** The ports of every node, killed ones included, in creation order. */
    public List<Integer> allPorts() {
        return nodes.stream().map(n -> n.port).toList();
    }

    /** The ports of the nodes that are masters now (not failed, not killed), by the first live node that answers. */
    public List<Integer> masterPorts() {
        List<Integer> out = new ArrayList<>();
        for (View v : view()) {
            if (v.master() && live(v.port())) {
                out.add(v.port());
            }
        }
        out.sort(Integer::compare);
        return out;
    }

    /** The ports of the live replicas of the master on {@code masterPort}, by the first live node that answers. */
    public List<Integer> replicasOf(int masterPort) {
        String id = node(masterPort).id;
        return view().stream().filter(v -> id.equals(v.masterId()) && live(v.port())).map(View::port).sorted().toList();
    }

    /** The hash slot of {@code key} ({@code CLUSTER KEYSLOT} on a live node). */
    public int slotOf(String key) {
        return ((Long) onLiveNode("CLUSTER", "KEYSLOT", key)).intValue();
    }

    /** The port of the master serving {@code key}'s slot now. */
    public int ownerOf(String key) {
        return ownerOfSlot(slotOf(key));
    }

    /**
     * The port of the master serving {@code slot} now, by {@code CLUSTER SLOTS} on the live masters: the answer most of
     * them give (all of them, outside a failover or a migration).
     */
    public int ownerOfSlot(int slot) {
        Map<Integer, Integer> votes = new HashMap<>();
        for (Node n : nodes) {
            if (!n.alive()) {
                continue;
            }
            try {
                if (!isMaster(n.port)) {
                    continue;
                }
                for (Object range : (List<?>) command(n.port, "CLUSTER", "SLOTS")) {
                    List<?> r = (List<?>) range;
                    if (((Long) r.get(0)) <= slot && slot <= ((Long) r.get(1))) {
                        votes.merge(((Long) ((List<?>) r.get(2)).get(1)).intValue(), 1, Integer::sum);
                    }
                }
            } catch (RuntimeException e) {
                // counts as no vote
            }
        }
        return votes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
                .orElseThrow(() -> new IllegalStateException("no live master serves slot " + slot));
    }

    /** FLUSHALL on every live master (a cluster's FLUSHALL empties the node it runs on only). */
    public void flushAll() {
        for (int port : masterPorts()) {
            command(port, "FLUSHALL");
        }
    }

    /** One command to the node on {@code port}; returns a String, Long, List or null; an error reply throws. */
    public Object command(int port, String... args) {
        return RedisServer.commandAt(port, null, null, -1, args);
    }

    /** One command to the master serving {@code key} now. */
    public Object commandFor(String key, String... args) {
        return command(ownerOf(key), args);
    }

    /**
     * Several commands on one connection to the node on {@code port} (e.g. a write, then {@code WAIT 1 1000}); the
     * replies in order, an error reply as an {@link IllegalStateException} in its place.
     */
    public List<Object> pipeline(int port, String[]... commands) {
        return RedisServer.commandsAt(port, List.of(commands));
    }

    /** {@link #pipeline} to the master serving {@code key} now. */
    public List<Object> pipelineFor(String key, String[]... commands) {
        return pipeline(ownerOf(key), commands);
    }

    /**
     * {@code kill -9} of the master on {@code port} (it must be a live master); returns once the process is gone.
     * Its replica takes over after {@value #NODE_TIMEOUT_MS} ms and an election: {@link #awaitPromotion}.
     */
    public int killMaster(int port) {
        Node node = node(port);
        if (!node.alive() || !isMaster(port)) {
            throw new IllegalArgumentException("port " + port + " is not a live master: " + masterPorts());
        }
        replicasOfKilled.put(port, replicasOf(port));
        Processes.kill(node.process);
        node.process = null;
        return port;
    }

    /**
     * Waits until a replica of the dead master on {@code deadMasterPort} is a master ({@code ROLE}), every live node
     * names it a master and reports {@code cluster_state:ok}; returns its port.
     */
    public int awaitPromotion(int deadMasterPort, Duration timeout) {
        List<Integer> candidates = replicasOfKilled.containsKey(deadMasterPort) ? replicasOfKilled.get(deadMasterPort)
                : replicasOf(deadMasterPort);
        if (candidates.isEmpty()) {
            throw new IllegalStateException("the master on " + deadMasterPort + " had no replica to promote");
        }
        AtomicInteger promoted = new AtomicInteger();
        Fleet.awaitTrue("a replica of " + deadMasterPort + " " + candidates + " is promoted and the cluster is ok",
                timeout, () -> {
                    try {
                        for (int c : candidates) {
                            if (live(c) && "master".equals(((List<?>) command(c, "ROLE")).get(0)) && settledOn(c)) {
                                promoted.set(c);
                                return true;
                            }
                        }
                        return false;
                    } catch (RuntimeException e) {
                        return false;
                    }
                });
        return promoted.get();
    }

    /** Every live node reports {@code cluster_state:ok} and names {@code port} a master. */
    private boolean settledOn(int port) {
        for (Node n : nodes) {
            if (!n.alive()) {
                continue;
            }
            if (!((String) command(n.port, "CLUSTER", "INFO")).contains("cluster_state:ok")) {
                return false;
            }
            boolean master = View.parse((String) command(n.port, "CLUSTER", "NODES")).stream()
                    .anyMatch(v -> v.port() == port && v.master());
            if (!master) {
                return false;
            }
        }
        return true;
    }

    /**
     * Moves {@code slot} to the master on {@code toMasterPort} with its keys, as {@code redis-cli --cluster reshard}
     * does while clients keep working: IMPORTING on the target, MIGRATING on the source, the keys MIGRATEd 100 at a
     * time, then SETSLOT NODE on the target, the source and the other masters.
     */
    public void migrateSlot(int slot, int toMasterPort) {
        int from = ownerOfSlot(slot);
        if (from == toMasterPort) {
            return;
        }
        Node src = node(from);
        Node dst = node(toMasterPort);
        if (!dst.alive() || !isMaster(toMasterPort)) {
            throw new IllegalArgumentException("port " + toMasterPort + " is not a live master: " + masterPorts());
        }
        String s = String.valueOf(slot);
        command(dst.port, "CLUSTER", "SETSLOT", s, "IMPORTING", src.id);
        command(src.port, "CLUSTER", "SETSLOT", s, "MIGRATING", dst.id);
        long deadline = System.nanoTime() + MIGRATE_TIMEOUT.toNanos();
        while (true) {
            List<?> keys = (List<?>) command(src.port, "CLUSTER", "GETKEYSINSLOT", s, "100");
            if (keys.isEmpty()) {
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("slot " + slot + " still has keys on " + from + " after " + MIGRATE_TIMEOUT);
            }
            List<String> migrate = new ArrayList<>(List.of("MIGRATE", "127.0.0.1", String.valueOf(dst.port), "", "0",
                    "5000", "KEYS"));
            keys.forEach(k -> migrate.add((String) k));
            command(src.port, migrate.toArray(String[]::new));
        }
        command(dst.port, "CLUSTER", "SETSLOT", s, "NODE", dst.id);
        command(src.port, "CLUSTER", "SETSLOT", s, "NODE", dst.id);
        for (int other : masterPorts()) {
            if (other != dst.port && other != src.port) {
                command(other, "CLUSTER", "SETSLOT", s, "NODE", dst.id);
            }
        }
    }

    /** {@code used_cpu_sys + used_cpu_user} of the node on {@code port}, in seconds ({@code INFO cpu}). */
    public double usedCpuSeconds(int port) {
        double total = 0;
        for (String line : ((String) command(port, "INFO", "cpu")).split("\r?\n")) {
            if (line.startsWith("used_cpu_sys:") || line.startsWith("used_cpu_user:")) {
                total += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
            }
        }
        return total;
    }

    /** The directory holding the nodes' logs and cluster configuration files. */
    public Path dir() {
        return dir;
    }

    private Node node(int port) {
        return nodes.stream().filter(n -> n.port == port).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no cluster node on port " + port));
    }

    private boolean live(int port) {
        return nodes.stream().anyMatch(n -> n.port == port && n.alive());
    }

    private boolean isMaster(int port) {
        return "master".equals(((List<?>) command(port, "ROLE")).get(0));
    }

    /** {@code CLUSTER NODES} of the first live node that answers. */
    private List<View> view() {
        return View.parse((String) onLiveNode("CLUSTER", "NODES"));
    }

    private Object onLiveNode(String... args) {
        RuntimeException last = null;
        for (Node n : nodes) {
            if (n.alive()) {
                try {
                    return command(n.port, args);
                } catch (RuntimeException e) {
                    last = e;
                }
            }
        }
        throw new IllegalStateException("no live cluster node answers " + String.join(" ", args), last);
    }

    @Override
    public void close() {
        for (Node n : nodes) {
            if (n.process != null) {
                Processes.kill(n.process);
                n.process = null;
            }
        }
        Processes.deleteTree(dir);
    }
}
