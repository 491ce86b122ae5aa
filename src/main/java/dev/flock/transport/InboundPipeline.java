package dev.flock.transport;

import dev.flock.internals.VertxInternals;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.vertx.core.http.ServerWebSocket;

import java.nio.charset.StandardCharsets;
import java.util.function.LongSupplier;

/**
 * Puts Flock's inbound checks into a socket's Netty pipeline: {@link WireGuard} in front of the frame decoder (sizes
 * and stalls, on the headers), then Netty's UTF-8 validator and {@link FrameChecks} in front of Vert.x.
 */
final class InboundPipeline {

    private static final String UTF8 = "flock-utf8";

    private InboundPipeline() {
    }

    /** The wire guard installed, or null for a socket whose pipeline we cannot see into (see {@link #tooLarge}). */
    static WireGuard install(ServerWebSocket ws, int maxMessageBytes, LongSupplier monotonicMillis, FrameChecks.Policy policy) {
        WireGuard guard = new WireGuard(maxMessageBytes, monotonicMillis, policy::fail);
        if (!VertxInternals.addBeforeFrameDecoder(ws, WireGuard.NAME, guard)) {
            return null;
        }
        VertxInternals.addBeforeVertx(ws, UTF8, new Utf8FrameValidator(false));
        VertxInternals.addBeforeVertx(ws, FrameChecks.NAME, new FrameChecks(maxMessageBytes, policy));
        return guard;
    }

    /** Without the guards (an unknown socket wrapper): the size check on the message Vert.x assembled. */
    static boolean tooLarge(String text, int maxBytes) {
        if (text.length() > maxBytes) {
            return true;
        }
        return text.length() * 3L > maxBytes && text.getBytes(StandardCharsets.UTF_8).length > maxBytes;
    }
}
