package dev.flock.transport;

import dev.flock.config.FlockConfig;
import io.vertx.core.MultiMap;
import io.vertx.core.net.SocketAddress;

import java.lang.management.ManagementFactory;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Who may open a WebSocket: at most {@code FLOCK_MAX_CONNECTIONS} in this process, at most
 * {@code FLOCK_MAX_CONNECTIONS_PER_IP} from one client address, none while memory is above its high-water mark. The
 * decision is taken on the upgrade request, before a socket exists, so a refused client costs an HTTP response and
 * an already joined connection is never dropped to make room. Shared by every event loop.
 */
public final class Admission {

    /** What a refused client is told to wait before it tries again. */
    public static final int RETRY_AFTER_SECONDS = 5;
    /**
     * Heap one held connection costs at most, all included (socket, Vert.x and Netty objects, Flock's connection and
     * room state, a 10-user room's share): measured in docs/BENCHMARKS.md ("capacity"), with headroom.
     */
    static final long HEAP_PER_CONNECTION = 8 * 1024;
    /** Heap kept for everything that is not a connection: start-up, rooms' bursts, HTTP, GC headroom. */
    static final long HEAP_RESERVE = 32L * 1024 * 1024;
    /** File descriptors kept for the listener, Redis, logs and HTTP connections that have not upgraded. */
    static final int FD_RESERVE_PERCENT = 5;

    /** Why an upgrade is refused. */
    public enum Refusal {
        CAPACITY("capacity", "the server is at its connection limit"),
        PER_IP("per_ip", "too many connections from your address"),
        MEMORY("memory", "the server is low on memory");

        public final String metric;
        public final String message;

        Refusal(String metric, String message) {
            this.metric = metric;
            this.message = message;
        }
    }

    /** One admitted socket's seat; released exactly once, when its socket is gone. */
    public final class Ticket {
        private final String address;
        private final AtomicBoolean released = new AtomicBoolean();

        private Ticket(String address) {
            this.address = address;
        }

        public void release() {
            if (released.compareAndSet(false, true)) {
                open.decrementAndGet();
                if (address != null) {
                    perAddress.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
                }
            }
        }
    }

    /** A ticket, or why there is none. */
    public record Decision(Ticket ticket, Refusal refusal) {
        public boolean admitted() {
            return ticket != null;
        }
    }

    private final int maxConnections;
    private final int maxPerAddress;
    private final boolean trustProxy;
    private final Supplier<String> memoryAlarm;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<String, Integer> perAddress = new ConcurrentHashMap<>();

    public Admission(FlockConfig config, Supplier<String> memoryAlarm) {
        this.maxConnections = config.maxConnections() > 0 ? config.maxConnections()
                : derivedMaxConnections(Runtime.getRuntime().maxMemory(), maxFileDescriptors());
        this.maxPerAddress = config.maxConnectionsPerIp();
        this.trustProxy = config.trustProxy();
        this.memoryAlarm = memoryAlarm;
    }

    /**
     * The default limit: what the heap holds beside its reserve, and what the fd limit leaves (one fd per socket).
     * The Dockerfile's 128 MB heap gives 11,744; the fd limit is the smaller one only on bigger heaps.
     */
    static int derivedMaxConnections(long maxHeap, long maxFds) {
        long byHeap = Math.max(100, (maxHeap - HEAP_RESERVE) / HEAP_PER_CONNECTION);
        long byFds = maxFds <= 0 ? Long.MAX_VALUE : Math.max(100, maxFds - maxFds * FD_RESERVE_PERCENT / 100 - 50);
        return (int) Math.min(Integer.MAX_VALUE, Math.min(byHeap, byFds));
    }

    private static long maxFileDescriptors() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return -1;
    }

    public int maxConnections() {
        return maxConnections;
    }

    public int open() {
        return open.get();
    }

    /** Takes a seat for an upgrade from {@code remote} (or the proxy's client address), or says why not. */
    public Decision admit(MultiMap headers, SocketAddress remote) {
        if (memoryAlarm.get() != null) {
            return new Decision(null, Refusal.MEMORY);
        }
        if (open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            return new Decision(null, Refusal.CAPACITY);
        }
        String address = maxPerAddress > 0 ? clientAddress(headers, remote) : null;
        if (address != null) {
            boolean[] full = new boolean[1];
            perAddress.compute(address, (a, n) -> {
                int held = n == null ? 0 : n;
                if (held >= maxPerAddress) {
                    full[0] = true;
                    return n;
                }
                return held + 1;
            });
            if (full[0]) {
                open.decrementAndGet();
                return new Decision(null, Refusal.PER_IP);
            }
        }
        return new Decision(new Ticket(address), null);
    }

    /**
     * The client's address: the socket's peer, or behind a trusted proxy the last X-Forwarded-For entry (the one that
     * proxy appended; entries before it are whatever the client claimed).
     */
    String clientAddress(MultiMap headers, SocketAddress remote) {
        if (trustProxy && headers != null) {
            String forwarded = headers.get("X-Forwarded-For");
            if (forwarded != null) {
                String last = forwarded.substring(forwarded.lastIndexOf(',') + 1).trim();
                if (!last.isEmpty()) {
                    return last.length() > 64 ? last.substring(0, 64) : last;
                }
            }
        }
        if (remote == null) {
            return "unknown";
        }
        return remote.hostAddress() != null ? remote.hostAddress() : remote.toString();
    }
}
