package dev.flock.cli;

import dev.flock.config.Setting;
import dev.flock.config.Settings;

import java.util.List;

/** The settings part of {@code --help}, generated from {@link Settings#ALL} so it can never drift from the table. */
final class SettingsHelp {

    private static final int WIDTH = 100;
    private static final String INDENT = "      ";

    private SettingsHelp() {
    }

    static String text() {
        StringBuilder b = new StringBuilder();
        b.append("\nSettings: environment variable (JSON key in the --conf file), type and default, meaning.\n")
                .append("Precedence: default < --conf file < environment; an empty variable counts as unset.\n")
                .append("Secrets are best set in the environment (or the platform's secret store), not in the file.\n\n");
        for (Setting s : Settings.ALL) {
            b.append("  ").append(s.env()).append(" (").append(s.key()).append(")  ").append(type(s))
                    .append(", default ").append(defaultText(s)).append('\n');
            wrap(b, s.meaning());
        }
        b.append("\nExit codes: 0 stopped cleanly (or --help, --version, a valid --check-config);\n"
                + "1 start-up failed; 2 bad argument or invalid configuration.\n");
        return b.toString();
    }

    private static String type(Setting s) {
        return switch (s.kind()) {
            case INT -> "integer " + s.min() + ".." + s.max();
            case BOOL -> "true|false";
            case STRING -> "text";
            case SECRET -> "secret";
            case CHOICE -> String.join("|", s.choices());
            case LIST -> "list (comma-separated; a JSON array in the file)";
        };
    }

    static String defaultText(Setting s) {
        Object d = s.defaultValue();
        if (d == null || d instanceof List<?> l && l.isEmpty()) {
            return "unset";
        }
        return String.valueOf(d);
    }

    private static void wrap(StringBuilder b, String text) {
        StringBuilder line = new StringBuilder(INDENT);
        for (String word : text.split(" ")) {
            if (line.length() > INDENT.length() && line.length() + 1 + word.length() > WIDTH) {
                b.append(line).append('\n');
                line = new StringBuilder(INDENT);
            }
            if (line.length() > INDENT.length()) {
                line.append(' ');
            }
            line.append(word);
        }
        b.append(line).append('\n');
    }
}
