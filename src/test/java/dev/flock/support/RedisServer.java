package dev.flock.support;

import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.lifecycle.Startable;
import org.testcontainers.utility.DockerImageName;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away Redis for tests: a Testcontainers {@code redis:7-alpine} container when a Docker engine is
 * available, otherwise a real {@code redis-server} process on a free loopback port (no persistence). Tests never
 * care which one they got. It can be stopped and started again on the same port (Redis restart tests). When
 * neither is possible the test is skipped, or fails when {@code CI=true}.
 */
public final class RedisServer implements Startable {

    private static final String IMAGE = "redis:7-alpine";
    private static final int REDIS_PORT = 6379;
    private static final long START_TIMEOUT_MS = 10_000;

    private final int port;
    private GenericContainer<?> container;
    private Process process;
    private final boolean docker;
    private final String binary;
    private final List<String> extraArgs;
    private final String authUser;
    private final String authPassword;

    private RedisServer(boolean docker, String binary, List<String> extraArgs, String authUser, String authPassword) {
        this.docker = docker;
        this.binary = binary;
        this.extraArgs = extraArgs;
        this.authUser = authUser;
        this.authPassword = authPassword;
        this.port = JarProcess.freePort();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds the wrapper (not started yet); skips or fails the test when no Redis can exist here. */
    public static final class Builder {
        private final List<String> args = new ArrayList<>();
        private String authUser;
        private String authPassword;

        /**
         * Extra server arguments, each token its own argument, e.g. {@code "--requirepass", "pw"} or
         * {@code "--user", "alice", "on", ">secret", "~*", "&*", "+@all"}.
         */
        public Builder args(String... settings) {
            args.addAll(List.of(settings));
            return this;
        }

        /** The credentials {@link #command} (the test's own connection) authenticates with; null user = default. */
        public Builder auth(String user, String password) {
            this.authUser = user;
            this.authPassword = password;
            return this;
        }

        public RedisServer build() {
            boolean docker = dockerAvailable();
            String binary = docker ? null : findBinary();
            if (!docker && binary == null) {
                String why = "no Docker engine and no redis-server binary: Redis tests cannot run";
                if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                    throw new IllegalStateException(why);
                }
                Assumptions.assumeTrue(false, why);
            }
            return new RedisServer(docker, binary, List.copyOf(args), authUser, authPassword);
        }
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable e) {
            return false;
        }
    }

    /** The redis-server binary for topologies of processes (Sentinel, Cluster); skips, or fails when {@code CI=true}. */
    public static String binaryOrSkip() {
        String binary = findBinary();
        if (binary == null) {
            String why = "no redis-server binary: Redis topology tests cannot run";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new IllegalStateException(why);
            }
            Assumptions.assumeTrue(false, why);
        }
        return binary;
    }

    private static String findBinary() {
        List<String> candidates = new ArrayList<>(List.of("/usr/bin/redis-server", "/usr/local/bin/redis-server"));
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(java.io.File.pathSeparator)) {
                candidates.add(dir + "/redis-server");
            }
        }
        return candidates.stream().filter(c -> Files.isExecutable(Path.of(c))).findFirst().orElse(null);
    }

    @Override
    public void start() {
        if (docker) {
            if (container == null) {
                container = new GenericContainer<>(DockerImageName.parse(IMAGE)).withExposedPorts(REDIS_PORT);
                if (!extraArgs.isEmpty()) {
                    List<String> cmd = new ArrayList<>(List.of("redis-server"));
                    cmd.addAll(extraArgs);
                    container.withCommand(cmd.toArray(String[]::new));
                }
                container.setPortBindings(List.of(port + ":" + REDIS_PORT));
                container.start();
            } else {
                container.getDockerClient().startContainerCmd(container.getContainerId()).exec();
            }
        } else {
            try {
                List<String> cmd = new ArrayList<>(List.of(binary, "--port", String.valueOf(port), "--bind", "127.0.0.1",
                        "--save", "", "--appendonly", "no", "--protected-mode", "no"));
                cmd.addAll(extraArgs);
                process = new ProcessBuilder(cmd)
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            } catch (IOException e) {
                throw new IllegalStateException("cannot start " + binary, e);
            }
        }
        awaitPing();
    }

    /** Stops Redis, keeping the wrapper so that {@link #start()} brings it back on the same port (empty). */
    @Override
    public void stop() {
        if (docker) {
            if (container != null) {
                container.getDockerClient().stopContainerCmd(container.getContainerId()).exec();
            }
        } else if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }

    /** Stops and removes everything for good. */
    @Override
    public void close() {
        stop();
        if (container != null) {
            container.stop();
            container = null;
        }
    }

    public void restart() {
        stop();
        start();
    }

    public int port() {
        return port;
    }

    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    public boolean usesDocker() {
        return docker;
    }

    private void awaitPing() {
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
        while (true) {
            try {
                if ("PONG".equals(command("PING"))) {
                    return;
                }
            } catch (RuntimeException e) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("Redis did not start on port " + port, e);
                }
            }
            try {
                Thread.sleep(50); // polling a starting process, not synchronising with the system under test
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** Runs one command on a fresh connection (authenticated when the builder said so); returns a String, Long, List or null. */
    public Object command(String... args) {
        return commandIn(-1, args);
    }

    /** As {@link #command}, in database {@code db} (SELECT first); -1 = the default database. */
    public Object commandIn(int db, String... args) {
        return commandAt(port, authUser, authPassword, db, args);
    }

    /**
     * One command to the Redis (or sentinel) on loopback port {@code port}, on a fresh connection: AUTH first when
     * {@code authPassword} is set, SELECT when {@code db >= 0}.
     */
    public static Object commandAt(int port, String authUser, String authPassword, int db, String... args) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            BufferedInputStream in = new BufferedInputStream(s.getInputStream());
            if (authPassword != null) {
                write(out, authUser == null ? new String[]{"AUTH", authPassword} : new String[]{"AUTH", authUser, authPassword});
                read(in);
            }
            if (db >= 0) {
                write(out, new String[]{"SELECT", Integer.toString(db)});
                read(in);
            }
            write(out, args);
            return read(in);
        } catch (IOException e) {
            throw new IllegalStateException("redis command failed: " + String.join(" ", args), e);
        }
    }

    /**
     * Several commands to the Redis on loopback port {@code port}, one after the other on one fresh connection (for
     * what needs the same client, e.g. {@code WAIT} after a write); the replies in order, an error reply as an
     * {@link IllegalStateException} in its place.
     */
    public static List<Object> commandsAt(int port, List<String[]> commands) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            BufferedInputStream in = new BufferedInputStream(s.getInputStream());
            List<Object> replies = new ArrayList<>(commands.size());
            for (String[] args : commands) {
                write(out, args);
                try {
                    replies.add(read(in));
                } catch (IllegalStateException error) {
                    replies.add(error);
                }
            }
            return replies;
        } catch (IOException e) {
            throw new IllegalStateException("redis commands failed on port " + port, e);
        }
    }

    private static void write(OutputStream out, String[] args) throws IOException {
        StringBuilder sb = new StringBuilder("*").append(args.length).append("\r\n");
        for (String a : args) {
            byte[] b = a.getBytes(StandardCharsets.UTF_8);
            sb.append('$').append(b.length).append("\r\n").append(a).append("\r\n");
        }
        out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static Object read(InputStream in) throws IOException {
        int type = in.read();
        String line = line(in);
        switch (type) {
            case '+':
                return line;
            case '-':
                throw new IllegalStateException(line);
            case ':':
                return Long.parseLong(line);
            case '$': {
                int len = Integer.parseInt(line);
                if (len < 0) {
                    return null;
                }
                byte[] b = in.readNBytes(len);
                line(in);
                return new String(b, StandardCharsets.UTF_8);
            }
            case '*': {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    return null;
                }
                List<Object> out = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    out.add(read(in));
                }
                return out;
            }
            default:
                throw new IOException("unexpected RESP type " + (char) type);
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\r') {
                in.read();
                break;
            }
            sb.append((char) c);
        }
        return sb.toString();
    }
}
