package dev.flock.config;

/** A configuration problem; its message is the one line printed before exiting. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message, null, false, false);
    }
}
