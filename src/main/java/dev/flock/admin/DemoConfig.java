package dev.flock.admin;

import io.vertx.core.json.JsonObject;

/**
  * What the try-it page asks {@code GET /api/demo-config} for.
  *
  * @param apiKeyRequired true when {@code FLOCK_API_KEYS} is set: the page then asks the user for a key
  * @param tokenRequired  true when {@code FLOCK_AUTH=required}: the page cannot mint a token, and says so
  * @param instanceCount  instances in the fleet, or null when unknown (the page hides it)
  */
public record DemoConfig(boolean apiKeyRequired, boolean tokenRequired, Integer instanceCount) {

    public JsonObject toJson() {
        JsonObject json = new JsonObject().put("apiKeyRequired", apiKeyRequired).put("tokenRequired", tokenRequired);
        if (instanceCount != null) {
            json.put("instanceCount", instanceCount);
        }
        return json;
    }
}
