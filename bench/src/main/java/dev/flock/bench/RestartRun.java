package dev.flock.bench;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code LoadGen restart}: a rolling restart as the SDK sees it (issue 20). Opens {@code --conns} clients over two
 * instances ({@code --url a,b}), rooms of 10, each like the SDK: after a close it reconnects (1 s later, the SDK's
 * base backoff; doubling after each failed try) and re-joins its room. Once all have joined, it sends SIGTERM to
 * the first instance ({@code --stop-pid}); a closed client reconnects to the other instance, as a load balancer that
 * saw the first one's /ready turn 503 would send it. Reports how long until every client of the stopped instance
 * had re-joined, the peak re-join rate (the most re-joins in any 100 ms, per second), and the presence events ({@code user:joined},
 * {@code user:left}, {@code presence:updated}) any client received about another user after the SIGTERM.
 * Loopback only; every wait is bounded.
 */
final class RestartRun {

    private static final long BASE_BACKOFF_MS = 1000;

    private final List<URI> urls;
    private final int conns;
    private final double rate;
    private final long stopPid;
    private final double timeoutS;
    private final String label;
    private final AtomicInteger joined = new AtomicInteger();
    private final AtomicInteger onStopped = new AtomicInteger();
    private final AtomicInteger rejoined = new AtomicInteger();
    private final AtomicLong presenceEvents = new AtomicLong();
    private final AtomicLong closes = new AtomicLong();
    private final AtomicLong failedTries = new AtomicLong();
    private final ConcurrentLinkedQueue<Long> rejoinNanos = new ConcurrentLinkedQueue<>();
    private volatile long stopNanos = -1;
    private Vertx vertx;
    private WebSocketClient client;

    private RestartRun(List<URI> urls, int conns, double rate, long stopPid, double timeoutS, String label) {
        this.urls = urls;
        this.conns = conns;
        this.rate = rate;
        this.stopPid = stopPid;
        this.timeoutS = timeoutS;
        this.label = label;
    }

    static int main(String[] argv) throws InterruptedException {
        Args a = new Args(argv);
        a.positional(); // "restart"
        List<URI> urls = LoopbackUrls.parse(a.opt("--url", "ws://127.0.0.1:8787/,ws://127.0.0.1:8788/"));
        int conns = a.intOpt("--conns", 4000);
        double rate = a.doubleOpt("--connect-rate", 1000);
        long pid = Long.parseLong(a.opt("--stop-pid", "0"));
        double timeout = a.doubleOpt("--timeout", 60);
        String label = a.opt("--label", "");
        a.rejectUnknown();
        if (urls.size() != 2 || conns < 10 || rate <= 0 || pid <= 0 || timeout <= 0 || timeout > 600) {
            throw Args.fail("--url a,b (two instances), --conns >= 10, --connect-rate > 0, --stop-pid <pid of a>, 0 < --timeout <= 600");
        }
        LoadGen.checkFileLimit(conns);
        return new RestartRun(urls, conns, rate, pid, timeout, label).run();
    }

    /** One SDK-like client. Runs on its event loop only. */
    private final class Sdk {
        final int index;
        final String userId;
        final String roomId;
        int url;
        WebSocket ws;
        long backoff = BASE_BACKOFF_MS;
        boolean joinedOnce;
        boolean wasOnStopped;

        Sdk(int index) {
            this.index = index;
            this.userId = "u" + index;
            this.roomId = "restart-r" + (index / 10);
            this.url = index % 2; // half on each instance
        }

        void connect() {
            URI u = urls.get(url);
            client.connect(new WebSocketConnectOptions().setHost(LoopbackUrls.host(u)).setPort(LoopbackUrls.port(u))
                    .setURI(LoopbackUrls.path(u))).onSuccess(this::opened).onFailure(e -> {
                failedTries.incrementAndGet();
                vertx.setTimer(backoff, id -> connect());
                backoff = Math.min(backoff * 2, 30_000);
            });
        }

        void opened(WebSocket socket) {
            ws = socket;
            backoff = BASE_BACKOFF_MS; // the SDK resets its backoff after every successful open
            socket.textMessageHandler(this::onText);
            socket.closeHandler(v -> {
                closes.incrementAndGet();
                ws = null;
                url = 1; // the load balancer sends it to the instance that stays
                vertx.setTimer(BASE_BACKOFF_MS, id -> connect());
            });
            socket.writeTextMessage(new JsonObject().put("type", "join").put("roomId", roomId).put("userId", userId)
                    .put("metadata", new JsonObject().put("name", userId)).encode());
        }

