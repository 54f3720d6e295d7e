/// `GET /status.json`: what the status page shows, as of `generated_at` (schema `Status` in
/// `Docs/openapi.json`). Times are seconds since 1970; lists are bounded (see each).
struct StatusSnapshot: Encodable, Sendable {
    var generatedAt: Double
    /// `log.mask_phone_numbers`: numbers (and digit runs in channel names) are masked here,
    /// before they leave the daemon.
    var phoneNumbersMasked: Bool
    var amiServers: [AMIServer]
    var callsInProgress: CallsInProgress
    var callsWaiting: CallsWaiting
    var endpoints: [Endpoint]
    /// The dispatcher's last attempts, newest first (up to 50).
    var recentDeliveries: [Delivery]
    var deadLetters: DeadLetters
    /// The event log on NATS JetStream; null unless `nats.urls` is set.
    @NullEncoded var eventLog: EventLog?

    /// What the event-log stage says of NATS, and what waits in the outbox to be published.
    struct EventLog: Encodable, Sendable {
        var connected: Bool
        /// The server connected to, when connected.
        @NullEncoded var server: String?
        var stream: String
        /// Since start: publishes acknowledged as stored, as already stored (the other bridge first), failed.
        var published: Int
        var duplicates: Int
        var failures: Int
        /// Events in the outbox not yet acknowledged by the stream.
        var pending: Int
        @NullEncoded var lastPublishedAt: Double?
        /// The last publish's error, null once one succeeds again.
        @NullEncoded var lastError: String?
    }

    struct AMIServer: Encodable, Sendable {
        enum State: String, Encodable, Sendable {
            case loggedIn = "logged_in", connecting, disconnected
        }

        var name: String
        var connected: Bool
        var state: State
        /// Logged in since, or not logged in since.
        var since: Double
        /// Events read per second over the last second or more; null until two readings exist.
        @NullEncoded var eventsPerSecond: Double?
        /// Why the last connection ended, while not logged in.
        @NullEncoded var error: String?
    }

    struct CallsInProgress: Encodable, Sendable {
        var count: Int
        /// The oldest calls first (up to 50).
        var calls: [Call]
    }

    struct Call: Encodable, Sendable {
        var server: String
        var linkedid: String
        @NullEncoded var callID: String?
        var startedAt: Double
        var ageSeconds: Int
        var answered: Bool
        @NullEncoded var agent: String?
        @NullEncoded var phoneNumber: String?
    }

    struct CallsWaiting: Encodable, Sendable {
        var vicidialRow: Int
        var disposition: Int
        /// Nearest deadline first (up to 50).
        var calls: [WaitingCall]
    }

    struct WaitingCall: Encodable, Sendable {
        enum WaitingFor: String, Encodable, Sendable {
            case vicidialRow = "vicidial_row", disposition
        }

        var server: String
        var linkedid: String
        @NullEncoded var callID: String?
        var waitingFor: WaitingFor
        /// Null for a call this process resumed at start.
        @NullEncoded var since: Double?
        var deadline: Double
        @NullEncoded var agent: String?
        @NullEncoded var phoneNumber: String?
    }

    struct Endpoint: Encodable, Sendable {
        var name: String
        /// Deliveries still owed: pending, in flight and waiting to retry.
        var owed: Int
        var pending: Int
        var inFlight: Int
        var waitingToRetry: Int
        var dead: Int
    }

    struct Delivery: Encodable, Sendable {
        var deliveryID: Int64
        var eventID: String
        var event: String
        var endpoint: String
        var result: String
        @NullEncoded var status: Int?
        @NullEncoded var requestMs: Int?
        var latencyMs: Int
        var at: Double
        @NullEncoded var error: String?
    }

    struct DeadLetters: Encodable, Sendable {
        var count: Int
        /// Oldest first (up to 100): `POST /v1/dead-letters/{delivery_id}/retry` sends one again.
        var letters: [DeadLetter]
    }

    struct DeadLetter: Encodable, Sendable {
        var deliveryID: Int64
        var eventID: String
        var event: String
        var endpoint: String
        var callKey: String
        var attempts: Int
        var createdAt: Double
        @NullEncoded var lastStatus: Int?
        @NullEncoded var lastError: String?
    }
}
