package dev.flock.bench;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * {@code LoadGen failover}: how long cross-instance fan-out stops when the Redis primary dies (issue 23). In each of
 * {@code --rooms} rooms a sender on instance a moves every {@code --interval-ms} and a receiver on instance b
 * listens; every move carries its sequence number in {@code x}. After {@code --steady-s} of steady traffic it sends
 * SIGKILL to {@code --kill-pid} (the primary) and, through {@code --sentinel host:port}, notes when the sentinels name
 * a new primary. A room is back when its receiver gets a move that was sent after the kill. Reports, over the rooms,
 * the median and the slowest time from the kill until the room was back, the sentinels' promotion time, and Flock's
 * own part (back minus promoted). Loopback only; every wait is bounded by {@code --timeout}.
 *
 * <p>Redis Cluster: {@code --replica host:port} instead of {@code --sentinel} names the replica of the master that
 * {@code --kill-pid} kills; it is promoted when its {@code ROLE} says {@code master} (polled every 10 ms). The
 * per-room times ({@code backByRoomS}, room i at index i, null for a room that never came back) let the script tell
 * the dead master's rooms from the others.
 */
final class FailoverRun {

    private final URI a;
    private final URI b;
    private final int rooms;
    private final int intervalMs;
    private final double steadyS;
    private final long killPid;
    /** The sentinel, or (cluster) the replica, polled for the promotion. */
    private final String probeHost;
    private final int probePort;
    /** True: the probe is a cluster replica's ROLE; false: a sentinel's GET-MASTER-ADDR-BY-NAME. */
    private final boolean replicaProbe;
    private final String master;
    private final double timeoutS;
    private final String label;
    private final AtomicInteger joined = new AtomicInteger();
    /** Per room: when its first move sent after the kill arrived (0: not yet). */
    private final AtomicLongArray backNanos;
    private final AtomicInteger back = new AtomicInteger();
    private final AtomicInteger received = new AtomicInteger();
    private volatile long killNanos = -1;
    /** Per room: the first sequence number sent after the kill (Long.MAX_VALUE before the kill). */
    private final AtomicLongArray firstAfterKill;
    private Vertx vertx;
    private WebSocketClient client;

    private FailoverRun(List<URI> urls, int rooms, int intervalMs, double steadyS, long killPid, String probe,
                        boolean replicaProbe, String master, double timeoutS, String label) {
        this.a = urls.get(0);
        this.b = urls.get(1);
        this.rooms = rooms;
        this.intervalMs = intervalMs;
        this.steadyS = steadyS;
        this.killPid = killPid;
        int colon = probe.lastIndexOf(':');
        this.probeHost = probe.substring(0, colon);
        this.probePort = Integer.parseInt(probe.substring(colon + 1));
        this.replicaProbe = replicaProbe;
        this.master = master;
        this.timeoutS = timeoutS;
        this.label = label;
        this.backNanos = new AtomicLongArray(rooms);
        this.firstAfterKill = new AtomicLongArray(rooms);
        for (int i = 0; i < rooms; i++) {
            firstAfterKill.set(i, Long.MAX_VALUE);
        }
    }

    static int main(String[] argv) throws InterruptedException {
        Args args = new Args(argv);
        args.positional(); // "failover"
        List<URI> urls = LoopbackUrls.parse(args.opt("--url", "ws://127.0.0.1:8787/,ws://127.0.0.1:8788/"));
        int rooms = args.intOpt("--rooms", 50);
        int interval = args.intOpt("--interval-ms", 20);
        double steady = args.doubleOpt("--steady-s", 3);
        long pid = Long.parseLong(args.opt("--kill-pid", "0"));
        String sentinel = args.opt("--sentinel", "");
        String replica = args.opt("--replica", "");
        String master = args.opt("--master", "mymaster");
        double timeout = args.doubleOpt("--timeout", 60);
        String label = args.opt("--label", "");
        args.rejectUnknown();
        String probe = sentinel.isEmpty() ? replica : sentinel;
        if (urls.size() != 2 || rooms < 1 || rooms > 2000 || interval < 5 || steady <= 0 || pid <= 0
                || sentinel.isEmpty() == replica.isEmpty() || !probe.matches("127\\.0\\.0\\.1:\\d{1,5}")
                || timeout <= 0 || timeout > 600) {
            throw Args.fail("--url a,b (two instances), 1 <= --rooms <= 2000, --interval-ms >= 5, --steady-s > 0,"
                    + " --kill-pid <primary's pid>, --sentinel 127.0.0.1:<port> or (cluster) --replica 127.0.0.1:<port>"
                    + " of the killed master's replica, 0 < --timeout <= 600");
        }
        return new FailoverRun(urls, rooms, interval, steady, pid, probe, !replica.isEmpty(), master, timeout, label)
                .run();
    }

