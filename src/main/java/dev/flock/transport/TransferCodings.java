package dev.flock.transport;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Whether a request's {@code Transfer-Encoding} frames its body in a way this server reads the same as any proxy in
 * front of it. RFC 9112 §6.3: when chunked is not the final coding the body's length cannot be known, and the server
 * MUST answer 400 and close the connection; §6.1: a coding the server does not implement (only chunked is) SHOULD
 * be 501. Netty 4.2.17 already answers 400 when chunked is present but not last, for a Transfer-Encoding in an
 * HTTP/1.0 request, and for chunked beside a Content-Length; a Transfer-Encoding without chunked ({@code gzip},
 * {@code identity}) it accepts, framing the body by its Content-Length or as empty, so whatever follows is read as
 * the next request while a proxy may read it as this one's body: request smuggling.
 */
final class TransferCodings {

    static final int ACCEPTABLE = 0;
    private static final String CHUNKED = "chunked";

    private TransferCodings() {
    }

    /** {@link #ACCEPTABLE}, or the status to refuse the request with (400 or 501). */
    static int refusal(MultiMap headers) {
        List<String> values = headers.getAll(HttpHeaders.TRANSFER_ENCODING);
        if (values.isEmpty()) {
            return ACCEPTABLE;
        }
        List<String> codings = codings(values);
        if (codings.isEmpty() || !codings.get(codings.size() - 1).equals(CHUNKED)
                || codings.indexOf(CHUNKED) != codings.size() - 1) {
            return 400; // no final chunked, or chunked twice: the length of the body is not known
        }
        return codings.size() == 1 ? ACCEPTABLE : 501; // chunked over another coding we do not decode
    }

    /** The coding names of every Transfer-Encoding line, in order, lower case, without parameters. */
    private static List<String> codings(List<String> values) {
        List<String> codings = new ArrayList<>();
        for (String value : values) {
            for (String element : value.split(",")) {
                int parameters = element.indexOf(';');
                String name = (parameters < 0 ? element : element.substring(0, parameters)).trim();
                if (!name.isEmpty()) { // RFC 9110 §5.6.1: empty list elements do not count
                    codings.add(name.toLowerCase(Locale.ROOT));
                }
            }
        }
        return codings;
    }
}
