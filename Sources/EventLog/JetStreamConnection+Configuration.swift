/// What a ``JetStreamConnection`` connects to and how, and the stream it publishes into.
extension JetStreamConnection {
    public struct Configuration: Sendable, Equatable {
        /// Seed servers (`nats://host:4222`, `tls://host:4222`); the client learns the rest of the
        /// cluster from them and fails over between them. Default `nats://127.0.0.1:4222`.
        public var urls: [String] = ["nats://127.0.0.1:4222"]
        /// The connection's name, shown by the server's monitoring (`/connz`). Default `amibridge`.
        public var name = "amibridge"
        /// A `.creds` file (JWT + NKey seed), for servers with decentralised auth. Default none.
        public var credentialsFile: String?
        /// User and password, or a token, for servers configured with them. Default none.
        public var user: String?
        public var password: String?
        public var token: String?
        /// Require TLS; `tlsCAFile` adds the CA that signed the servers' certificates. Default off
        /// (a `tls://` URL turns it on too).
        public var tls = false
        public var tlsCAFile: String?
        /// One connect attempt. Default 2 s.
        public var connectTimeout: Duration = .seconds(2)
        /// Between reconnect attempts to the same server; the client retries forever, also when
        /// no server answers at start (the bridge must start and keep its outbox when NATS is down). Default 1 s.
        public var reconnectWait: Duration = .seconds(1)
        /// How long a JetStream request (a publish's ack, a stream lookup) is waited for. Default 5 s.
        public var requestTimeout: Duration = .seconds(5)

        public init() {}
    }

    /// The stream events are published into, as the bridge creates it when it is missing.
    public struct StreamConfiguration: Sendable, Equatable {
        /// Default `AMIBRIDGE`.
        public var name = "AMIBRIDGE"
        /// Default `amibridge.>`.
        public var subjects = ["amibridge.>"]
        /// 1, 3 or 5 (a stream's replicas cannot exceed the cluster's servers). Default 1.
        public var replicas = 1
        /// Messages with a `Nats-Msg-Id` already stored within this window are acknowledged as
        /// duplicates and not stored again: what lets two bridges publish the same events. Default 30 min.
        public var duplicateWindow: Duration = .seconds(30 * 60)
        /// How long messages are kept; nil keeps them until a limit of the server's. Default 7 days.
        public var maxAge: Duration? = .seconds(7 * 24 * 3600)
        /// File storage (survives a server restart) unless set. Default false.
        public var memoryStorage = false

        public init() {}
    }
}
