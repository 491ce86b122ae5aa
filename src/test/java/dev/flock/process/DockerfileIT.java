package dev.flock.process;

import dev.flock.support.JarProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the image runs, without Docker (issue 21 items 3 and 7): the runtime stage's ENV, ENTRYPOINT and CMD read
 * from the Dockerfile and run against the built jar, with a "mounted" conf file in place of /app/conf/flock.json,
 * and the HEALTHCHECK's own command run against it; and the class-data-sharing step (issue 22): the RUN that trains
 * /app/flock.jsa, then the ENTRYPOINT mapping that archive.
 */
class DockerfileIT {

    private static final Path DOCKERFILE = Path.of("Dockerfile");
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void tearDown() throws InterruptedException {
        for (Process p : started) {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    /** The runtime stage: the logical lines (continuations joined, comments dropped) after the last FROM. */
    static List<String> runtimeStage() throws IOException {
        List<String> logical = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : Files.readAllLines(DOCKERFILE)) {
            if (line.stripLeading().startsWith("#")) {
                continue;
            }
            if (line.endsWith("\\")) {
                cur.append(line, 0, line.length() - 1);
                continue;
            }
            cur.append(line);
            if (!cur.toString().isBlank()) {
                logical.add(cur.toString().strip());
            }
            cur.setLength(0);
        }
        int from = 0;
        for (int i = 0; i < logical.size(); i++) {
            if (logical.get(i).startsWith("FROM ")) {
                from = i;
            }
        }
        return logical.subList(from, logical.size());
    }

    /** {@code ENV a="x y" b=2} pairs of the runtime stage, in order. */
    static Map<String, String> env(List<String> stage) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String line : stage) {
            if (!line.startsWith("ENV ")) {
                continue;
            }
            String s = line.substring(4).strip();
            int i = 0;
            while (i < s.length()) {
                int eq = s.indexOf('=', i);
                String key = s.substring(i, eq).strip();
                int j = eq + 1;
                StringBuilder value = new StringBuilder();
                if (j < s.length() && s.charAt(j) == '"') {
                    int close = s.indexOf('"', j + 1);
                    value.append(s, j + 1, close);
                    j = close + 1;
                } else {
                    while (j < s.length() && !Character.isWhitespace(s.charAt(j))) {
                        value.append(s.charAt(j++));
                    }
                }
                env.put(key, value.toString());
                while (j < s.length() && Character.isWhitespace(s.charAt(j))) {
                    j++;
                }
                i = j;
            }
        }
        return env;
    }

    static List<String> execForm(List<String> stage, String instruction) {
        String line = stage.stream().filter(l -> l.startsWith(instruction + " ")).reduce((a, b) -> b).orElseThrow();
        String json = line.substring(line.indexOf('['));
        return new JsonArray(json).stream().map(String::valueOf).toList();
    }

    private static List<String> asInImage(List<String> argv, Path conf) {
        return asInImage(argv, conf, JarProcess.jar().toAbsolutePath());
    }

    /** The image's paths replaced by the test's: the jar, the conf file, and the CDS archive beside the conf. */
    private static List<String> asInImage(List<String> argv, Path conf, Path jar) {
        return argv.stream().map(a -> a.replace("/app/flock-server.jar", jar.toString())
                .replace("/app/conf/flock.json", conf.toString())
                .replace("/app/flock.jsa", conf.resolveSibling("flock.jsa").toString())).toList();
    }

    private static ProcessBuilder withImageEnv(List<String> cmd, Map<String, String> imageEnv, Path log) {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("FLOCK_") || k.equals("JAVA_TOOL_OPTIONS"));
        pb.environment().putAll(imageEnv);
        pb.environment().put("PATH", System.getProperty("java.home") + File.separator + "bin" + File.pathSeparator
                + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        return pb.redirectErrorStream(true).redirectOutput(log.toFile());
    }

    private static int status(int port, String path) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + path).toURL().openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(2000);
            return c.getResponseCode();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Starts {@code cmd} as the image would and waits (30 s at most) for its first /health 200, failing if it dies. */
    private void startHealthy(List<String> cmd, Map<String, String> env, Path log, int port, String what)
            throws Exception {
        Process flock = withImageEnv(cmd, env, log).start();
        started.add(flock);
        long deadline = System.currentTimeMillis() + 30_000;
        while (status(port, "/health") != 200) {
            assertThat(flock.isAlive()).as("%s: %s", what, Files.readString(log)).isTrue();
            assertThat(System.currentTimeMillis()).as("healthy within 30 s: %s", Files.readString(log)).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    @Test
    void imageSetsNoFlockSetting_soAMountedConfChangesPortAndHost_andTheHealthcheckFollows(@TempDir Path dir) throws Exception {
        List<String> stage = runtimeStage();
        Map<String, String> imageEnv = env(stage);
        assertThat(imageEnv).containsKeys("JAVA_OPTS", "MALLOC_ARENA_MAX");
        assertThat(imageEnv.keySet()).noneMatch(k -> k.startsWith("FLOCK_"));
        assertThat(stage).contains("COPY conf/docker.json /app/conf/flock.json");

        // the operator's file, mounted over /app/conf/flock.json: the image's conf/docker.json with port and host changed
        int port = JarProcess.freePort();
        int metricsPort = JarProcess.freePort();
        JsonObject mine = new JsonObject(Files.readString(Path.of("conf/docker.json")))
                .put("port", port).put("host", "127.0.0.1").put("metricsPort", metricsPort);
        Path conf = dir.resolve("my-flock.json");
        Files.writeString(conf, mine.encodePrettily());

        List<String> cmd = new ArrayList<>(asInImage(execForm(stage, "ENTRYPOINT"), conf));
        cmd.addAll(asInImage(execForm(stage, "CMD"), conf));
        assertThat(cmd.get(0)).isEqualTo("sh");
        Path log = dir.resolve("flock.log");
        startHealthy(cmd, imageEnv, log, port, "flock runs");
        assertThat(Files.readString(log)).contains("flock started port=" + port);
        // no archive beside this conf (the RUN step is not run here): the start does not mind, and says nothing of it
        assertThat(Files.readString(log)).doesNotContain("[cds").doesNotContain("shared archive");
        // the image's production defaults, kept by a file started from conf/docker.json
        assertThat(status(port, "/")).as("no try-it page").isEqualTo(404);
        assertThat(status(port, "/metrics")).as("no /metrics on the public port").isEqualTo(404);
        assertThat(status(metricsPort, "/metrics")).isEqualTo(200);

        List<String> healthcheck = asInImage(execForm(stage, "HEALTHCHECK"), conf);
        Process ok = withImageEnv(healthcheck, imageEnv, dir.resolve("hc.log")).start();
        assertThat(ok.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(ok.exitValue()).as("HEALTHCHECK finds the port of the mounted file: %s", Files.readString(dir.resolve("hc.log"))).isZero();
        // and the check can fail: FLOCK_PORT (which would win for the server too) pointing where nothing listens
        Map<String, String> elsewhere = new LinkedHashMap<>(imageEnv);
        elsewhere.put("FLOCK_PORT", String.valueOf(JarProcess.freePort()));
        Process down = withImageEnv(healthcheck, elsewhere, dir.resolve("hc2.log")).start();
        assertThat(down.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(down.exitValue()).isNotZero();
    }

    @Test
    void cdsStep_trainsAnArchiveTheEntrypointMaps_andAStaleOneOnlyWarns(@TempDir Path dir) throws Exception {
        List<String> stage = runtimeStage();
        Map<String, String> imageEnv = env(stage);
        assertThat(stage).as("the RUN needs bash (/dev/tcp), not the image's sh").contains("SHELL [\"/bin/bash\", \"-c\"]");
        String run = stage.stream().filter(l -> l.startsWith("RUN ") && l.contains("-XX:ArchiveClassesAtExit=/app/flock.jsa"))
                .findFirst().orElseThrow();
        Path conf = dir.resolve("flock.json");
        Files.copy(Path.of("conf/docker.json"), conf);
        Path archive = dir.resolve("flock.jsa");

        // the training run, as the build runs it (bash -c), on free ports of ours instead of 8787 and 9091
        Map<String, String> trainEnv = new LinkedHashMap<>(imageEnv);
        trainEnv.put("FLOCK_PORT", String.valueOf(JarProcess.freePort()));
        trainEnv.put("FLOCK_METRICS_PORT", String.valueOf(JarProcess.freePort()));
        trainEnv.put("FLOCK_HOST", "127.0.0.1");
        Path trainLog = dir.resolve("train.log");
        Process train = withImageEnv(List.of("bash", "-c", asInImage(List.of(run.substring(4)), conf).get(0)), trainEnv,
                trainLog).start();
        started.add(train);
        assertThat(train.waitFor(60, TimeUnit.SECONDS)).as("training run ends by itself: %s", Files.readString(trainLog)).isTrue();
        assertThat(train.exitValue()).as("training run: %s", Files.readString(trainLog)).isZero();
        assertThat(archive).isNotEmptyFile();
        assertThat(Files.readString(trainLog)).contains("flock started").contains("stopped");

        // the ENTRYPOINT maps it: -Xshare:on after it makes an archive that does not fit the jar or flags fatal
        int port = JarProcess.freePort();
        Map<String, String> runEnv = new LinkedHashMap<>(imageEnv);
        runEnv.put("JAVA_OPTS", imageEnv.get("JAVA_OPTS") + " -XX:MaxRAM=256m -Xshare:on");
        runEnv.put("FLOCK_PORT", String.valueOf(port));
        runEnv.put("FLOCK_METRICS_PORT", String.valueOf(JarProcess.freePort()));
        runEnv.put("FLOCK_HOST", "127.0.0.1");
        List<String> cmd = new ArrayList<>(asInImage(execForm(stage, "ENTRYPOINT"), conf));
        assertThat(String.join(" ", cmd)).contains("-XX:SharedArchiveFile=" + archive);
        cmd.addAll(asInImage(execForm(stage, "CMD"), conf));
        Path log = dir.resolve("flock.log");
        startHealthy(cmd, runEnv, log, port, "flock runs with the archive");
        assertThat(Files.readString(log)).doesNotContain("shared archive");

        // another jar at that path (an operator's own build mounted over it): one warning, and the server starts anyway
        Path other = dir.resolve("other.jar");
        Files.copy(JarProcess.jar(), other);
        List<String> version = new ArrayList<>(asInImage(execForm(stage, "ENTRYPOINT"), conf, other));
        version.add("--version");
        Path versionLog = dir.resolve("version.log");
        Process stale = withImageEnv(version, imageEnv, versionLog).start();
        started.add(stale);
        assertThat(stale.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(stale.exitValue()).as("stale archive: %s", Files.readString(versionLog)).isZero();
        assertThat(Files.readString(versionLog)).contains("flock-server ").contains("Unable to use shared archive");
    }
}
