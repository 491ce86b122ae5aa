package dev.flock.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Redis' MONITOR feed, read on a thread of its own. */
public final class RedisMonitor implements AutoCloseable {
    private final Socket socket;
    /** Sends a command to the monitored server on a connection of its own (the marker). */
    private final java.util.function.Consumer<String[]> command;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Thread reader;
    private int markers;
    private String lastScriptSha;

    public RedisMonitor(RedisServer redis) throws IOException {
        this(redis.port(), redis::command);
    }

    /** One node of a cluster. */
    public static RedisMonitor of(ClusterSet cluster, int port) throws IOException {
        return new RedisMonitor(port, args -> cluster.command(port, args));
    }

    private RedisMonitor(int port, java.util.function.Consumer<String[]> command) throws IOException {
        this.command = command;
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.getOutputStream().write("MONITOR\r\n".getBytes(StandardCharsets.US_ASCII));
        BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        assertThat(in.readLine()).isEqualTo("+OK");
        reader = new Thread(() -> {
            try {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException closed) {
                // the test is over
            }
        }, "redis-monitor");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * The names of the commands that mention {@code text} since the previous call, up to a marker this sends now:
     * Redis feeds MONITOR in execution order, so every command the server ran before the marker is in.
     */
    public List<String> commandsUntilMarker(String text) throws InterruptedException {
        return callsUntilMarker(text).stream().map(args -> args.get(0).toUpperCase(java.util.Locale.ROOT)).toList();
    }

    /** As {@link #commandsUntilMarker}, each command with its arguments. Commands a script ran are left out. */
    public List<List<String>> callsUntilMarker(String text) throws InterruptedException {
        List<List<String>> out = new ArrayList<>();
        for (String line : linesUntilMarker(text)) {
            List<String> args = quoted(line);
            out.add(args);
            if (args.get(0).toUpperCase(java.util.Locale.ROOT).startsWith("EVAL")) {
                lastScriptSha = args.get(1);
            }
        }
        return out;
    }

    /** The MONITOR lines that mention {@code text} up to a marker sent now, without the commands scripts ran. */
    private List<String> linesUntilMarker(String text) throws InterruptedException {
        String marker = "flock-test-marker-" + (++markers);
        command.accept(new String[] {"ECHO", marker});
        List<String> out = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (line == null) {
                continue;
            }
            if (line.contains("\"" + marker + "\"")) {
                return out;
            }
            // "[0 lua]": a command a script ran, not one a client sent
            if (line.contains(text) && !line.contains(" lua]")) {
                out.add(line);
            }
        }
        throw new AssertionError("no MONITOR marker within 10 s; saw " + out);
    }

    /**
     * As {@link #callsUntilMarker}, each command's name with the client that sent it ({@code SET 127.0.0.1:50312}):
     * which connection carried what.
     */
    public List<String> sendersUntilMarker(String text) throws InterruptedException {
        return linesUntilMarker(text).stream()
                .map(line -> quoted(line).get(0).toUpperCase(java.util.Locale.ROOT) + " " + client(line)).toList();
    }

    /** The client of a MONITOR line: {@code 127.0.0.1:50312} out of {@code +ts [0 127.0.0.1:50312] ...}. */
    private static String client(String line) {
        int open = line.indexOf('[');
        int close = line.indexOf(']', open);
        String inside = line.substring(open + 1, close);
        return inside.substring(inside.indexOf(' ') + 1);
    }

    /** The quoted arguments of a MONITOR line ({@code +ts [db addr] "CMD" "arg" ...}); escapes are kept as they are. */
    private static List<String> quoted(String line) {
        List<String> args = new ArrayList<>();
        int i = line.indexOf('"');
        while (i >= 0 && i < line.length()) {
            int j = i + 1;
            while (j < line.length() && line.charAt(j) != '"') {
                j += line.charAt(j) == '\\' ? 2 : 1;
            }
            args.add(line.substring(i + 1, Math.min(j, line.length())));
            i = line.indexOf('"', j + 1);
        }
        return args;
    }

    /** The SHA1 of the last EVALSHA (or the text of the last EVAL) seen by {@link #commandsUntilMarker}. */
    public String lastScriptSha() {
        return lastScriptSha;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
