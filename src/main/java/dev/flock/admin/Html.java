package dev.flock.admin;

import java.util.regex.Pattern;

/** Escaping for HTML text and double-quoted attributes, and colour validation for CSS. */
final class Html {

    private static final Pattern COLOR = Pattern.compile("^#[0-9a-fA-F]{6}$");

    private Html() {
    }

    static String escape(String value) {
        if (value == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(value.length() + 16);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    /** The value when it is a {@code #rrggbb} colour, else null; nothing else ever reaches CSS. */
    static String validColor(Object value) {
        return value instanceof String s && COLOR.matcher(s).matches() ? s : null;
    }
}
