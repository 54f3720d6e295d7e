import CRMSink
import EventLog

/// The `nats:` section: the durable event log on NATS JetStream. Off unless `nats.urls` names a
/// server. When on, every event is also stored for publishing (in the outbox's transaction) and
/// published to `stream` under `<subject_prefix>.<server>.<event>`, with `Nats-Msg-Id` = its
/// `event_id`; see ``EventLogStage``.
struct NATSConfiguration: Sendable, Equatable {
    var connection: JetStreamConnection.Configuration
    var stream: JetStreamConnection.StreamConfiguration
    var route: EventLogRoute
    /// How long one publish waits for the stream's ack before it counts as failed (and is retried). Default 5 s.
    var publishTimeout: Duration = .seconds(5)
    /// 1: one publish at a time, each waiting for its ack (the stream keeps the outbox's order
    /// exactly). More: that many publishes in flight at once (several times the rate); after a
    /// failure, events behind the failed one may already be stored before it. Default 1.
    var publishWindow = 1
    /// Between failed publishes, doubling from `retryInitial` to `retryMax`. Defaults 200 ms and 10 s.
    var retryInitial: Duration = .milliseconds(200)
    var retryMax: Duration = .seconds(10)
    /// Whether the bridge creates the stream when it is missing (or updates it when its settings
    /// differ). Off when the stream is managed elsewhere (`nats stream add`, an operator); then
    /// `amibridge check` only reports a difference. Default true.
    var manageStream = true
    /// How `amibridge deliver` reads the stream: lanes per endpoint, ack wait, max ack pending.
    var deliver = EventLogDeliverer.Configuration()
}
