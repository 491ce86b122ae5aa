package dev.flock.ops;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The version and git commit this build came from, for {@code --version}, the start-up line and
 * {@code flock_build_info}. Read from {@code dev/flock/git.properties}, which the build writes
 * (git-commit-id-maven-plugin); a build without a git checkout says {@code unknown}.
 */
public record BuildInfo(String version, String commit) {

    private static final String UNKNOWN = "unknown";
    private static final BuildInfo CURRENT = load();

    public static BuildInfo current() {
        return CURRENT;
    }

    private static BuildInfo load() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("/dev/flock/git.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // an unreadable resource is the same as a build without git
        }
        String version = p.getProperty("git.build.version", "");
        String commit = p.getProperty("git.commit.id.abbrev", "");
        if (!commit.isEmpty() && "true".equals(p.getProperty("git.dirty"))) {
            commit += "-dirty";
        }
        return new BuildInfo(version.isEmpty() ? UNKNOWN : version, commit.isEmpty() ? UNKNOWN : commit);
    }
}
