import Foundation

/// Where a delivery stands. Delivered rows are deleted: the outbox holds only what is still owed
/// and the dead letters.
public enum OutboxDeliveryState: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Never attempted (or re-driven by `amibridge outbox retry`).
    case pending = 0
    /// Claimed by a worker; reset to pending when the process starts again after a crash.
    case inFlight = 1
    /// Failed, and waits for its next attempt.
    case waitingToRetry = 2
    /// Given up on: a permanent failure, or too many attempts, or too old.
    case dead = 3

    public var description: String {
        switch self {
        case .pending: "pending"
        case .inFlight: "in_flight"
        case .waitingToRetry: "waiting_to_retry"
        case .dead: "dead"
        }
    }

    public init?(name: String) {
        guard let state = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = state
    }
}

/// One event for one endpoint, ready to be written to the outbox.
public struct OutboxNewDelivery: Sendable {
    public var eventID: UUID
    public var event: WebhookEvent.Name
    public var endpoint: String
    public var callKey: String
    /// For `vicidial-template` endpoints, the rendered URL (fetched with GET); nil for JSON, which
    /// is POSTed to the endpoint's configured URL.
    public var requestURL: String?
    /// The JSON body (empty for templates).
    public var body: [UInt8]

    public init(eventID: UUID, event: WebhookEvent.Name, endpoint: String, callKey: String, requestURL: String?, body: [UInt8]) {
        self.eventID = eventID
        self.event = event
        self.endpoint = endpoint
        self.callKey = callKey
        self.requestURL = requestURL
        self.body = body
    }

    /// The deliveries of `event`: one per endpoint that takes it, each in that endpoint's format.
    public static func deliveries(of event: WebhookEvent, to endpoints: [WebhookEndpoint.Configuration]) -> [OutboxNewDelivery] {
        var body: [UInt8]?
        return endpoints.filter { $0.accepts(event) }.map { endpoint in
            switch endpoint.format {
            case .json:
                if body == nil { body = event.jsonBody() }
                return OutboxNewDelivery(
                    eventID: event.eventID, event: event.name, endpoint: endpoint.name, callKey: event.callKey, requestURL: nil, body: body!
                )
            case .vicidialTemplate:
                let url = ViciDialURLTemplate(endpoint.url).url(for: event)
                return OutboxNewDelivery(
                    eventID: event.eventID, event: event.name, endpoint: endpoint.name, callKey: event.callKey, requestURL: url, body: []
                )
            }
        }
    }
}

/// A delivery claimed for an attempt.
public struct OutboxDelivery: Sendable {
    /// The row id: enqueue order.
    public var id: Int64
    public var eventID: UUID
    public var event: String
    public var endpoint: String
    public var callKey: String
    public var requestURL: String?
    public var body: [UInt8]
    /// Including the one about to be made.
    public var attempts: Int
    /// When the event entered the outbox (or was re-driven), for the max age.
    public var createdAt: Date

    public init(
        id: Int64, eventID: UUID, event: String, endpoint: String, callKey: String, requestURL: String?, body: [UInt8], attempts: Int,
        createdAt: Date
    ) {
        self.id = id
        self.eventID = eventID
        self.event = event
        self.endpoint = endpoint
        self.callKey = callKey
        self.requestURL = requestURL
        self.body = body
        self.attempts = attempts
        self.createdAt = createdAt
    }
}

/// What became of an attempt, to be written back.
public enum OutboxOutcome: Sendable, Equatable {
    case delivered(id: Int64)
    case retry(id: Int64, at: Date, status: Int?, error: String)
    case dead(id: Int64, status: Int?, error: String)
    /// Claimed but never attempted (shutdown came first): pending again, the attempt not counted.
    case released(id: Int64)
}

/// A row as `amibridge outbox list` shows it (without its body).
public struct OutboxEntry: Sendable {
    public var id: Int64
    public var eventID: UUID
    public var event: String
    public var endpoint: String
    public var callKey: String
    public var state: OutboxDeliveryState
    public var attempts: Int
    public var createdAt: Date
    public var nextAttemptAt: Date
    public var lastStatus: Int?
    public var lastError: String?
}

/// Which rows `retry`, `purge` and `list` act on.
public struct OutboxSelection: Sendable {
    public var states: Set<OutboxDeliveryState>
    /// nil: every endpoint.
    public var endpoint: String?
    /// Empty: every row in the states.
    public var ids: [Int64]

    public init(states: Set<OutboxDeliveryState>, endpoint: String? = nil, ids: [Int64] = []) {
        self.states = states
        self.endpoint = endpoint
        self.ids = ids
    }
}
