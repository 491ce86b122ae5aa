package dev.flock.api;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * A small JSON Schema check, enough for the server API's OpenAPI document: $ref (local), type (one or a list),
 * required, properties, items, enum, const. Answers the problems found (empty = valid).
 */
final class SchemaCheck {

    private final JsonNode document;

    SchemaCheck(JsonNode document) {
        this.document = document;
    }

    JsonNode resolve(JsonNode node) {
        int hops = 0;
        while (node != null && node.has("$ref")) {
            String ref = node.get("$ref").asText();
            if (!ref.startsWith("#/")) {
                throw new AssertionError("only local $ref supported: " + ref);
            }
            node = document.at(ref.substring(1));
            if (node.isMissingNode()) {
                throw new AssertionError("dangling $ref " + ref);
            }
            if (++hops > 20) {
                throw new AssertionError("$ref loop at " + ref);
            }
        }
        return node;
    }

    List<String> problems(JsonNode schema, JsonNode value) {
        List<String> out = new ArrayList<>();
        check(resolve(schema), value, "$", out);
        return out;
    }

    private void check(JsonNode schema, JsonNode value, String where, List<String> out) {
        schema = resolve(schema);
        JsonNode type = schema.get("type");
        if (type != null) {
            boolean ok = false;
            if (type.isArray()) {
                for (JsonNode t : type) {
                    ok |= hasType(value, t.asText());
                }
            } else {
                ok = hasType(value, type.asText());
            }
            if (!ok) {
                out.add(where + ": expected type " + type + " but was " + value.getNodeType() + " " + value);
                return;
            }
        }
        if (schema.has("const") && !schema.get("const").equals(value)) {
            out.add(where + ": expected " + schema.get("const") + " but was " + value);
        }
        if (schema.has("enum")) {
            boolean found = false;
            for (JsonNode e : schema.get("enum")) {
                found |= e.equals(value);
            }
            if (!found) {
                out.add(where + ": " + value + " is not one of " + schema.get("enum"));
            }
        }
        if (value.isObject()) {
            for (JsonNode r : schema.path("required")) {
                if (!value.has(r.asText())) {
                    out.add(where + ": missing required property \"" + r.asText() + "\" in " + value);
                }
            }
            schema.path("properties").fields().forEachRemaining(p -> {
                if (value.has(p.getKey())) {
                    check(p.getValue(), value.get(p.getKey()), where + "." + p.getKey(), out);
                }
            });
        }
        if (value.isArray() && schema.has("items")) {
            for (int i = 0; i < value.size(); i++) {
                check(schema.get("items"), value.get(i), where + "[" + i + "]", out);
            }
        }
    }

    private static boolean hasType(JsonNode v, String type) {
        return switch (type) {
            case "object" -> v.isObject();
            case "array" -> v.isArray();
            case "string" -> v.isTextual();
            case "integer" -> v.isIntegralNumber() || (v.isNumber() && v.asDouble() == Math.rint(v.asDouble()));
            case "number" -> v.isNumber();
            case "boolean" -> v.isBoolean();
            case "null" -> v.isNull();
            default -> throw new AssertionError("unknown type " + type);
        };
    }
}
