package dev.flock.redis;

import dev.flock.protocol.ProtocolCodec;
import dev.flock.protocol.ServerMessage;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The pub/sub envelope: our own echoes, the original server's layout, pass-through bytes and bad payloads. */
class EnvelopeTest {

    private static final String CURSOR = "{\"type\":\"cursor:updated\",\"roomId\":\"r\",\"userId\":\"u\","
            + "\"position\":{\"x\":0.25,\"y\":0.5},\"timestamp\":1700000000000}";

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void ownEchoes_areRecognisedByTheirBytes_othersAreNot() {
        Envelope ours = new Envelope("11111111-1111-1111-1111-111111111111");
        Envelope theirs = new Envelope("22222222-2222-2222-2222-222222222222");
        byte[] message = ProtocolCodec.encode(new ServerMessage.UserLeft("r", "u"));
        assertThat(ours.isOwn(Buffer.buffer(ours.wrap(message)))).isTrue();
        assertThat(ours.isOwn(Buffer.buffer(theirs.wrap(message)))).isFalse();
        assertThat(ours.isOwn(Buffer.buffer("{}"))).isFalse();
    }

    @Test
    void ourCursorUpdate_comesBackWithTheExactBytesPublished() {
        byte[] message = ProtocolCodec.encode(new ServerMessage.CursorUpdated("room:1", "ü", 0.125, 0.75, 42));
        Envelope.Received r = Envelope.unwrap(new Envelope("abc").wrap(message));

        assertThat(r.instanceId()).isEqualTo("abc");
        assertThat(r.roomId()).isEqualTo("room:1");
        assertThat(r.message()).isEqualTo(new ServerMessage.CursorUpdated("room:1", "ü", 0.125, 0.75, 42));
        assertThat(r.encoded()).isEqualTo(message);
    }

    @Test
    void theOriginalLayout_inAnyFieldOrder_withUnknownFields_isRead_andTheMessageSliceKept() {
        String message = CURSOR.substring(0, CURSOR.length() - 1) + ",\"extra\":[1,{\"a\":\"}\"}]}";
        String payload = "{\"message\":" + message + ",\"instanceId\":\"node-1\",\"other\":{\"deep\":[true]}}";
        Envelope.Received r = Envelope.unwrap(utf8(payload));

        assertThat(r.instanceId()).isEqualTo("node-1");
        assertThat(r.message()).isEqualTo(new ServerMessage.CursorUpdated("r", "u", 0.25, 0.5, 1700000000000L));
        assertThat(r.encoded()).isEqualTo(utf8(message));
    }

    @Test
    void aCursorUpdateWithExtraFieldsAndWhitespace_passesThroughAsPublished() {
        String message = "{ \"type\" : \"cursor:updated\", \"roomId\":\"r\", \"userId\":\"u\", \"note\":{\"a\":[1,2]},"
                + " \"position\":{\"y\":2,\"x\":1} }";
        Envelope.Received r = Envelope.unwrap(utf8("{\"instanceId\":\"n\",\"message\":" + message + "}"));

        assertThat(r.encoded()).isEqualTo(utf8(message));
        ServerMessage.CursorUpdated c = (ServerMessage.CursorUpdated) r.message();
        assertThat(c.x()).isEqualTo(1.0);
        assertThat(c.y()).isEqualTo(2.0);
        assertThat(c.timestamp()).isPositive(); // missing: stamped on arrival
    }

    @Test
    void otherEvents_areReadIntoRecords_andEncodedAgain() {
        String joined = "{\"type\":\"user:joined\",\"roomId\":\"r\",\"userId\":\"u\",\"metadata\":{\"name\":\"A\"}}";
        Envelope.Received r = Envelope.unwrap(utf8("{\"instanceId\":\"n\",\"message\":" + joined + "}"));

        assertThat(r.message()).isInstanceOf(ServerMessage.UserJoined.class);
        assertThat(((ServerMessage.UserJoined) r.message()).metadata().get("name").asText()).isEqualTo("A");
        assertThat(r.encoded()).isNull();
        assertThat(Envelope.unwrap(utf8("{\"instanceId\":\"n\",\"message\":{\"type\":\"user:left\",\"roomId\":\"r\","
                + "\"userId\":\"u\"}}")).message()).isEqualTo(new ServerMessage.UserLeft("r", "u"));
    }

    @Test
    void anOversizedCursorUpdate_isNotPassedThrough() {
        String padding = "x".repeat(Envelope.MAX_PASS_THROUGH_BYTES);
        String message = CURSOR.substring(0, CURSOR.length() - 1) + ",\"pad\":\"" + padding + "\"}";
        Envelope.Received r = Envelope.unwrap(utf8("{\"instanceId\":\"n\",\"message\":" + message + "}"));

        assertThat(r.message()).isInstanceOf(ServerMessage.CursorUpdated.class);
        assertThat(r.encoded()).isNull();
    }

    @Test
    void badPayloads_areRefusedWithoutThrowing() {
        assertThat(Envelope.unwrap(utf8("not json"))).isNull();
        assertThat(Envelope.unwrap(utf8("{\"instanceId\":\"n\",\"message\":{\"type\":"))).isNull();
        assertThat(Envelope.unwrap(utf8("[1,2]"))).isNull();
        assertThat(Envelope.unwrap(utf8("{\"instanceId\":\"n\",\"message\":" + "[".repeat(100) + "]".repeat(100) + "}"))).isNull();
        Envelope.Received noMessage = Envelope.unwrap(utf8("{\"instanceId\":\"n\"}"));
        assertThat(noMessage.message()).isNull();
        Envelope.Received badCursor = Envelope.unwrap(utf8("{\"instanceId\":\"n\",\"message\":{\"type\":\"cursor:updated\","
                + "\"roomId\":\"r\",\"userId\":\"u\",\"position\":{\"x\":\"1\",\"y\":2}}}"));
        assertThat(badCursor.message()).isNull();
        assertThat(badCursor.encoded()).isNull();
        Envelope.Received unknown = Envelope.unwrap(utf8("{\"instanceId\":\"n\",\"message\":{\"type\":\"x\",\"roomId\":\"r\","
                + "\"userId\":\"u\"}}"));
        assertThat(unknown.message()).isNull();
    }
}
