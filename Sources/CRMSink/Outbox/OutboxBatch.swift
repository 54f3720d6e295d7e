import Foundation

/// A call the bridge holds while it waits for something outside AMI: its ViciDial row, or its
/// agent's disposition. Held calls live in the outbox's database, written in the same transaction
/// as the webhooks that precede them, so a restart (SIGTERM, SIGKILL, a reboot) resumes every wait.
///
/// The outbox does not read `payload`: the bridge stores the call as it needs it back.
public struct HeldCall: Sendable, Hashable {
    /// What the call waits for; one call may be held once per kind.
    public struct Kind: RawRepresentable, Sendable, Hashable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
    }

    public var kind: Kind
    /// The call's key (`server/linkedid`).
    public var callKey: String
    public var payload: [UInt8]
    /// When the wait ends (seconds since 1970).
    public var deadline: Double

    public init(kind: Kind, callKey: String, payload: [UInt8], deadline: Double) {
        self.kind = kind
        self.callKey = callKey
        self.payload = payload
        self.deadline = deadline
    }

    public var id: ID { ID(kind: kind, callKey: callKey) }

    public struct ID: Sendable, Hashable {
        public var kind: Kind
        public var callKey: String
        public init(kind: Kind, callKey: String) {
            self.kind = kind
            self.callKey = callKey
        }
    }
}

/// What one outbox transaction writes: webhooks to deliver, calls to hold, calls no longer held.
/// Committing them together is what makes a call's progress exactly-once across a crash: the
/// `call_complete` of a call and the end of its row wait are on disk together or not at all.
public struct OutboxBatch: Sendable {
    public var deliveries: [OutboxNewDelivery]
    /// Events for the event log (NATS JetStream), when one is configured.
    public var publications: [OutboxNewPublication] = []
    /// Held calls to write (replacing one of the same kind and key).
    public var holds: [HeldCall]
    /// Held calls to delete.
    public var releases: [HeldCall.ID]

    public init(deliveries: [OutboxNewDelivery] = [], holds: [HeldCall] = [], releases: [HeldCall.ID] = []) {
        self.deliveries = deliveries
        self.holds = holds
        self.releases = releases
    }

    public init(deliveries: [OutboxNewDelivery], publications: [OutboxNewPublication], holds: [HeldCall] = [], releases: [HeldCall.ID] = []) {
        self.init(deliveries: deliveries, holds: holds, releases: releases)
        self.publications = publications
    }

    public var isEmpty: Bool { deliveries.isEmpty && publications.isEmpty && holds.isEmpty && releases.isEmpty }

    public mutating func append(_ other: OutboxBatch) {
        deliveries += other.deliveries
        publications += other.publications
        holds += other.holds
        releases += other.releases
    }
}
