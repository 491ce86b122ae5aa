package dev.flock.admin;

import io.vertx.core.json.JsonObject;

/**
  * What the try-it page asks {@code GET /api/demo-config} for.
  *
  * @param apiKeyRequired true when {@code FLOCK_API_KEYS} is set: the page then asks the user for a key
  * @param instanceCount  instances in the fleet, or null when unknown (the page hides it)
  */
public record DemoConfig(boolean apiKeyRequired, Integer instanceCount) {

    public JsonObject toJson() {
        JsonObject json = new JsonObject().put("apiKeyRequired", apiKeyRequired);
        if (instanceCount != null) {
            json.put("instanceCount", instanceCount);
        }
        return json;
    }
}
