package dev.flock.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real Sentinel deployment for tests, from {@code redis-server} processes on free loopback ports: a primary, one
 * replica and three sentinels (quorum 2) watching master set {@value #MASTER}. Sentinels decide a node is down
 * after {@value #DOWN_AFTER_MS} ms (production default: 30 s), so a failover takes a few seconds.
 *
 * <p>With {@link TestCertificates} ({@link #startTls}) every node also listens with TLS, replication and the
 * sentinels' own links use it, and the sentinels name the nodes by their TLS ports: what Flock reaches is TLS only,
 * while the test's own commands keep using each node's plain port.
 *
 * <p>{@link #start} returns once every sentinel knows the replica and the two other sentinels, and the replica is in
 * sync: a failover asked for from then on can succeed. Each node writes into a temporary directory (a sentinel
 * rewrites its configuration file), removed by {@link #close}.
 */
public final class SentinelSet implements AutoCloseable {

    public static final String MASTER = "mymaster";
    static final int DOWN_AFTER_MS = 1000;
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

    private final String binary;
    private final Path dir;
    private final String password;
    /** Null without TLS. */
    private final TestCertificates certs;
    private final List<Node> nodes = new ArrayList<>();
    private final List<Node> sentinels = new ArrayList<>();

    /** A redis-server process, its plain port and its TLS port (0 without); {@code process} is null once killed. */
    private static final class Node {
        final int port;
        final int tlsPort;
        final List<String> args;
        Process process;

        Node(int port, int tlsPort, List<String> args) {
            this.port = port;
            this.tlsPort = tlsPort;
            this.args = args;
        }

        /** The port the sentinels know this node by, and Flock connects to. */
        int announced() {
            return tlsPort > 0 ? tlsPort : port;
        }
    }

    private SentinelSet(String binary, Path dir, String password, TestCertificates certs) {
        this.binary = binary;
        this.dir = dir;
        this.password = password;
        this.certs = certs;
    }

    /** Primary, replica and three sentinels, all without a password. */
    public static SentinelSet start() {
        return start(null);
    }

    /**
     * As {@link #start()}, with {@code password} required by every node, sentinels included (the Vert.x client
     * authenticates to the sentinels and to the primary with the URL's one password).
     */
    public static SentinelSet start(String password) {
        return start(password, false);
    }

    /** As {@link #start()}, every node speaking TLS with a self-signed certificate for 127.0.0.1 ({@link #certificates}). */
    public static SentinelSet startTls() {
        return start(null, true);
    }

    private static SentinelSet start(String password, boolean tls) {
        String binary = RedisServer.binaryOrSkip();
        Path dir;
        try {
            dir = Files.createTempDirectory("flock-sentinel");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SentinelSet set = new SentinelSet(binary, dir, password, tls ? TestCertificates.make(dir) : null);
        try {
            set.startNodes();
            return set;
        } catch (RuntimeException e) {
            set.close();
            throw e;
        }
    }

    private void startNodes() {
        int primaryPort = JarProcess.freePort();
        int primaryTls = certs == null ? 0 : JarProcess.freePort();
        Node primary = new Node(primaryPort, primaryTls, dataNodeArgs(primaryPort, primaryTls, null));
        int replicaPort = JarProcess.freePort();
        int replicaTls = certs == null ? 0 : JarProcess.freePort();
        Node replica = new Node(replicaPort, replicaTls, dataNodeArgs(replicaPort, replicaTls, primary.announced()));
        nodes.add(primary);
        nodes.add(replica);
        launch(primary);
        awaitPing(primary.port);
        launch(replica);
        awaitPing(replica.port);
        for (int i = 0; i < 3; i++) {
            int port = JarProcess.freePort();
            int tlsPort = certs == null ? 0 : JarProcess.freePort();
            Path conf = dir.resolve("sentinel-" + port + ".conf");
            StringBuilder text = new StringBuilder()
                    .append("port ").append(port).append('\n')
                    .append("bind 127.0.0.1\n")
                    .append("protected-mode no\n")
                    .append("dir ").append(dir).append('\n')
                    .append("sentinel monitor ").append(MASTER).append(" 127.0.0.1 ").append(primary.announced()).append(" 2\n")
                    .append("sentinel down-after-milliseconds ").append(MASTER).append(' ').append(DOWN_AFTER_MS).append('\n')
                    .append("sentinel failover-timeout ").append(MASTER).append(" 10000\n")
                    .append("sentinel parallel-syncs ").append(MASTER).append(" 1\n");
            if (password != null) {
                text.append("requirepass ").append(password).append('\n')
                        .append("sentinel auth-pass ").append(MASTER).append(' ').append(password).append('\n')
                        .append("sentinel sentinel-pass ").append(password).append('\n');
            }
            if (certs != null) {
                text.append("tls-port ").append(tlsPort).append('\n').append("tls-replication yes\n")
                        .append("tls-cert-file ").append(certs.cert()).append('\n')
                        .append("tls-key-file ").append(certs.key()).append('\n')
                        .append("tls-ca-cert-file ").append(certs.cert()).append('\n')
                        .append("tls-auth-clients no\n");
            }
            try {
                Files.writeString(conf, text);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Node sentinel = new Node(port, tlsPort, new ArrayList<>(List.of(conf.toString(), "--sentinel")));
            sentinels.add(sentinel);
            nodes.add(sentinel);
            launch(sentinel);
            awaitPing(port);
        }
        awaitReady();
    }

    /** A data node's arguments: loopback, no persistence, a replica of {@code replicaOf} when given. */
    private List<String> dataNodeArgs(int port, int tlsPort, Integer replicaOf) {
        List<String> args = new ArrayList<>(List.of("--port", String.valueOf(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--protected-mode", "no", "--dir", dir.toString(),
                "--dbfilename", "dump-" + port + ".rdb"));
        if (certs != null) { // replication over TLS, and the replica announces its TLS port
            args.addAll(List.of("--tls-port", String.valueOf(tlsPort), "--tls-replication", "yes"));
            args.addAll(List.of(certs.serverArgs()));
        }
        if (password != null) {
            args.addAll(List.of("--requirepass", password, "--masterauth", password));
        }
        if (replicaOf != null) {
            args.addAll(List.of("--replicaof", "127.0.0.1", String.valueOf(replicaOf)));
        }
        return args;
    }

    private void launch(Node node) {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary);
        cmd.addAll(node.args);
        try {
            node.process = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("node-" + node.port + ".log").toFile()).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + binary, e);
        }
    }

    private void awaitPing(int port) {
        Processes.awaitPing(port, () -> command(port, "PING"));
    }

    /** Every sentinel sees the primary, one replica and the two other sentinels; the replica is in sync. */
    private void awaitReady() {
        Fleet.awaitTrue("the sentinels know each other and the replica, and the replica is in sync", READY_TIMEOUT, () -> {
            try {
                for (Node s : sentinels) {
                    List<?> master = (List<?>) command(s.port, "SENTINEL", "MASTER", MASTER);
                    if (!"2".equals(field(master, "num-other-sentinels")) || !"1".equals(field(master, "num-slaves"))) {
                        return false;
                    }
                }
                String info = (String) command(replicaPort(), "INFO", "replication");
                return info.contains("master_link_status:up");
            } catch (RuntimeException e) {
                return false;
            }
        });
    }

    private static String field(List<?> flat, String name) {
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            if (name.equals(flat.get(i))) {
                return String.valueOf(flat.get(i + 1));
            }
        }
        return null;
    }

    /** The URL Flock is given: every sentinel, the master set's name. */
    public String url() {
        StringBuilder sb = new StringBuilder(certs == null ? "redis-sentinel://" : "rediss-sentinel://");
        if (password != null) {
            sb.append(':').append(password).append('@');
        }
        for (int i = 0; i < sentinels.size(); i++) {
            sb.append(i == 0 ? "" : ",").append("127.0.0.1:").append(sentinels.get(i).announced());
        }
        return sb.append('/').append(MASTER).toString();
    }

    /**
     * The port of the node a majority of the running sentinels name as the primary now (one sentinel alone may lag
     * behind mid-failover).
     */
    public int primaryPort() {
        java.util.Map<Integer, Integer> votes = new java.util.HashMap<>();
        int running = 0;
        for (Node s : sentinels) {
            if (s.process == null) {
                continue;
            }
            running++;
            try {
                List<?> addr = (List<?>) command(s.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER);
                votes.merge(Integer.parseInt(String.valueOf(addr.get(1))), 1, Integer::sum);
            } catch (RuntimeException e) {
                // counts as no vote
            }
        }
        int quorum = running / 2 + 1;
        return votes.entrySet().stream().filter(e -> e.getValue() >= quorum).map(java.util.Map.Entry::getKey).findFirst()
                .orElseThrow(() -> new IllegalStateException("the sentinels do not agree on a primary yet: " + votes));
    }

    /** The port of the data node that is not the primary (while it runs). */
    public int replicaPort() {
        int primary = primaryPort();
        return nodes.stream().filter(n -> n.args.contains("--port") && n.announced() != primary).findFirst().orElseThrow()
                .announced();
    }

    /** One command to the current primary. */
    public Object primary(String... args) {
        return command(primaryPort(), args);
    }

    /** One command to the node on {@code port} (a data node or a sentinel), authenticated when the set has a password. */
    public Object command(int port, String... args) {
        int plain = nodes.stream().filter(n -> n.tlsPort == port && port > 0).map(n -> n.port).findFirst().orElse(port);
        return RedisServer.commandAt(plain, null, password, -1, args);
    }

    /** The certificates every node uses; null without TLS. */
    public TestCertificates certificates() {
        return certs;
    }

    /** {@code kill -9} of the primary: the sentinels see it down after {@value #DOWN_AFTER_MS} ms and promote the replica. */
    public int killPrimary() {
        int port = primaryPort();
        Node node = nodes.stream().filter(n -> n.announced() == port).findFirst().orElseThrow();
        Processes.kill(node.process);
        node.process = null;
        return port;
    }

    /** A graceful failover, as an operator asks for it: the old primary becomes a replica of the promoted one. */
    public void failover() {
        command(sentinels.get(0).port, "SENTINEL", "FAILOVER", MASTER);
    }

    /** Waits until the sentinels name a primary other than {@code oldPort} and it answers as a master. */
    public int awaitPromotion(int oldPort, Duration timeout) {
        Fleet.awaitTrue("the sentinels promoted a new primary", timeout, () -> {
            try {
                int now = primaryPort();
                return now != oldPort && ((List<?>) command(now, "ROLE")).get(0).equals("master");
            } catch (RuntimeException e) {
                return false;
            }
        });
        return primaryPort();
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
