package dev.flock.cli;

import dev.flock.config.ConfigException;
import dev.flock.config.ConfigLoader;
import dev.flock.config.FlockConfig;
import dev.flock.identity.VerificationKeys;
import dev.flock.ops.BuildInfo;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The command line of {@code java -jar flock-server.jar}: parses the arguments with picocli and either hands back
 * the configuration to start with, or what was asked for ({@code --help}, {@code --version}, {@code --check-config})
 * and the exit code. Anything it does not know is refused with one line and exit code 2: a typo such as
 * {@code --config} must not start a server with the defaults.
 */
public final class FlockCli {

    /** Exit code of a bad argument or an invalid configuration (as for a bad value at start-up). */
    public static final int USAGE = 2;

    /**
     * What {@code Main} does next: start with {@link #config} (logging {@link #warnings} once logging is set up),
     * or exit with {@link #exitCode}.
     */
    public record Launch(FlockConfig config, List<String> warnings, int exitCode) {
        public boolean start() {
            return config != null;
        }

        static Launch exit(int code) {
            return new Launch(null, List.of(), code);
        }
    }

    @Command(name = "java -jar flock-server.jar", sortOptions = false,
            description = "Flock: real-time presence and live-cursor server. Configured by built-in defaults,"
                    + " then the --conf JSON file, then FLOCK_* environment variables (each wins over the one before).")
    static final class Options {
        @Option(names = "--conf", paramLabel = "<file>",
                description = "JSON file of settings (keys below; conf/flock.json lists them all with their defaults)")
        Path conf;

        /** The single-dash spelling the server has always taken (Vert.x launcher style); kept, not advertised. */
        @Option(names = "-conf", paramLabel = "<file>", hidden = true)
        Path legacyConf;

        @Option(names = "--check-config",
                description = "load and check the configuration, print it with secrets masked, and exit: 0 valid, 2 invalid")
        boolean checkConfig;

        @Option(names = {"-h", "--help"}, usageHelp = true, description = "this help, with every setting, and exit")
        boolean help;

        @Option(names = {"-V", "--version"}, versionHelp = true, description = "the version and git commit, and exit")
        boolean version;
    }

    private FlockCli() {
    }

    public static Launch parse(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        Options plain = plainStart(args);
        return plain != null ? launch(plain, env, out, err) : parsed(args, env, out, err);
    }

    /**
     * The start the image and the README run (no argument, or one {@code --conf} file) as picocli would parse it,
     * without picocli: its classes are Java 5 class files, which a CDS archive cannot hold and the JVM verifies the
     * slow way, and its model is built by reflection, ~0.1 s of every start (docs/BENCHMARKS.md, tenth session).
     * Null for anything else, which picocli parses (and refuses, helps, ...) as before.
     */
    static Options plainStart(String[] args) {
        Options options = new Options();
        String file;
        if (args.length == 0) {
            return options;
        } else if (args.length == 1 && args[0].startsWith("--conf=")) {
            file = args[0].substring("--conf=".length());
        } else if (args.length == 2 && (args[0].equals("--conf") || args[0].equals("-conf"))) {
            file = args[1];
        } else {
            return null;
        }
        if (file.isEmpty() || file.startsWith("-")) { // picocli's to judge: a missing value, or an option
            return null;
        }
        try {
            options.conf = Path.of(file);
        } catch (InvalidPathException e) {
            return null;
        }
        return options;
    }

    private static Launch parsed(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        Options options = new Options();
        CommandLine cmd = new CommandLine(options).setExpandAtFiles(false); // "@file" is not an argument file here
        try {
            cmd.parseArgs(args);
        } catch (CommandLine.UnmatchedArgumentException e) {
            err.println("flock: " + unknown(e.getUnmatched().isEmpty() ? "?" : e.getUnmatched().get(0), cmd));
            return Launch.exit(USAGE);
        } catch (CommandLine.MissingParameterException e) {
            err.println("flock: --conf needs a file path (see --help)");
            return Launch.exit(USAGE);
        } catch (CommandLine.OverwrittenOptionException e) {
            err.println("flock: an option is given twice: " + firstLine(e.getMessage()) + " (see --help)");
            return Launch.exit(USAGE);
        } catch (CommandLine.ParameterException e) {
            err.println("flock: " + firstLine(e.getMessage()) + " (see --help)");
            return Launch.exit(USAGE);
        }
        if (options.help) {
            cmd.usage(out, CommandLine.Help.Ansi.OFF);
            out.print(SettingsHelp.text());
            out.flush();
            return Launch.exit(0);
        }
        if (options.version) {
            BuildInfo build = BuildInfo.current();
            out.println("flock-server " + build.version() + " (commit " + build.commit() + ")");
            out.flush();
            return Launch.exit(0);
        }
        return launch(options, env, out, err);
    }

    /** After the arguments: the configuration to start with, or --check-config's output. */
    private static Launch launch(Options options, Map<String, String> env, PrintStream out, PrintStream err) {
        if (options.conf != null && options.legacyConf != null) {
            err.println("flock: --conf is given twice (see --help)");
            return Launch.exit(USAGE);
        }
        Path conf = options.conf != null ? options.conf : options.legacyConf;
        List<String> warnings = ConfigLoader.unknownVariables(env);
        FlockConfig config;
        Map<dev.flock.config.Setting, Object> values;
        JsonObject file;
        try {
            file = conf == null ? new JsonObject() : ConfigLoader.readConfFile(conf);
            values = ConfigLoader.values(file, env);
            config = ConfigLoader.build(values);
            if (options.checkConfig) {
                // found otherwise only once the server starts: a PEM key that is no usable key
                VerificationKeys.check(config.auth());
            }
        } catch (ConfigException e) {
            err.println("flock: invalid configuration: " + e.getMessage());
            return Launch.exit(USAGE);
        }
        if (options.checkConfig) {
            warnings.forEach(w -> err.println("flock: warning: " + w));
            out.print(EffectiveConfig.text(conf, file, env, values));
            out.flush();
            return Launch.exit(0);
        }
        return new Launch(config, warnings, 0);
    }

    /** One line for an argument nobody asked for, with the nearest known option when it looks like a typo of one. */
    private static String unknown(String arg, CommandLine cmd) {
        if (!arg.startsWith("-")) {
            return "unexpected argument '" + arg + "' (see --help)";
        }
        String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
        String near = ConfigLoader.closest(name, List.copyOf(cmd.getCommandSpec().optionsMap().keySet()));
        return "unknown option '" + name + "' (see --help)" + (near == null ? "" : "; did you mean " + near + "?");
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "bad arguments";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }
}
