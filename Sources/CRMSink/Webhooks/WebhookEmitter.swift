import NIOConcurrencyHelpers

/// Where the bridge hands over call events: routes each to the endpoints that take it (event
/// name, campaign) and writes the deliveries to the outbox. Once `emit` returns, the event is on
/// disk and will reach every such endpoint, whatever happens to the process.
public final class WebhookEmitter: Sendable {
    private let outbox: Outbox
    private let endpoints: NIOLockedValueBox<[WebhookEndpoint.Configuration]>

    public init(outbox: Outbox, endpoints: [WebhookEndpoint.Configuration]) {
        self.outbox = outbox
        self.endpoints = NIOLockedValueBox(endpoints)
    }

    /// Nil: no event log (the default); else every event is also written for publishing there.
    private let eventLog = NIOLockedValueBox<EventLogRoute?>(nil)

    /// Events emitted from now on are also stored for the event log (NATS JetStream), or no longer (nil).
    public func updateEventLog(_ route: EventLogRoute?) {
        self.eventLog.withLockedValue { $0 = route }
    }

    /// The publications of `events` for the event log; empty without one.
    public func publications(of events: [WebhookEvent]) -> [OutboxNewPublication] {
        guard let route = self.eventLog.withLockedValue({ $0 }) else { return [] }
        return events.compactMap(route.publication(of:))
    }

    /// For config reload: events emitted from now on are routed with `endpoints`.
    public func updateEndpoints(_ endpoints: [WebhookEndpoint.Configuration]) {
        self.endpoints.withLockedValue { $0 = endpoints }
    }

    /// Writes the event's deliveries (group commit with concurrent callers). An event no endpoint
    /// takes writes nothing.
    public func emit(_ event: WebhookEvent) async throws {
        try await self.outbox.commit(OutboxBatch(deliveries: self.deliveries(of: [event]), publications: self.publications(of: [event])))
    }

    /// Writes many events in one transaction, blocking the caller until they are on disk.
    public func emitBlocking(_ events: [WebhookEvent]) throws {
        try self.outbox.commitBlocking(OutboxBatch(deliveries: self.deliveries(of: events), publications: self.publications(of: events)))
    }

    /// The deliveries of `events` to the endpoints that take them, for an ``OutboxBatch`` that
    /// also holds or releases calls.
    public func deliveries(of events: [WebhookEvent]) -> [OutboxNewDelivery] {
        let endpoints = self.endpoints.withLockedValue { $0 }
        return events.flatMap { OutboxNewDelivery.deliveries(of: $0, to: endpoints) }
    }
}
