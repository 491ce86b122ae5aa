package dev.flock.protocol;

/**
 * Whether a Java string is Unicode text. A JSON escape can spell what UTF-8 cannot: a lone surrogate (the escape of
 * U+D800 with no low surrogate after it) becomes {@code ?} when the string is encoded to UTF-8, so room "team"
 * followed by one and room {@code "team?"} would name the same Redis keys. Noncharacters are refused too: they are
 * valid UTF-8 but reserved for a program's internal use, and no client has a reason to put one in an id.
 */
public final class ValidUnicode {

    private ValidUnicode() {
    }

    /** Null when {@code s} is valid Unicode text, else what is wrong with it, e.g. "a lone surrogate". */
    public static String problem(String s) {
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            // codePointAt returns a surrogate's own value unless it starts a well-formed pair
            if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) {
                return "a lone surrogate";
            }
            if (isNoncharacter(cp)) {
                return String.format("the noncharacter U+%04X", cp);
            }
            i += Character.charCount(cp);
        }
        return null;
    }

    /** U+FDD0..U+FDEF, and the last two code points of every plane (U+FFFE, U+FFFF, U+1FFFE, ... U+10FFFF). */
    static boolean isNoncharacter(int cp) {
        return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
    }
}
