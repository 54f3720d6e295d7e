import Foundation

/// One event to publish to the event log (NATS JetStream), written to the outbox in the same
/// transaction as its webhook deliveries.
///
/// Why a table of its own (`publications`) rather than a pseudo-endpoint row in `deliveries`: the
/// dispatcher claims due deliveries of every endpoint with one query; rows it must skip would be
/// stepped over on every claim while NATS is down (a long outage means many). Publications also
/// need none of a webhook's machinery (signatures, per-endpoint routing, dead letters): the
/// publisher takes them strictly in id order, one after the other, and a row leaves the outbox
/// only when the stream has acknowledged it. So the stream holds each bridge's events in the
/// order the bridge stored them (every call's events in order), and a NATS outage only makes
/// the table longer. Webhooks never wait for it.
public struct OutboxNewPublication: Sendable, Equatable {
    public var eventID: UUID
    /// `<prefix>.<server>.<event>`.
    public var subject: String
    /// The webhook's JSON body.
    public var body: [UInt8]

    public init(eventID: UUID, subject: String, body: [UInt8]) {
        self.eventID = eventID
        self.subject = subject
        self.body = body
    }
}

/// A stored publication, as the publisher reads it.
public struct OutboxPublication: Sendable, Equatable {
    /// The row id: the order of publishing.
    public var id: Int64
    public var eventID: UUID
    public var subject: String
    public var body: [UInt8]
    /// Failed publishes so far.
    public var attempts: Int
    /// When the event entered the outbox.
    public var createdAt: Date
}
