package dev.flock.admin;

/**
 * What the dashboard shows of the webhooks (issue 19): events waiting for delivery (fleet-wide in Redis mode) and the
 * latest delivery failure ("&lt;time&gt; &lt;url&gt;: &lt;what&gt; (attempt n, k events)"), or null when none was recorded.
 */
public record WebhookStatus(long pending, String lastFailure) {
}
