package dev.flock.api;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The segments of a server API path, percent-decoded one by one from the raw path (so an id holding {@code /}, sent as
 * {@code %2F}, stays one segment). A segment that is not valid percent-encoded UTF-8 is a 400.
 */
final class PathIds {

    private PathIds() {
    }

    /** The decoded segments of {@code rawPath} after {@code base} ({@code /api/v1}); empty segments are kept. */
    static List<String> segments(String rawPath, String base) {
        String rest = rawPath.length() <= base.length() ? "" : rawPath.substring(base.length() + 1);
        List<String> out = new ArrayList<>();
        if (rest.isEmpty()) {
            return out;
        }
        for (String raw : rest.split("/", -1)) {
            out.add(decode(raw));
        }
        return out;
    }

    static String decode(String raw) {
        if (raw.indexOf('%') < 0) {
            return raw;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        int i = 0;
        while (i < raw.length()) {
            int escape = raw.indexOf('%', i);
            int plainEnd = escape < 0 ? raw.length() : escape;
            byte[] plain = raw.substring(i, plainEnd).getBytes(StandardCharsets.UTF_8);
            bytes.write(plain, 0, plain.length);
            if (escape < 0) {
                break;
            }
            if (escape + 2 >= raw.length()) {
                throw ApiError.badRequest("a path segment has an incomplete percent escape");
            }
            int hi = Character.digit(raw.charAt(escape + 1), 16);
            int lo = Character.digit(raw.charAt(escape + 2), 16);
            if (hi < 0 || lo < 0) {
                throw ApiError.badRequest("a path segment has an invalid percent escape");
            }
            bytes.write(hi * 16 + lo);
            i = escape + 3;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw ApiError.badRequest("a path segment is not percent-encoded UTF-8");
        }
    }
}
