package dev.flock.transport;

import io.vertx.core.Future;

/**
 * A listener that could not be opened, named by host and port: Netty's own message ("bind(..) failed: Address
 * already in use") says neither, and with the metrics on a port of their own an operator cannot tell which one is
 * taken. Start-up reports it as {@code flock: start-up failed: cannot listen on 0.0.0.0:8787: Address already in use}.
 */
public final class CannotListen extends Exception {

    public CannotListen(String host, int port, Throwable cause) {
        super("cannot listen on " + host + ":" + port + ": " + why(cause), cause);
    }

    /** {@code listening}, with a failure replaced by one that names {@code host} and {@code port}. */
    public static <T> Future<T> naming(String host, int port, Future<T> listening) {
        return listening.recover(e -> Future.failedFuture(new CannotListen(host, port, e)));
    }

    /**
     * The operating system's words without what Netty's native transport puts before them ({@code bind(..) failed with
     * error(-98): Address already in use}); NIO's {@code BindException} says only the words.
     */
    static String why(Throwable cause) {
        String message = cause.getMessage();
        if (message == null || message.isBlank()) {
            return cause.getClass().getSimpleName();
        }
        return message.replaceFirst("^[A-Za-z_]+\\(\\.\\.\\) failed( with error\\(-?\\d+\\))?: ", "");
    }
}
