package dev.flock.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.HdrHistogram.Histogram;

import java.util.LinkedHashMap;
import java.util.Map;

/** Collects figures in order, prints them as aligned text lines, then as one "RESULT {json}" line. */
final class Report {
    private final Map<String, Object> figures = new LinkedHashMap<>();
    private final StringBuilder text = new StringBuilder();

    Report put(String key, Object value) {
        // NaN (e.g. a ratio with nothing expected) is not JSON: it becomes null.
        figures.put(key, value instanceof Double d ? (d.isNaN() || d.isInfinite() ? null : round(d)) : value);
        return this;
    }

    Report line(String format, Object... args) {
        text.append(String.format(format, args)).append('\n');
        return this;
    }

    /** p50/p90/p99/p99.9/max of a µs histogram, in ms, under keys prefix + "P50Ms" etc. */
    Report latency(String prefix, Histogram h) {
        put(prefix + "Count", h.getTotalCount());
        put(prefix + "P50Ms", ms(h.getValueAtPercentile(50)));
        put(prefix + "P90Ms", ms(h.getValueAtPercentile(90)));
        put(prefix + "P99Ms", ms(h.getValueAtPercentile(99)));
        put(prefix + "P999Ms", ms(h.getValueAtPercentile(99.9)));
        put(prefix + "MaxMs", ms(h.getMaxValue()));
        return line("%-22s p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f ms  (n=%d)", prefix + " latency",
            ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(90)), ms(h.getValueAtPercentile(99)),
            ms(h.getValueAtPercentile(99.9)), ms(h.getMaxValue()), h.getTotalCount());
    }

    void print() {
        System.out.print(text);
        try {
            System.out.println("RESULT " + new ObjectMapper().writeValueAsString(figures));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        System.out.flush();
    }

    static double ms(long micros) {
        return micros / 1000.0;
    }

    static double mb(long bytes) {
        return bytes / 1048576.0;
    }

    private static double round(double d) {
        return Math.round(d * 1000.0) / 1000.0;
    }
}
