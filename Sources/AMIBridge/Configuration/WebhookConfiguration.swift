import CRMSink

/// The webhook side of the configuration: where the outbox lives and the endpoints it delivers to
/// (see the `state_dir` and `webhooks` keys of `Config/amibridge.example.yaml`).
struct WebhookConfiguration: Sendable {
    /// Holds `outbox.sqlite3`. Default `/var/lib/amibridge`.
    var stateDirectory: String
    var endpoints: [WebhookEndpoint.Configuration]
    var dispatcher: WebhookDispatcher.Configuration
}
