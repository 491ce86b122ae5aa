package dev.flock.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads CPU time and RSS of the server processes (summed over --server-pid) and of the generator itself
 * from /proc, and samples the servers' summed RSS every 200 ms for the peak.
 */
final class ProcWatch implements AutoCloseable {
    /** CPU seconds and RSS (bytes) at one instant; summed over the watched pids. */
    record Sample(double cpuSeconds, long rssBytes) {
    }

    private static final double TICKS_PER_SECOND = clockTicks();
    private final List<String> serverPids;
    private final AtomicLong peakRss = new AtomicLong();
    private final ScheduledExecutorService sampler;

    ProcWatch(List<String> serverPids) {
        this.serverPids = serverPids;
        for (String pid : serverPids) {
            if (!Files.isReadable(Path.of("/proc", pid, "stat"))) {
                throw Args.fail("--server-pid " + pid + ": no such process");
            }
        }
        if (serverPids.isEmpty()) {
            sampler = null;
        } else {
            sampler = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "rss-sampler");
                t.setDaemon(true);
                return t;
            });
            sampler.scheduleAtFixedRate(() -> peakRss.accumulateAndGet(server().rssBytes(), Math::max),
                0, 200, TimeUnit.MILLISECONDS);
        }
    }

    boolean watchesServer() {
        return !serverPids.isEmpty();
    }

    Sample server() {
        double cpu = 0;
        long rss = 0;
        for (String pid : serverPids) {
            Sample s = read(pid);
            cpu += s.cpuSeconds();
            rss += s.rssBytes();
        }
        return new Sample(cpu, rss);
    }

    /** CPU seconds of each watched pid, in --server-pid order (a gone pid reads as zero). */
    double[] cpuByPid() {
        double[] out = new double[serverPids.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = read(serverPids.get(i)).cpuSeconds();
        }
        return out;
    }

    Sample self() {
        return read("self");
    }

    /**
     * CPU seconds the whole machine has spent busy (all cores, everything but idle and iowait), from the
     * first line of /proc/stat. Busy minus server minus generator is what other processes took: a noisy run.
     */
    static double machineBusySeconds() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                if (i != 4 && i != 5) { // idle, iowait
                    busy += Long.parseLong(f[i]);
                }
            }
            return busy / TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** False once any watched server exited (or is a zombie): its CPU then reads as zero, and figures would lie. */
    boolean allServersAlive() {
        for (String pid : serverPids) {
            try {
                String stat = Files.readString(Path.of("/proc", pid, "stat"));
                char state = stat.charAt(stat.lastIndexOf(')') + 2);
                if (state == 'Z' || state == 'X') {
                    return false;
                }
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }
        return true;
    }

    long peakServerRss() {
        return Math.max(peakRss.get(), server().rssBytes());
    }

    @Override
    public void close() {
        if (sampler != null) {
            sampler.shutdownNow();
        }
    }

    /** utime+stime from /proc/pid/stat (fields 14 and 15) and VmRSS from /proc/pid/status. A gone pid reads as zero. */
    private static Sample read(String pid) {
        try {
            String stat = Files.readString(Path.of("/proc", pid, "stat"));
            // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            long rssKb = 0;
            for (String line : Files.readAllLines(Path.of("/proc", pid, "status"))) {
                if (line.startsWith("VmRSS:")) {
                    rssKb = Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                    break;
                }
            }
            return new Sample(ticks / TICKS_PER_SECOND, rssKb * 1024);
        } catch (IOException | RuntimeException gone) {
            return new Sample(0, 0);
        }
    }

    private static double clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0) {
                return Double.parseDouble(out);
            }
        } catch (IOException | NumberFormatException e) {
            // fall through to the Linux default
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 100;
    }
}