    /** One room's sender (on a) and receiver (on b). Runs on its event loop only. */
    private final class Pair {
        final int index;
        final String roomId;
        WebSocket sender;
        long seq;
        boolean senderJoined;
        boolean receiverJoined;

        Pair(int index) {
            this.index = index;
            this.roomId = "failover-r" + index;
        }

        void connect() {
            open(a, "s" + index, ws -> sender = ws, true);
            open(b, "r" + index, ws -> ws.textMessageHandler(this::onReceived), false);
        }

        private void open(URI u, String userId, java.util.function.Consumer<WebSocket> then, boolean isSender) {
            client.connect(new WebSocketConnectOptions().setHost(LoopbackUrls.host(u)).setPort(LoopbackUrls.port(u))
                    .setURI(LoopbackUrls.path(u))).onSuccess(ws -> {
                then.accept(ws);
                if (isSender) {
                    ws.textMessageHandler(text -> {
                        if (text.contains("\"join:ack\"")) {
                            senderJoined = true;
                            countJoin();
                        }
                    });
                }
                ws.writeTextMessage(new JsonObject().put("type", "join").put("roomId", roomId).put("userId", userId)
                        .put("metadata", new JsonObject().put("name", userId)).encode());
            }).onFailure(e -> System.out.printf("%sconnect failed: %s%n", tag(), e.getMessage()));
        }

        void onReceived(String text) {
            JsonObject m = new JsonObject(text);
            String type = m.getString("type");
            if ("join:ack".equals(type)) {
                receiverJoined = true;
                countJoin();
            } else if ("cursor:updated".equals(type)) {
                received.incrementAndGet();
                long s = Math.round(m.getJsonObject("position").getDouble("x") * 1_000_000);
                if (s >= firstAfterKill.get(index) && backNanos.compareAndSet(index, 0, System.nanoTime())) {
                    back.incrementAndGet();
                }
            }
        }

        void countJoin() {
            if (senderJoined && receiverJoined) {
                senderJoined = false; // count each pair once
                receiverJoined = false;
                joined.incrementAndGet();
            }
        }

        void tick() {
            if (sender == null || seq >= 999_999) {
                return;
            }
            seq++;
            if (killNanos > 0 && firstAfterKill.get(index) == Long.MAX_VALUE) {
                firstAfterKill.set(index, seq);
            }
            sender.writeTextMessage("{\"type\":\"cursor:move\",\"roomId\":\"" + roomId + "\",\"position\":{\"x\":"
                    + (seq / 1_000_000.0) + ",\"y\":0.5}}");
        }
    }

