package dev.flock.protocol;

/** Input limits the codec enforces. */
public record Limits(int maxIdLength, int maxMetadataBytes) {
    public static final Limits DEFAULT = new Limits(128, 4096);
}
