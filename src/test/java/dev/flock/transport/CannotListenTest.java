package dev.flock.transport;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.BindException;

import static org.assertj.core.api.Assertions.assertThat;

/** The words of a bind failure, from either transport, after the host and port (the jar as a process: JarProcessIT). */
class CannotListenTest {

    @Test
    void nettyNativeAndNioMessages_giveTheOperatingSystemsWords() {
        assertThat(new CannotListen("0.0.0.0", 8787, new IOException("bind(..) failed with error(-98): Address already in use"))
                .getMessage()).isEqualTo("cannot listen on 0.0.0.0:8787: Address already in use");
        assertThat(new CannotListen("0.0.0.0", 8787, new IOException("bind(..) failed: Address already in use"))
                .getMessage()).isEqualTo("cannot listen on 0.0.0.0:8787: Address already in use");
        assertThat(new CannotListen("10.1.2.3", 80, new BindException("Cannot assign requested address"))
                .getMessage()).isEqualTo("cannot listen on 10.1.2.3:80: Cannot assign requested address");
        assertThat(new CannotListen("h", 1, new IOException()).getMessage()).isEqualTo("cannot listen on h:1: IOException");
    }
}