    private int run() throws InterruptedException {
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(rooms * 4));
        List<Pair> pairs = new ArrayList<>(rooms);
        for (int i = 0; i < rooms; i++) {
            Pair p = new Pair(i);
            pairs.add(p);
            vertx.runOnContext(v -> p.connect());
        }
        long deadline = System.nanoTime() + (long) (timeoutS * 1e9);
        while (joined.get() < rooms && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        if (joined.get() < rooms) {
            System.out.printf("%sonly %d of %d rooms joined: giving up%n", tag(), joined.get(), rooms);
            return 1;
        }
        vertx.setPeriodic(intervalMs, id -> pairs.forEach(Pair::tick));
        Thread.sleep((long) (steadyS * 1000));
        if (received.get() == 0) {
            System.out.printf("%sno move crossed instances in %.1f s of steady traffic: giving up%n", tag(), steadyS);
            return 1;
        }
        String before = primary();
        killNanos = System.nanoTime();
        boolean killed = ProcessHandle.of(killPid).map(ProcessHandle::destroyForcibly).orElse(false);
        if (!killed) {
            System.out.printf("%sno process %d to kill%n", tag(), killPid);
            return 1;
        }
        long promotedNanos = -1;
        while (System.nanoTime() < deadline + (long) (timeoutS * 1e9) && (back.get() < rooms || promotedNanos < 0)) {
            if (promotedNanos < 0) {
                String now = primary();
                if (now != null && !now.equals(before)) {
                    promotedNanos = System.nanoTime();
                }
            }
            Thread.sleep(10);
        }
        List<Double> times = new ArrayList<>(rooms);
        List<Double> byRoom = new ArrayList<>(rooms);
        for (int i = 0; i < rooms; i++) {
            long t = backNanos.get(i);
            if (t > 0) {
                times.add((t - killNanos) / 1e9);
            }
            byRoom.add(t > 0 ? Math.round((t - killNanos) / 1e6) / 1000.0 : null);
        }
        times.sort(Double::compare);
        double median = times.isEmpty() ? Double.NaN : times.get(times.size() / 2);
        double slowest = times.isEmpty() ? Double.NaN : times.get(times.size() - 1);
        double promoted = promotedNanos < 0 ? Double.NaN : (promotedNanos - killNanos) / 1e9;
        Report r = new Report();
        r.put("mode", "failover").put("label", label).put("rooms", rooms).put("roomsBack", times.size())
                .put("backMedianS", median).put("backSlowestS", slowest).put("promotedS", promoted)
                .put("flockPartS", slowest - promoted).put("promotedBy", replicaProbe ? "replica ROLE" : "sentinels")
                .put("backByRoomS", byRoom);
        r.line("%s%d of %d rooms back: median %.2f s, slowest %.2f s after the kill; %s promoted at %.2f s;"
                + " Flock's part %.2f s", tag(), times.size(), rooms, median, slowest,
                replicaProbe ? "the replica (ROLE)" : "sentinels", promoted, slowest - promoted);
        r.print();
        return times.size() == rooms ? 0 : 1;
    }

    /**
     * Who is primary now: {@code ip:port} the sentinel names; or (cluster) the replica's own role, {@code slave}
     * until it won the election and {@code master} after. Null when the probe does not answer.
     */
    private String primary() {
        return replicaProbe ? replicaRole() : sentinelPrimary();
    }

    /** The first element of {@code ROLE} on the replica: {@code slave} (or {@code master} once promoted). */
    private String replicaRole() {
        try (Socket s = new Socket(probeHost, probePort)) {
            s.setSoTimeout(1000);
            OutputStream out = s.getOutputStream();
            out.write("*1\r\n$4\r\nROLE\r\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = new BufferedInputStream(s.getInputStream());
            if (!line(in).startsWith("*")) {
                return null;
            }
            line(in); // $len
            return line(in);
        } catch (IOException e) {
            return null;
        }
    }

    /** {@code ip:port} of the primary the sentinel names now, or null when it does not answer. */
    private String sentinelPrimary() {
        try (Socket s = new Socket(probeHost, probePort)) {
            s.setSoTimeout(1000);
            OutputStream out = s.getOutputStream();
            byte[] name = master.getBytes(StandardCharsets.UTF_8);
            out.write(("*3\r\n$8\r\nSENTINEL\r\n$23\r\nGET-MASTER-ADDR-BY-NAME\r\n$" + name.length + "\r\n" + master + "\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = new BufferedInputStream(s.getInputStream());
            if (!line(in).startsWith("*2")) {
                return null;
            }
            line(in);
            String ip = line(in);
            line(in);
            return ip + ":" + line(in);
        } catch (IOException e) {
            return null;
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c = in.read(); c != -1 && c != '\r'; c = in.read()) {
            sb.append((char) c);
        }
        in.read(); // '\n'
        return sb.toString();
    }

    private String tag() {
        return label.isEmpty() ? "" : "[" + label + "] ";
    }
}
