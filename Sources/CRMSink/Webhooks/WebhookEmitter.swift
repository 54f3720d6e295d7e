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

    /// For config reload: events emitted from now on are routed with `endpoints`.
    public func updateEndpoints(_ endpoints: [WebhookEndpoint.Configuration]) {
        self.endpoints.withLockedValue { $0 = endpoints }
    }

    /// Writes the event's deliveries (group commit with concurrent callers). An event no endpoint
    /// takes writes nothing.
    public func emit(_ event: WebhookEvent) async throws {
        try await self.outbox.enqueue(self.deliveries(of: [event]))
    }

    /// Writes many events in one transaction, blocking the caller until they are on disk.
    public func emitBlocking(_ events: [WebhookEvent]) throws {
        try self.outbox.enqueueBlocking(self.deliveries(of: events))
    }

    /// The deliveries of `events` to the endpoints that take them, for an ``OutboxBatch`` that
    /// also holds or releases calls.
    public func deliveries(of events: [WebhookEvent]) -> [OutboxNewDelivery] {
        let endpoints = self.endpoints.withLockedValue { $0 }
        return events.flatMap { OutboxNewDelivery.deliveries(of: $0, to: endpoints) }
    }
}
