package dev.flock.room;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.protocol.ProtocolCodec;

import java.util.Iterator;
import java.util.Map;

/** Shallow metadata merge, as the original's object spread: keys are added or replaced, never removed. */
public final class Metadata {

    private Metadata() {
    }

    /** The fields of {@code patch} whose value differs from {@code stored}; empty when nothing changes. */
    public static ObjectNode changes(ObjectNode stored, ObjectNode patch) {
        ObjectNode changed = ProtocolCodec.MAPPER.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().equals(stored.get(e.getKey()))) {
                changed.set(e.getKey(), e.getValue());
            }
        }
        return changed;
    }

    /** {@code stored} with {@code changes} applied, as a new object; {@code stored} is left alone. */
    public static ObjectNode merged(ObjectNode stored, ObjectNode changes) {
        ObjectNode out = stored.deepCopy();
        out.setAll(changes);
        return out;
    }

    public static boolean fits(ObjectNode metadata, int maxBytes) {
        return ProtocolCodec.serializedSize(metadata) <= maxBytes;
    }
}