        void onText(String text) {
            JsonObject m = new JsonObject(text);
            String type = m.getString("type");
            if ("join:ack".equals(type)) {
                if (!joinedOnce) {
                    joinedOnce = true;
                    joined.incrementAndGet();
                    if (url == 0) {
                        wasOnStopped = true;
                        onStopped.incrementAndGet();
                    }
                } else if (stopNanos > 0) {
                    rejoined.incrementAndGet();
                    rejoinNanos.add(System.nanoTime());
                }
            } else if (stopNanos > 0 && !userId.equals(m.getString("userId"))
                    && ("user:joined".equals(type) || "user:left".equals(type) || "presence:updated".equals(type))) {
                presenceEvents.incrementAndGet();
            }
        }
    }

    private int run() throws InterruptedException {
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(conns * 2));
        List<Sdk> sdks = new ArrayList<>(conns);
        for (int i = 0; i < conns; i++) {
            sdks.add(new Sdk(i));
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < conns; i++) {
            Sdk s = sdks.get(i);
            long due = t0 + (long) (i / rate * 1e9);
            long wait = due - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
            vertx.runOnContext(v -> s.connect());
        }
        long deadline = System.nanoTime() + (long) (timeoutS * 1e9);
        while (joined.get() < conns && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        if (joined.get() < conns) {
            System.out.printf("%sonly %d of %d joined: giving up%n", tag(), joined.get(), conns);
            return 1;
        }
        System.out.printf("%s%d joined (%d on the instance to stop); SIGTERM to pid %d%n", tag(), conns, onStopped.get(), stopPid);
        Thread.sleep(2000); // settle
        presenceEvents.set(0);
        stopNanos = System.nanoTime();
        boolean signalled = ProcessHandle.of(stopPid).map(ProcessHandle::destroy).orElse(false);
        if (!signalled) {
            System.out.printf("%sno process %d to stop%n", tag(), stopPid);
            return 1;
        }
        while (rejoined.get() < onStopped.get() && System.nanoTime() < deadline + (long) (timeoutS * 1e9)) {
            Thread.sleep(50);
        }
        Thread.sleep(1000); // whatever presence event the last re-joins cause arrives meanwhile
        List<Long> times = new ArrayList<>(rejoinNanos);
        times.sort(Long::compare);
        double backS = times.isEmpty() ? Double.NaN : (times.get(times.size() - 1) - stopNanos) / 1e9;
        // the rate as a server feels it: the most re-joins in any 100 ms, per second (and, for reference, in any second)
        int peak = peakWithin(times, 100_000_000L) * 10;
        int peakInASecond = peakWithin(times, 1_000_000_000L);
        Report r = new Report();
        r.put("mode", "restart").put("label", label).put("connections", conns).put("onStoppedInstance", onStopped.get())
                .put("rejoined", rejoined.get()).put("allBackS", backS).put("peakRejoinsPerS", peak)
                .put("peakRejoinsInOneSecond", peakInASecond)
                .put("presenceEventsAfterStop", presenceEvents.get()).put("closes", closes.get())
                .put("failedConnectTries", failedTries.get());
        r.line("%srejoined %d of %d (all back %.2f s after SIGTERM), peak %d re-joins/s (over 100 ms; %d in one second),"
                + " %d presence events seen, %d failed connect tries", tag(), rejoined.get(), onStopped.get(), backS, peak,
                peakInASecond, presenceEvents.get(), failedTries.get());
        r.print();
        return 0;
    }

    /** The most of the sorted {@code times} within any window of {@code windowNanos}. */
    private static int peakWithin(List<Long> times, long windowNanos) {
        int peak = 0;
        for (int i = 0, j = 0; i < times.size(); i++) {
            while (times.get(i) - times.get(j) >= windowNanos) {
                j++;
            }
            peak = Math.max(peak, i - j + 1);
        }
        return peak;
    }

    private String tag() {
        return label.isEmpty() ? "" : "[" + label + "] ";
    }
}
