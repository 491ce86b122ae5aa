package dev.flock.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.http.HttpClientConfig;
import io.vertx.core.http.HttpServerConfig;
import io.vertx.core.json.JsonObject;
import io.vertx.core.metrics.MetricsOptions;
import io.vertx.core.net.QuicEndpointConfig;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.TcpClientConfig;
import io.vertx.core.net.TcpServerConfig;
import io.vertx.core.spi.VertxMetricsFactory;
import io.vertx.core.spi.metrics.ClientMetrics;
import io.vertx.core.spi.metrics.DatagramSocketMetrics;
import io.vertx.core.spi.metrics.EventBusMetrics;
import io.vertx.core.spi.metrics.HttpClientMetrics;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.metrics.PoolMetrics;
import io.vertx.core.spi.metrics.TransportMetrics;
import io.vertx.core.spi.metrics.VertxMetrics;
import io.vertx.micrometer.MicrometerMetricsFactory;

/**
 * Vert.x's own meters (HTTP, event bus, pools) into a Micrometer registry, as Flock wants them on a port anyone can
 * reach: HTTP method labels from a fixed set ({@link HttpMethodTags}) and no request left "active" by a client that
 * gave up ({@link AbandonedRequests}). For {@code Vertx.builder().withMetrics(...)}; make it before meters are
 * bound to the registry, since its filter applies to meters registered after it.
 */
public final class VertxMeters implements VertxMetricsFactory {

    private final MicrometerMetricsFactory micrometer;

    public VertxMeters(MeterRegistry registry) {
        registry.config().meterFilter(new HttpMethodTags());
        this.micrometer = new MicrometerMetricsFactory(registry);
    }

    @Override
    public VertxMetrics metrics(VertxOptions options) {
        return new Repaired(micrometer.metrics(options));
    }

    @Override
    public MetricsOptions newOptions() {
        return micrometer.newOptions();
    }

    @Override
    public MetricsOptions newOptions(MetricsOptions options) {
        return micrometer.newOptions(options);
    }

    @Override
    public MetricsOptions newOptions(JsonObject json) {
        return micrometer.newOptions(json);
    }

    /** Vert.x Micrometer's metrics, every one passed through, the HTTP server's wrapped. */
    private record Repaired(VertxMetrics delegate) implements VertxMetrics {

        @Override
        public HttpServerMetrics<?, ?> createHttpServerMetrics(HttpServerConfig config, SocketAddress tcpLocalAddress,
                                                               SocketAddress udpLocalAddress) {
            HttpServerMetrics<?, ?> http = delegate.createHttpServerMetrics(config, tcpLocalAddress, udpLocalAddress);
            return http == null ? null : new AbandonedRequests(http);
        }

        @Override
        public EventBusMetrics<?> createEventBusMetrics() {
            return delegate.createEventBusMetrics();
        }

        @Override
        public ClientMetrics<?, ?, ?> createClientMetrics(SocketAddress remoteAddress, String type, String namespace) {
            return delegate.createClientMetrics(remoteAddress, type, namespace);
        }

        @Override
        public HttpClientMetrics<?, ?> createHttpClientMetrics(HttpClientConfig config) {
            return delegate.createHttpClientMetrics(config);
        }

        @Override
        public TransportMetrics<?> createTcpServerMetrics(TcpServerConfig config, String protocol, SocketAddress localAddress) {
            return delegate.createTcpServerMetrics(config, protocol, localAddress);
        }

        @Override
        public TransportMetrics<?> createTcpClientMetrics(TcpClientConfig config, String protocol) {
            return delegate.createTcpClientMetrics(config, protocol);
        }

        @Override
        public TransportMetrics<?> createQuicEndpointMetrics(QuicEndpointConfig config, String protocol,
                                                             SocketAddress localAddress) {
            return delegate.createQuicEndpointMetrics(config, protocol, localAddress);
        }

        @Override
        public DatagramSocketMetrics createDatagramSocketMetrics(DatagramSocketOptions options) {
            return delegate.createDatagramSocketMetrics(options);
        }

        @Override
        public PoolMetrics<?, ?> createPoolMetrics(String type, String name, int maxSize) {
            return delegate.createPoolMetrics(type, name, maxSize);
        }

        @Override
        public void vertxCreated(Vertx vertx) {
            delegate.vertxCreated(vertx);
        }

        @Override
        public boolean isMetricsEnabled() {
            return delegate.isMetricsEnabled();
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
