package dev.flock.protocol;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Ids must be Unicode text: a JSON escape can spell a lone surrogate (which UTF-8, and so every Redis key, turns
 * into {@code ?}) or a noncharacter. The ids below are JSON text, escapes as the client would send them.
 */
class ProtocolCodecIdsTest {

    private final ProtocolCodec codec = new ProtocolCodec(Limits.DEFAULT);

    private static String join(String roomIdJson, String userIdJson) {
        return "{\"type\":\"join\",\"roomId\":\"" + roomIdJson + "\",\"userId\":\"" + userIdJson + "\",\"metadata\":{}}";
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "lone high surrogate at the end      | team\\uD800             | lone surrogate",
            "lone high surrogate in the middle   | te\\uD800am             | lone surrogate",
            "lone low surrogate                  | team\\uDC00             | lone surrogate",
            "low before high (a reversed pair)   | \\uDC00\\uD800          | lone surrogate",
            "two high surrogates                 | \\uD800\\uD800\\uDC00   | lone surrogate",
            "first of the U+FDD0 block           | team\\uFDD0             | noncharacter U+FDD0",
            "last of the U+FDD0 block            | team\\uFDEF             | noncharacter U+FDEF",
            "U+FFFE                              | team\\uFFFE             | noncharacter U+FFFE",
            "U+FFFF                              | team\\uFFFF             | noncharacter U+FFFF",
            "U+1FFFE (plane 1)                   | team\\uD83F\\uDFFE      | noncharacter U+1FFFE",
            "U+1FFFF (plane 1)                   | team\\uD83F\\uDFFF      | noncharacter U+1FFFF",
            "U+10FFFF (the last code point)      | team\\uDBFF\\uDFFF      | noncharacter U+10FFFF",
            "U+FFFE as raw UTF-8, not an escape  | team\uFFFE               | noncharacter U+FFFE",
    })
    void roomIdThatIsNotUnicodeText_isInvalid_withNoRoomId(String name, String roomId, String mentions) {
        assertThatThrownBy(() -> codec.decode(join(roomId, "alice")))
                .isInstanceOfSatisfying(InvalidMessage.class, e -> {
                    assertThat(e.getMessage()).contains("roomId", mentions);
                    assertThat(e.roomId()).as("an invalid roomId is not echoed").isNull();
                });
    }

    @ParameterizedTest
    @ValueSource(strings = {"alice\\uD800", "\\uDFFF", "alice\\uFDD5", "alice\\uDBFF\\uDFFE"})
    void userIdThatIsNotUnicodeText_isInvalid_forItsRoom(String userId) {
        assertThatThrownBy(() -> codec.decode(join("team", userId)))
                .isInstanceOfSatisfying(InvalidMessage.class, e -> {
                    assertThat(e.getMessage()).contains("userId", "not valid Unicode");
                    assertThat(e.roomId()).isEqualTo("team");
                });
    }

    @Test
    void everyMessageWithARoomIdChecksIt() {
        for (String message : new String[]{
                "{\"type\":\"heartbeat\",\"roomId\":\"team\\uD800\"}",
                "{\"type\":\"leave\",\"roomId\":\"team\\uD800\"}",
                "{\"type\":\"cursor:leave\",\"roomId\":\"team\\uFFFF\"}",
                "{\"type\":\"cursor:move\",\"roomId\":\"team\\uD800\",\"position\":{\"x\":1,\"y\":2}}",
                "{\"type\":\"presence:update\",\"roomId\":\"team\\uFDD0\",\"metadata\":{}}"}) {
            assertThatThrownBy(() -> codec.decode(message)).as(message).isInstanceOf(InvalidMessage.class)
                    .hasMessageContaining("not valid Unicode");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "a surrogate pair (U+1F600)           | team\\uD83D\\uDE00   | team\uD83D\uDE00",
            "just below the U+FDD0 block          | team\\uFDCF           | team\uFDCF",
            "just above it                        | team\\uFDF0           | team\uFDF0",
            "the replacement character U+FFFD     | team\\uFFFD           | team\uFFFD",
            "U+10FFFD (private use, not reserved) | \\uDBFF\\uDFFD        | \uDBFF\uDFFD",
            "non-ASCII text                       | équipe-東京            | équipe-東京",
    })
    void unicodeText_isAnId(String name, String roomIdJson, String expected) throws InvalidMessage {
        ClientMessage.Join join = (ClientMessage.Join) codec.decode(join(roomIdJson, roomIdJson));
        assertThat(join.roomId()).isEqualTo(expected);
        assertThat(join.userId()).isEqualTo(expected);
    }
}
