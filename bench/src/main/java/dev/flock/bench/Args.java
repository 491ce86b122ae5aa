package dev.flock.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Minimal "--name value" / "--flag" parser: unknown options stop the program with exit status 2. */
final class Args {
    private final List<String> rest;

    Args(String[] args) {
        this.rest = new ArrayList<>(Arrays.asList(args));
    }

    /** Removes and returns the first bare word (the mode), or null. */
    String positional() {
        if (!rest.isEmpty() && !rest.get(0).startsWith("--")) {
            return rest.remove(0);
        }
        return null;
    }

    boolean flag(String name) {
        return rest.remove(name);
    }

    String opt(String name, String fallback) {
        int i = rest.indexOf(name);
        if (i < 0) {
            return fallback;
        }
        if (i + 1 >= rest.size()) {
            throw fail(name + " needs a value");
        }
        String value = rest.remove(i + 1);
        rest.remove(i);
        return value;
    }

    int intOpt(String name, int fallback) {
        String v = opt(name, null);
        try {
            return v == null ? fallback : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw fail(name + ": not an integer: " + v);
        }
    }

    double doubleOpt(String name, double fallback) {
        String v = opt(name, null);
        try {
            return v == null ? fallback : Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw fail(name + ": not a number: " + v);
        }
    }

    void rejectUnknown() {
        if (!rest.isEmpty()) {
            throw fail("unknown arguments: " + rest);
        }
    }

    static UsageError fail(String message) {
        return new UsageError(message);
    }

    /** A bad command line: main prints the message and exits 2. */
    static final class UsageError extends RuntimeException {
        UsageError(String message) {
            super(message, null, false, false);
        }
    }
}
